"""create_app: build the sandbox Flask app from a SandboxConfig."""

from __future__ import annotations

import logging
import secrets

import requests
from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from cronofy_sandbox.config import SandboxConfig
from cronofy_sandbox.delivery import Deliverer
from cronofy_sandbox.errors import ApiError, is_api_path
from cronofy_sandbox.seed import seed_demo
from cronofy_sandbox.state import EXTENSION_KEY, Sandbox
from cronofy_sandbox.store import Store

log = logging.getLogger(__name__)


def create_app(
    config: SandboxConfig | None = None, *, delivery_session: requests.Session | None = None
) -> Flask:
    """Build a sandbox app with its own storage, seeded with the demo people if asked.

    Callbacks are posted through ``delivery_session`` (default: a session of the app's own);
    ``app.extensions["cronofy_sandbox"].deliverer.close()`` stops their background thread.
    """
    config = config or SandboxConfig()
    # No app-level static route: the UI blueprint serves its own, so a mount never shadows.
    app = Flask(__name__, static_folder=None)
    app.config["SECRET_KEY"] = secrets.token_hex(32)
    # A distinct cookie name so a mounted sandbox never overwrites the host app's session.
    app.config["SESSION_COOKIE_NAME"] = "cronofy_sandbox_session"
    # Larger bodies are refused with 413 before they are read (request_body.py).
    app.config["MAX_CONTENT_LENGTH"] = config.max_body_bytes
    # "/v1/calendars//events" is a JSON 404, not an HTML 308 to a merged path (Flask skips
    # error handlers for routing redirects).
    app.url_map.merge_slashes = False
    store = Store(config.database)
    if config.seed_demo and store.is_empty():
        seed_demo(store)
    app.extensions[EXTENSION_KEY] = Sandbox(
        config, store, Deliverer(config, store, delivery_session)
    )
    _register(app, config)

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> Response:
        return exc.response()

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response | HTTPException:
        # Unknown routes and methods, oversized bodies: JSON under /v1 and /oauth, as Cronofy.
        if not is_api_path(request.path):
            return exc
        return ApiError.from_http(exc).response()

    return app


def _register(app: Flask, config: SandboxConfig) -> None:
    from cronofy_sandbox import (
        api_accounts,
        api_availability,
        api_channels,
        api_events,
        api_smart_invites,
        oauth,
        ui,
    )
    from cronofy_sandbox.gatekeeper import install

    install(app)
    blueprints = (
        oauth.bp,
        api_accounts.bp,
        api_events.bp,
        api_availability.bp,
        api_channels.bp,
        api_smart_invites.bp,
        ui.bp,
    )
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    if config.enable_control_api:
        from cronofy_sandbox import control

        app.register_blueprint(control.bp)

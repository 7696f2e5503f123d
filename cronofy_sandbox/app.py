"""create_app: build the sandbox Flask app from a SandboxConfig."""

from __future__ import annotations

import logging

from flask import Flask, Response

from cronofy_sandbox.config import SandboxConfig
from cronofy_sandbox.delivery import Deliverer
from cronofy_sandbox.errors import ApiError
from cronofy_sandbox.seed import seed_demo
from cronofy_sandbox.state import EXTENSION_KEY, Sandbox
from cronofy_sandbox.store import Store

log = logging.getLogger(__name__)


def create_app(config: SandboxConfig | None = None) -> Flask:
    """Build a sandbox app with its own storage, seeded with the demo people if asked."""
    config = config or SandboxConfig()
    app = Flask(__name__)
    app.config["SECRET_KEY"] = config.signing_secret
    store = Store(config.database)
    if config.seed_demo:
        seed_demo(store)
    app.extensions[EXTENSION_KEY] = Sandbox(config, store, Deliverer(config, store))
    _register(app, config)

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> Response:
        return exc.response()

    return app


def _register(app: Flask, config: SandboxConfig) -> None:
    from cronofy_sandbox import oauth, ui
    from cronofy_sandbox.gatekeeper import install

    install(app)
    for blueprint in (oauth.bp, ui.bp):
        app.register_blueprint(blueprint)
    if False:
        from cronofy_sandbox import control

        app.register_blueprint(control.bp)

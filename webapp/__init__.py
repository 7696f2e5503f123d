"""The calendar bridge web app: ``create_app(config=None, *, clients=None)``."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from webapp import request_ids
from webapp.availability_cache import build_availability_cache
from webapp.clients import (
    SANDBOX_MOUNT_PATH,
    Clients,
    build_clients,
    build_sandbox_app,
    show_captured_mail_in_sandbox,
)
from webapp.config import build_config
from webapp.extensions import csrf, db, init_celery, limiter, login_manager, migrate
from webapp.http_security import install_security_headers
from webapp.inprocess_beat import start_if_configured
from webapp.logging_config import configure_logging
from webapp.models import User
from webapp.security import TokenCipher
from webapp.sync_queue import build_sync_queue

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent

__all__ = ["create_app"]


def create_app(config: Mapping[str, Any] | None = None, *, clients: Clients | None = None) -> Flask:
    """Build the app from the environment, with ``config`` overriding it (tests)."""
    overrides = dict(config or {})
    instance = overrides.get("INSTANCE_PATH") or os.environ.get("INSTANCE_PATH")
    app = Flask(
        __name__,
        instance_path=str(Path(instance or PROJECT_ROOT / "instance").resolve()),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.update(build_config(os.environ, overrides, instance_path=Path(app.instance_path)))
    configure_logging(app.config["LOG_LEVEL"], json_lines=app.config["LOG_FORMAT"] == "json")
    _init_extensions(app)
    request_ids.init_app(app)
    app.extensions["token_cipher"] = TokenCipher(app.config["TOKEN_ENCRYPTION_KEYS"])
    app.extensions["clients"] = clients if clients is not None else build_clients(app.config)
    app.extensions["availability_cache"] = build_availability_cache(app.config)
    app.extensions["sync_queue"] = build_sync_queue(app.config)
    _register_blueprints(app)
    install_security_headers(app, cronofy_app_url=_cronofy_app_url(app))
    if app.config["CRONOFY_SANDBOX"] and app.config["SANDBOX_MOUNT"]:
        _mount_sandbox(app)
    _trust_proxies(app, app.config["TRUSTED_PROXY_HOPS"])
    start_if_configured(app)
    log.info("app ready (mode=%s)", app.config["BRIDGE_MODE"])
    return app


def _init_extensions(app: Flask) -> None:
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to see this page."
    login_manager.session_protection = "basic"
    login_manager.user_loader(_load_user)
    csrf.init_app(app)
    limiter.init_app(app)
    init_celery(app)


def _load_user(user_id: str) -> User | None:
    try:
        return db.session.get(User, int(user_id))
    except ValueError:
        return None


@event.listens_for(Engine, "connect")
def _sqlite_foreign_keys(dbapi_connection: Any, connection_record: Any) -> None:
    """SQLite enforces foreign keys only when asked, per connection."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


def _register_blueprints(app: Flask) -> None:
    from webapp.cli import register_cli
    from webapp.views import (
        account,
        api_keys,
        audit,
        auth,
        availability,
        booking_page,
        bookings,
        connect,
        dashboard,
        enterprise,
        health,
        operations,
        webhooks,
    )
    from webapp.views.api import register_api
    from webapp.views.errors import register_error_handlers

    app.register_blueprint(auth.bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(connect.bp)
    app.register_blueprint(webhooks.bp)
    app.register_blueprint(enterprise.bp)
    app.register_blueprint(api_keys.bp)
    register_api(app)
    # Pages link static/favicon.svg; browsers still ask for /favicon.ico where none is linked
    # (the sandbox's pages, JSON responses).
    app.add_url_rule("/favicon.ico", "favicon", lambda: app.send_static_file("favicon.svg"))
    app.register_blueprint(availability.bp)
    app.register_blueprint(bookings.bp)
    app.register_blueprint(booking_page.bp)
    app.register_blueprint(account.bp)
    app.register_blueprint(audit.bp)
    app.register_blueprint(operations.bp)
    register_error_handlers(app)
    register_cli(app)


def _cronofy_app_url(app: Flask) -> str | None:
    cronofy = app.extensions["clients"].cronofy
    url = getattr(cronofy, "app_base_url", None)
    return url if isinstance(url, str) else app.config.get("CRONOFY_APP_BASE_URL")


def _trust_proxies(app: Flask, hops: int) -> None:
    """Behind reverse proxies, take the client address and scheme from their headers."""
    if hops == 0:
        return  # X-Forwarded-* from the internet are ignored: anyone can send them
    from werkzeug.middleware.proxy_fix import ProxyFix

    app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
        app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops
    )
    log.info("trusting X-Forwarded-* of %d proxy hop(s)", hops)


def _mount_sandbox(app: Flask) -> None:
    from werkzeug.middleware.dispatcher import DispatcherMiddleware

    sandbox = build_sandbox_app(app.config)
    app.extensions["cronofy_sandbox"] = sandbox
    show_captured_mail_in_sandbox(app.extensions["clients"].mailer, sandbox)
    app.wsgi_app = DispatcherMiddleware(  # type: ignore[method-assign]
        app.wsgi_app, {SANDBOX_MOUNT_PATH: sandbox}
    )
    log.info("cronofy sandbox mounted at %s", SANDBOX_MOUNT_PATH)

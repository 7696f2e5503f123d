"""Liveness and readiness probes."""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import SQLAlchemyError

from webapp import metrics
from webapp.clients import get_clients
from webapp.extensions import db

log = logging.getLogger(__name__)

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """The process is up."""
    return jsonify(status="ok")


def configured_services(config: Any) -> dict[str, str]:
    """Which optional services this instance uses (names only, never URLs or secrets)."""
    return {
        "celery_broker": "redis" if config.get("CELERY_BROKER_URL") else "eager (in-process)",
        "bookly": _bookly_kind(config.get("BOOKLY_DATABASE_URL")),
        "cronofy": "sandbox" if config.get("CRONOFY_SANDBOX") else "live",
        "cronofy_data_center": str(config.get("CRONOFY_DATA_CENTER")),
        "mail": "smtp" if config.get("MAIL_URL") else "captured",
        "rate_limit_storage": str(config.get("RATELIMIT_STORAGE_URI", "")).split(":", 1)[0],
    }


def _bookly_kind(url: str | None) -> str:
    if not url:
        return "not configured"
    return "sqlite (demo)" if url.startswith("sqlite") else "mysql"


@bp.get("/readyz")
def readyz() -> ResponseReturnValue:
    """Ready when our database, the Bookly database and the broker (when configured) answer;
    lists the configured optional services. Names only: never a URL or a secret."""
    services = configured_services(current_app.config)
    checks = {
        "database": _database(),
        "bookly": _bookly(),
        "broker": _broker(current_app.config.get("CELERY_BROKER_URL")),
    }
    ready = all(state in ("ok", "not configured", "eager") for state in checks.values())
    status = "ready" if ready else "unavailable"
    return jsonify(status=status, **checks, services=services), 200 if ready else 503


def _database() -> str:
    try:
        db.session.execute(sa.text("SELECT 1"))
    except SQLAlchemyError:
        log.warning("readiness check: database unreachable", exc_info=True)
        db.session.rollback()
        return "unreachable"
    return "ok"


def _bookly() -> str:
    bookly = get_clients().bookly
    if bookly is None:
        return "not configured"
    try:
        with bookly.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except SQLAlchemyError as exc:
        log.warning("readiness check: Bookly database unreachable (%s)", type(exc).__name__)
        return "unreachable"
    return "ok"


def _broker(url: str | None) -> str:
    if not url:
        return "eager"
    import redis

    try:
        redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0).ping()
    except (redis.RedisError, OSError) as exc:
        log.warning("readiness check: broker unreachable (%s)", type(exc).__name__)
        return "unreachable"
    return "ok"


@bp.get("/metrics")
def prometheus_metrics() -> ResponseReturnValue:
    """Prometheus metrics for loopback callers or the METRICS_TOKEN bearer; 404 otherwise."""
    forwarded = "X-Forwarded-For" in request.headers or "Forwarded" in request.headers
    allowed = metrics.may_scrape(
        request.remote_addr,
        request.headers.get("Authorization"),
        current_app.config.get("METRICS_TOKEN"),
        untrusted_proxy=forwarded and current_app.config["TRUSTED_PROXY_HOPS"] == 0,
    )
    if not allowed:
        abort(404)
    return Response(metrics.exposition(), headers={"Content-Type": metrics.CONTENT_TYPE})

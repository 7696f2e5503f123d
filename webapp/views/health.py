"""Liveness and readiness probes."""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import SQLAlchemyError

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
    """Ready when our database answers; lists the configured optional services."""
    services = configured_services(current_app.config)
    try:
        db.session.execute(sa.text("SELECT 1"))
    except SQLAlchemyError:
        log.warning("readiness check: database unreachable", exc_info=True)
        db.session.rollback()
        return jsonify(status="unavailable", database="unreachable", services=services), 503
    return jsonify(status="ready", database="ok", services=services)

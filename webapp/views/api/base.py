"""The /api/v1 blueprint: bearer-key authentication, a body size limit and a request budget
per key, for every request.

The API authenticates with ``Authorization: Bearer <API key>`` only, never with the session
cookie, so cross-site request forgery cannot ride on a browser's login: the blueprint is
exempt from CSRF (``webapp.views.api.register_api``) while every cookie form keeps it.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, g, request
from flask_limiter.util import get_remote_address

from webapp.extensions import limiter
from webapp.models import ApiKey
from webapp.services import api_keys
from webapp.views.api.errors import ApiError

log = logging.getLogger(__name__)

bp = Blueprint("api", __name__, url_prefix="/api/v1")

# API requests are small JSON documents; anything bigger is refused before it is read.
MAX_BODY_BYTES = 16 * 1024
# Per key (per address without a well-formed key), so one client cannot starve the others.
# Config API_REQUESTS_PER_KEY overrides it.
API_REQUESTS_PER_KEY = "600 per minute"
_REALM = 'Bearer realm="api"'


def _presented_key() -> str:
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    return presented.strip() if scheme.lower() == "bearer" else ""


def _rate_limit_key() -> str:
    key_id = api_keys.key_id_of(_presented_key())
    return f"api-key:{key_id}" if key_id else f"api-address:{get_remote_address()}"


limiter.limit(
    lambda: str(current_app.config.get("API_REQUESTS_PER_KEY", API_REQUESTS_PER_KEY)),
    key_func=_rate_limit_key,
    scope="api",
    error_message="Too many requests with this API key. Wait a minute and try again.",
)(bp)


@bp.before_request
def limit_body_size() -> None:
    """413 for a body over the API's limit, declared or streamed."""
    request.max_content_length = MAX_BODY_BYTES
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise ApiError(
            413, f"The request body is over the API's limit of {MAX_BODY_BYTES // 1024} KB."
        )


@bp.before_request
def authenticate() -> None:
    """Every /api/v1 request carries a live API key, else 401."""
    presented = _presented_key()
    if not presented:
        raise ApiError(
            401,
            "Send an API key as 'Authorization: Bearer <key>'. "
            "An admin creates keys on the API keys page.",
            headers={"WWW-Authenticate": _REALM},
        )
    api_key = api_keys.authenticate(presented)
    if api_key is None:
        raise ApiError(
            401,
            "This API key is not valid or has been revoked. Ask an admin for a new one.",
            code="invalid_api_key",
            headers={"WWW-Authenticate": f'{_REALM}, error="invalid_token"'},
        )
    g.api_key = api_key


@bp.after_request
def never_cache(response: Response) -> Response:
    """API answers are one organisation's data: no shared cache may keep them."""
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def current_api_key() -> ApiKey:
    """The key that authenticated this request (every /api/v1 view has one)."""
    api_key = g.get("api_key")
    if not isinstance(api_key, ApiKey):
        raise ApiError(401, "Send an API key as 'Authorization: Bearer <key>'.")
    return api_key


def organisation_id() -> int:
    """The organisation whose data this request may see: the key's."""
    return current_api_key().organisation_id

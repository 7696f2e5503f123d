"""The JSON API: ``/api/v1/...`` (bearer API keys) and its OpenAPI 3.1 document.

Layout:
- ``base``: the ``/api/v1`` blueprint ``bp``, authentication (``organisation_id()`` is the
  key's organisation: scope every query by it), the 16 KB body limit;
- ``schemas``: pydantic request/response models (the single source of validation and docs);
- ``openapi``: ``endpoint(response=..., errors=...)`` and the spectree instance;
- ``errors``: ``ApiError(status, message, code=..., fields=...)``, the one error shape;
- one module per area with its views (``catalogue``; add e.g. ``availability``).

Adding an endpoint: write the view in a module of this package and import that module
below (the import adds its views to ``bp``)::

    @bp.get("/availability")
    @endpoint(response=AvailabilityResponse, errors=[HTTPStatus.NOT_FOUND])
    def availability(query: AvailabilityQuery) -> AvailabilityResponse:
        ...  # query is validated; raise ApiError(404, ..., fields={"service": ...})

A test checks that the document at /api/openapi.json lists every /api/v1 route.
"""

from __future__ import annotations

from flask import Blueprint, Flask, jsonify
from flask.typing import ResponseReturnValue

from webapp.extensions import csrf
from webapp.views.api import (  # noqa: F401 - their views register on bp
    availability,
    bookings,
    catalogue,
)
from webapp.views.api.base import bp
from webapp.views.api.errors import ApiError, handle_api_error
from webapp.views.api.openapi import openapi_document

docs_bp = Blueprint("api_docs", __name__, url_prefix="/api")


@docs_bp.get("/openapi.json")
def openapi() -> ResponseReturnValue:
    """The OpenAPI 3.1 document of /api/v1 (public: it holds no data)."""
    return jsonify(openapi_document())


def register_api(app: Flask) -> None:
    """Register the API blueprints, its error handler and its CSRF exemption."""
    csrf.exempt(bp)
    app.register_blueprint(bp)
    app.register_blueprint(docs_bp)
    app.register_error_handler(ApiError, handle_api_error)
    with app.app_context():
        # Built once, now: a schema that cannot be described fails at start-up, and no two
        # first requests race to build it.
        openapi_document()

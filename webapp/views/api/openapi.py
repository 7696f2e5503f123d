"""Request validation and the OpenAPI 3.1 document, both from the schemas (spectree + pydantic).

Every /api/v1 view is declared with ``endpoint``; spectree validates the query (or JSON body)
against the pydantic model before the view runs, hands the parsed model to the view's
``query`` (or ``json``) parameter, checks the response against the declared model, and puts
all of it into the document served at ``/api/openapi.json``. A request that does not fit its
schema gets 422 with one message per field, in the API's error shape.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from http import HTTPStatus
from typing import Any

from flask import Request
from flask import Response as FlaskResponse
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from spectree import Response, SecurityScheme, SecuritySchemeData, SpecTree
from spectree.models import SecureType

from webapp.views.api.errors import ApiError
from webapp.views.api.schemas import ISO_EXAMPLE, ErrorResponse

log = logging.getLogger(__name__)

# A view returns its response model; once declared, Flask gets the serialised response.
View = Callable[..., BaseModel | tuple[BaseModel, int] | tuple[BaseModel, int, dict[str, str]]]
DeclaredView = Callable[..., FlaskResponse]

BEARER_SCHEME = "bearerAuth"
# Friendlier words for pydantic's built-in error types (custom errors carry their own).
_MESSAGES = {
    "missing": "Required.",
    "extra_forbidden": "Not a field of this request; check its spelling.",
    "int_parsing": "Must be a whole number.",
    "int_type": "Must be a whole number.",
    "greater_than": "Must be a positive number.",
    "timezone_aware": f"Needs a UTC offset or Z, e.g. {ISO_EXAMPLE}.",
    "datetime_parsing": f"Must be an ISO 8601 date and time with an offset, e.g. {ISO_EXAMPLE}.",
    "datetime_from_date_parsing": (
        f"Must be an ISO 8601 date and time with an offset, e.g. {ISO_EXAMPLE}."
    ),
    "datetime_type": f"Must be an ISO 8601 date and time with an offset, e.g. {ISO_EXAMPLE}.",
    "string_too_long": "Too long.",
    "string_too_short": "Too short.",
}


def field_messages(exc: ValidationError) -> dict[str, str]:
    """One message per offending field, keyed by the name the client sent."""
    fields: dict[str, str] = {}
    for error in exc.errors(include_url=False, include_input=False):
        name = ".".join(str(part) for part in error["loc"]) or "request"
        fields.setdefault(name, _message(error))
    return fields


def _message(error: ErrorDetails) -> str:
    return _MESSAGES.get(error["type"], error["msg"])


def _reject_invalid_request(
    req: Request, resp: Any, error: Exception | None, instance: Any, adapter: Any
) -> None:
    """spectree's before hook: a request that failed validation becomes our 422."""
    if req.is_json and req.content_length and req.get_json(silent=True) is None:
        raise ApiError(400, "The body is not valid JSON.", code="invalid_json")
    if isinstance(error, ValidationError):
        raise ApiError(
            422,
            "Some of what you sent is not valid; see fields.",
            fields=field_messages(error),
        )


def _refuse_invalid_response(
    req: Request, resp: Any, error: Exception | None, instance: Any, adapter: Any
) -> None:
    """spectree's after hook: a response that breaks its own schema is our bug, a 500."""
    if error is not None:
        raise RuntimeError(f"API response broke its schema on {req.path}") from error


api_spec = SpecTree(
    "flask",
    mode="strict",
    title="Calendar bridge for Bookly API",
    version="1",
    description=(
        "Instructors, Bookly services and availability of one organisation. Authenticate "
        "with `Authorization: Bearer <API key>` (an admin creates keys on the API keys page "
        "or with `flask --app wsgi api-keys create`). Every error has the shape "
        '`{"error": {"code", "message", "fields"}}`.'
    ),
    page_templates={},
    security_schemes=[
        SecurityScheme(
            name=BEARER_SCHEME,
            data=SecuritySchemeData(
                type=SecureType.HTTP, scheme="bearer", description="An API key (bcb_…)."
            ),
        )
    ],
    security={BEARER_SCHEME: []},
    before=_reject_invalid_request,
    after=_refuse_invalid_response,
    validation_error_status=422,
    validation_error_model=ErrorResponse,
    naming_strategy=lambda model: model.__name__,
    nested_naming_strategy=lambda _parent, child: child,
)

# Errors every /api/v1 endpoint can answer with (422 is added by spectree).
COMMON_ERRORS = (HTTPStatus.UNAUTHORIZED,)


def endpoint(
    *,
    response: type[BaseModel],
    errors: Iterable[HTTPStatus] = (),
    tags: Iterable[str] = (),
    status: HTTPStatus = HTTPStatus.OK,
    error_models: Mapping[HTTPStatus, type[BaseModel]] | None = None,
) -> Callable[[View], DeclaredView]:
    """Declare an /api/v1 view: validated input (from its ``query``/``json`` parameter's
    annotation), the response model, the error statuses it documents.

    Use under the route decorator::

        @bp.get("/availability")
        @endpoint(response=AvailabilityResponse, errors=[HTTPStatus.NOT_FOUND])
        def availability(query: AvailabilityQuery) -> AvailabilityResponse: ...
    """
    documented: dict[str, type[BaseModel]] = {
        f"HTTP_{int(code)}": ErrorResponse for code in (*COMMON_ERRORS, *errors)
    }
    documented.update({f"HTTP_{int(code)}": m for code, m in (error_models or {}).items()})
    documented[f"HTTP_{int(status)}"] = response

    def decorate(view: View) -> DeclaredView:
        validated: DeclaredView = api_spec.validate(
            resp=Response(**documented),
            tags=list(tags),
            operation_id=view.__name__,
        )(view)
        return validated

    return decorate


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of every endpoint (needs an app context).

    spectree builds it once per process, from the first app's routes (every app of ours has
    the same /api/v1 routes); ``register_api`` builds it at start-up.
    """
    document: dict[str, Any] = api_spec.spec
    return document

"""The JSON API's one error shape: ``{"error": {"code", "message", "fields"}}``.

Every non-success response under /api uses it: our own refusals (``ApiError``), validation
failures (with a message per field), and Flask's own 404/405/413/500 (see
``webapp.views.errors``, which calls ``error_body`` for /api paths).
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import Response, jsonify

# One stable code per HTTP status we answer with, for errors that carry no code of their own.
STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}


class ApiError(Exception):
    """Raise in an API view (or hook) to answer with the error shape."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        fields: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(message)
        self.extra = dict(extra or {})
        self.status = status
        self.code = code or STATUS_CODES.get(status, "error")
        self.message = message
        self.fields = dict(fields or {})
        self.headers = dict(headers or {})


def unknown_instructor(field: str = "instructor") -> ApiError:
    """404 for an instructor id the key's organisation does not have."""
    return ApiError(
        404,
        "There is no such instructor in your organisation.",
        code="unknown_instructor",
        fields={field: "No instructor with this id in your organisation; see /api/v1/instructors."},
    )


def error_body(
    status: int,
    message: str,
    *,
    code: str | None = None,
    fields: Mapping[str, str] | None = None,
    extra: Mapping[str, object] | None = None,
) -> Response:
    """A JSON error response in the API's shape (``extra``: members an error code adds)."""
    response = jsonify(
        error={
            **dict(extra or {}),
            "code": code or STATUS_CODES.get(status, "error"),
            "message": message,
            "fields": dict(fields or {}),
        }
    )
    response.status_code = status
    return response


def handle_api_error(exc: ApiError) -> Response:
    """Flask error handler for ApiError."""
    response = error_body(
        exc.status, exc.message, code=exc.code, fields=exc.fields, extra=exc.extra
    )
    response.headers.update(exc.headers)
    return response

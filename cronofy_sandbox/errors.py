"""API errors and the response bodies Cronofy uses for them.

Bodies the reference confirms: 422 `{"errors": {field: [{"key", "description"}]}}` and the
OAuth error `{"error": "invalid_grant"}` on /oauth/token (exact body is [INF] in the reference;
RFC 6749 §5.2 shape chosen). Bodies the reference does not document (401, 403, 404, 429) are
empty JSON-less responses here with RFC 6750 `WWW-Authenticate` hints on 401/403 ([INF]).
"""

from __future__ import annotations

import json

from flask import Response


class ApiError(Exception):
    """An error response; raised anywhere below a view and rendered by the app."""

    def __init__(
        self, status: int, body: object | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}

    def response(self) -> Response:
        """Render this error as an HTTP response."""
        if self.body is None:
            resp = Response(b"", status=self.status)
        else:
            resp = Response(json.dumps(self.body), status=self.status, mimetype="application/json")
        for name, value in self.headers.items():
            resp.headers[name] = value
        return resp


class ValidationFailed(ApiError):
    """422 with one or more field errors."""

    def __init__(self, errors: dict[str, list[dict[str, str]]]) -> None:
        super().__init__(422, {"errors": errors})


def invalid(field: str, key: str, description: str) -> ValidationFailed:
    """A 422 for one field, e.g. invalid("tzid", "required", "tzid must be specified")."""
    return ValidationFailed({field: [{"key": f"errors.{key}", "description": description}]})


def unauthorized() -> ApiError:
    """401: the token is unknown, expired or revoked."""
    return ApiError(401, None, {"WWW-Authenticate": 'Bearer error="invalid_token"'})


def forbidden(scope: str) -> ApiError:
    """403: the token is valid but lacks a scope."""
    return ApiError(
        403, None, {"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{scope}"'}
    )


def not_found() -> ApiError:
    """404: unknown resource, or one the token may not see."""
    return ApiError(404)


def oauth_error(error: str, status: int = 400) -> ApiError:
    """An RFC 6749 error body on the token endpoint (invalid_grant, invalid_client...)."""
    return ApiError(status, {"error": error}, {"Cache-Control": "no-store", "Pragma": "no-cache"})


class FieldErrors:
    """Collects 422 field errors so one response can report several fields."""

    def __init__(self) -> None:
        self.errors: dict[str, list[dict[str, str]]] = {}

    def add(self, field: str, key: str, description: str) -> None:
        """Record one error for `field` (key without the `errors.` prefix)."""
        self.errors.setdefault(field, []).append(
            {"key": f"errors.{key}", "description": description}
        )

    def raise_if_any(self) -> None:
        """Raise a 422 if anything was recorded."""
        if self.errors:
            raise ValidationFailed(self.errors)

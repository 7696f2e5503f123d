"""API errors and the response bodies Cronofy uses for them.

Bodies the reference confirms: 422 `{"errors": {field: [{"key", "description"}]}}` and the
OAuth error `{"error": "invalid_grant"}` on /oauth/token (exact body is [INF] in the reference;
RFC 6749 §5.2 shape chosen). Bodies the reference does not document (401, 403, 404, 429) are
empty here with RFC 6750 `WWW-Authenticate` hints on 401/403 ([INF]). Nothing under /v1 or
/oauth is labelled HTML: empty bodies carry the JSON content type (what a Rails API such as
Cronofy's answers for a bare status, [INF]), and routing errors (unknown path or method,
oversized body) get an RFC 6749-style `{"error", "error_description"}` body ([INF]).
"""

from __future__ import annotations

import json

from flask import Response
from werkzeug.exceptions import HTTPException

JSON_TYPE = "application/json; charset=utf-8"


def is_api_path(path: str) -> bool:
    """Whether routing errors on `path` answer JSON: all of /v1 and /oauth.

    The consent pages under /oauth/authorize still render their own HTML; only unknown
    paths, wrong methods and oversized bodies there answer JSON.
    """
    return path in ("/v1", "/oauth") or path.startswith(("/v1/", "/oauth/"))


def empty(status: int) -> Response:
    """A bodiless API answer (202 Accepted, 200 on revoke...) with the JSON content type."""
    return Response(b"", status=status, content_type=JSON_TYPE)


class ApiError(Exception):
    """An error response; raised anywhere below a view and rendered by the app."""

    def __init__(
        self, status: int, body: object | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}

    @classmethod
    def from_http(cls, exc: HTTPException) -> ApiError:
        """A routing error (404, 405, 413...) as a JSON API error."""
        status = exc.code or 500
        name = (exc.name or "error").lower().replace(" ", "_")
        # Keep what the exception adds (Allow on 405), not its HTML content type.
        headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
        return cls(status, {"error": name, "error_description": exc.description}, headers)

    def response(self) -> Response:
        """Render this error as an HTTP response."""
        if self.body is None:
            resp = empty(self.status)
        else:
            resp = Response(json.dumps(self.body), status=self.status, content_type=JSON_TYPE)
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

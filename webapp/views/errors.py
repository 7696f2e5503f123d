"""Clean error responses: an HTML page, or JSON under /api/; never a stack trace."""

from __future__ import annotations

import logging

from flask import Flask, Response, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from webapp.views.api.errors import error_body

log = logging.getLogger(__name__)

# Headers of an HTTP error worth passing on (e.g. Allow on 405, Retry-After on 429).
_KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")

FRIENDLY = {
    400: "The request could not be understood. Check what you sent and try again.",
    401: "Please log in first.",
    403: "You are not allowed to do that.",
    404: "There is nothing here. Check the address.",
    405: "That action is not possible on this address.",
    413: "What you sent is too large.",
    429: "Too many attempts. Wait a minute and try again.",
    500: "Something went wrong on our side. It has been logged; please try again later.",
}


def wants_json() -> bool:
    """API paths get JSON errors."""
    return request.path.startswith("/api/")


def error_response(code: int, name: str, message: str) -> Response:
    """An error page, or under /api/ the API's JSON error shape, with the given status."""
    if wants_json():
        response = error_body(code, message)
    else:
        html = render_template("errors/error.html", code=code, name=name, message=message)
        response = Response(html, mimetype="text/html")
    response.status_code = code
    return response


def handle_http_error(exc: HTTPException) -> Response:
    """Any werkzeug HTTP error (404, 405, 413, 429, ...)."""
    code = exc.code or 500
    message = FRIENDLY.get(code, exc.description or "")
    if code == 429 and exc.description:
        message = exc.description
    response = error_response(code, exc.name, message)
    for name, value in exc.get_headers():
        if name in _KEPT_HEADERS:
            response.headers[name] = value
    return response


def handle_csrf_error(exc: CSRFError) -> Response:
    """A form posted without a valid CSRF token."""
    log.warning("CSRF check failed on %s %s", request.method, request.path)
    message = "The form expired or did not come from this site. Reload the page and try again."
    return error_response(400, "Bad Request", message)


def handle_unexpected(exc: Exception) -> Response:
    """Anything unexpected: log it with the traceback, show a plain 500."""
    log.error("unhandled error on %s %s", request.method, request.path, exc_info=exc)
    return error_response(500, "Internal Server Error", FRIENDLY[500])


def register_error_handlers(app: Flask) -> None:
    """Install the handlers on the app."""
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(Exception, handle_unexpected)

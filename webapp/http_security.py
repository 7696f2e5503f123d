"""Security headers on every response of our app (the mounted sandbox sets its own)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response
from flask_login import current_user

HSTS_VALUE = "max-age=31536000; includeSubDomains"


def _origin(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


def content_security_policy(form_targets: tuple[str, ...] = ()) -> str:
    """Our CSP: only our own assets; no inline code; never framed."""
    # Browsers apply form-action to the redirect after a form POST, and POST /connect
    # redirects to Cronofy's authorize page: its origin must be allowed.
    form_action = " ".join(("'self'", *form_targets))
    return "; ".join(
        (
            "default-src 'self'",
            "img-src 'self' data:",
            "object-src 'none'",
            "base-uri 'self'",
            f"form-action {form_action}",
            "frame-ancestors 'none'",
        )
    )


def install_security_headers(app: Flask, *, cronofy_app_url: str | None) -> None:
    """Add CSP, nosniff, framing, referrer and (on https) HSTS headers to every response."""
    target = _origin(cronofy_app_url)
    public = _origin(app.config["PUBLIC_BASE_URL"])
    targets = tuple(t for t in (target,) if t and t != public)
    csp = content_security_policy(targets)
    https = bool(app.config["HTTPS"])

    @app.after_request
    def _security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", csp)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if https:
            headers.setdefault("Strict-Transport-Security", HSTS_VALUE)
        if current_user and current_user.is_authenticated:
            headers.setdefault("Cache-Control", "no-store")
        return response

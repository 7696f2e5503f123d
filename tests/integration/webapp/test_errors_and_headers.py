"""Error pages, JSON errors under /api/, security headers, health probes."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.webapp_fixtures import MakeApp


def test_unknown_route_gets_an_html_404(client: FlaskClient) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "There is nothing here" in response.get_data(as_text=True)


def test_unknown_api_route_gets_a_json_404(client: FlaskClient) -> None:
    response = client.get("/api/no-such-thing")
    assert response.status_code == 404
    assert response.json == {
        "error": {
            "code": "not_found",
            "message": "There is nothing here. Check the address.",
            "fields": {},
        }
    }


def test_wrong_method_gets_405_with_allow(client: FlaskClient) -> None:
    response = client.delete("/login")
    assert response.status_code == 405
    assert response.mimetype == "text/html"
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}


def test_oversized_body_gets_413(client: FlaskClient) -> None:
    response = client.post("/login", data={"email": "x" * (2 * 1024 * 1024)})
    assert response.status_code == 413


def test_unexpected_error_gets_a_plain_500_without_traceback(make_app: MakeApp) -> None:
    app = make_app(PROPAGATE_EXCEPTIONS=False)

    @app.get("/api/boom")
    def boom() -> str:
        raise RuntimeError("secret internals")

    @app.get("/boom")
    def boom_html() -> str:
        raise RuntimeError("secret internals")

    client = app.test_client()
    api = client.get("/api/boom")
    assert api.status_code == 500
    assert api.json is not None
    assert api.json["error"]["code"] == "internal_error"
    page = client.get("/boom")
    assert page.status_code == 500
    text = page.get_data(as_text=True)
    assert "Something went wrong on our side" in text
    assert "secret internals" not in text
    assert "Traceback" not in text


@pytest.mark.requirement(22)
def test_html_responses_carry_the_security_headers(client: FlaskClient) -> None:
    headers = client.get("/login").headers
    csp = headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "object-src 'none'" in csp
    assert "unsafe-inline" not in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "Strict-Transport-Security" not in headers  # plain http demo


def test_error_pages_carry_the_security_headers(client: FlaskClient) -> None:
    headers = client.get("/missing").headers
    assert headers["X-Frame-Options"] == "DENY"
    assert "Content-Security-Policy" in headers


@pytest.mark.requirement(22)
def test_https_deployments_send_hsts_and_secure_host_cookies(make_app: MakeApp) -> None:
    client = make_app(PUBLIC_BASE_URL="https://bridge.example.org").test_client()
    response = client.get("/login", base_url="https://bridge.example.org")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-session=")
    assert "Secure" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Domain" not in cookie


def test_live_cronofy_authorize_host_is_an_allowed_form_target(make_app: MakeApp) -> None:
    app = make_app(
        CRONOFY_CLIENT_ID="live-client",
        CRONOFY_CLIENT_SECRET="live-secret",
        CRONOFY_DATA_CENTER="de",
    )
    csp = app.test_client().get("/login").headers["Content-Security-Policy"]
    assert "form-action 'self' https://app-de.cronofy.com" in csp


def test_healthz_answers(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_readyz_reports_database_and_configured_services(client: FlaskClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json
    assert body is not None
    assert body["status"] == "ready"
    assert body["database"] == "ok"
    assert body["services"]["cronofy"] == "sandbox"
    assert body["services"]["celery_broker"] == "eager (in-process)"
    assert body["services"]["mail"] == "captured"
    assert body["services"]["bookly"] == "not configured"


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_leak_no_urls_or_secrets(app: Flask, client: FlaskClient, path: str) -> None:
    text = client.get(path).get_data(as_text=True)
    assert app.config["SECRET_KEY"] not in text
    assert "sqlite:" not in text
    assert "postgresql" not in text


def test_readyz_is_503_when_the_database_is_unreachable(make_app: MakeApp, tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "dir" / "db.sqlite3"
    client = make_app(DATABASE_URL=f"sqlite:///{missing}").test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json is not None
    assert response.json["database"] == "unreachable"

"""Every way a request to /api/v1 can fail gets the one error shape, and changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from tests.integration.api.conftest import Tenants, api_get, assert_error, bearer
from tests.webapp_fixtures import MakeApp, log_in
from webapp.extensions import db
from webapp.models import ApiKey
from webapp.services import api_keys
from webapp.views.api.base import MAX_BODY_BYTES


def test_a_live_key_gets_the_instructors(client: FlaskClient, key_a: str) -> None:
    response = api_get(client, "/api/v1/instructors", key_a)
    assert response.status_code == 200
    assert response.json is not None
    assert [i["name"] for i in response.json["instructors"]] == ["Ada Lovelace", "Grace Hopper"]
    assert response.headers["Cache-Control"] == "no-store"


def test_no_key_is_401_with_a_bearer_challenge(client: FlaskClient, key_a: str) -> None:
    response = client.get("/api/v1/instructors")
    error = assert_error(response, 401, "unauthorized")
    assert "Authorization: Bearer" in error["message"]
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"'


@pytest.mark.parametrize(
    ("header", "code"),
    [
        ("Basic YWRtaW46c2VjcmV0", "unauthorized"),  # another scheme
        ("Bearer", "unauthorized"),  # no key
        ("Bearer not-a-key", "invalid_api_key"),  # malformed
        ("Bearer bcb_000000000000_" + "A" * 43, "invalid_api_key"),  # unknown key id
    ],
)
def test_a_missing_or_malformed_key_is_401(
    client: FlaskClient, key_a: str, header: str, code: str
) -> None:
    response = client.get("/api/v1/instructors", headers={"Authorization": header})
    assert_error(response, 401, code)
    assert response.headers["WWW-Authenticate"].startswith('Bearer realm="api"')


def test_a_known_key_id_with_a_wrong_secret_is_401(client: FlaskClient, key_a: str) -> None:
    forged = key_a[:-4] + ("AAAA" if not key_a.endswith("AAAA") else "BBBB")
    response = api_get(client, "/api/v1/instructors", forged)
    assert_error(response, 401, "invalid_api_key")
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_token"'


def test_a_revoked_key_is_401(app: Flask, client: FlaskClient, key_a: str) -> None:
    assert api_get(client, "/api/v1/instructors", key_a).status_code == 200
    with app.app_context():
        api_keys.revoke_key(api_keys.find_key(key_a), actor_label="test")
    assert_error(api_get(client, "/api/v1/instructors", key_a), 401, "invalid_api_key")


def test_a_logged_in_browser_without_a_key_is_401(
    client: FlaskClient, tenants: Tenants, key_a: str
) -> None:
    """The session cookie never authenticates the API (so CSRF cannot ride on it)."""
    assert log_in(client, tenants.admin_a_email, "correct horse battery").status_code == 302
    assert_error(client.get("/api/v1/instructors"), 401, "unauthorized")


def test_use_is_recorded_at_most_once_a_minute(app: Flask, client: FlaskClient, key_a: str) -> None:
    def last_used() -> datetime | None:
        with app.app_context():
            return db.session.scalar(sa.select(ApiKey.last_used_at))

    assert last_used() is None
    api_get(client, "/api/v1/instructors", key_a)
    first = last_used()
    assert first is not None
    assert datetime.now(UTC) - first < timedelta(seconds=30)
    api_get(client, "/api/v1/instructors", key_a)
    assert last_used() == first


def test_an_unknown_api_route_is_404_in_the_error_shape(client: FlaskClient, key_a: str) -> None:
    assert_error(api_get(client, "/api/v1/no-such-thing", key_a), 404, "not_found")
    assert_error(client.get("/api/v2/instructors"), 404, "not_found")


def test_a_wrong_method_is_405_with_allow(client: FlaskClient, key_a: str) -> None:
    response = client.delete("/api/v1/instructors", headers=bearer(key_a))
    assert_error(response, 405, "method_not_allowed")
    assert "GET" in response.headers["Allow"]


def test_an_oversize_body_is_413_before_the_key_is_checked(client: FlaskClient, key_a: str) -> None:
    body = b"{" + b" " * MAX_BODY_BYTES + b"}"
    response = client.get(
        "/api/v1/instructors", data=body, content_type="application/json", headers=bearer(key_a)
    )
    error = assert_error(response, 413, "payload_too_large")
    assert "16 KB" in error["message"]
    assert_error(client.get("/api/v1/instructors", data=body), 413, "payload_too_large")


def test_a_body_within_the_limit_is_accepted(client: FlaskClient, key_a: str) -> None:
    body = b" " * (MAX_BODY_BYTES - 1)
    assert api_get(client, "/api/v1/instructors", key_a, data=body).status_code == 200


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ("instructor=abc", {"instructor": "whole number"}),
        ("instructor=0", {"instructor": "positive"}),
        ("instructr=1", {"instructr": "Not a field of this request"}),
    ],
)
def test_bad_query_parameters_are_422_with_a_message_per_field(
    client: FlaskClient, key_a: str, query: str, fields: dict[str, str]
) -> None:
    response = api_get(client, f"/api/v1/services?{query}", key_a)
    assert_error(response, 422, "validation_failed", fields)


def test_an_unexpected_error_is_a_plain_500_in_the_error_shape(make_app: MakeApp) -> None:
    app = make_app(PROPAGATE_EXCEPTIONS=False)

    @app.get("/api/v1/boom")
    def boom() -> str:
        raise RuntimeError("secret internals")

    response = app.test_client().get("/api/v1/boom")
    error = assert_error(response, 500, "internal_error")
    assert "secret internals" not in response.get_data(as_text=True)
    assert "Traceback" not in error["message"]


def test_services_without_bookly_configured_are_503(
    make_app: MakeApp, tenants: Tenants, key_a: str
) -> None:
    client = make_app(BOOKLY_DATABASE_URL=None).test_client()
    assert_error(api_get(client, "/api/v1/services", key_a), 503, "no_bookly")


def test_services_while_bookly_is_unreachable_are_503(
    make_app: MakeApp, tenants: Tenants, key_a: str
) -> None:
    client = make_app(BOOKLY_DATABASE_URL="mysql+pymysql://root@127.0.0.1:1/bookly").test_client()
    error = assert_error(api_get(client, "/api/v1/services", key_a), 503, "unavailable")
    assert "try again" in error["message"]


def test_each_key_has_its_own_request_budget(
    make_app: MakeApp, tenants: Tenants, key_a: str, key_b: str
) -> None:
    client = make_app(API_REQUESTS_PER_KEY="2 per minute").test_client()
    for _ in range(2):
        assert api_get(client, "/api/v1/instructors", key_a).status_code == 200
    response = api_get(client, "/api/v1/instructors", key_a)
    error = assert_error(response, 429, "rate_limited")
    assert "Too many requests with this API key" in error["message"]
    assert int(response.headers["Retry-After"]) > 0
    assert api_get(client, "/api/v1/instructors", key_b).status_code == 200

"""The admins' API keys page: create (the key shown once), revoke, and who may see it."""

from __future__ import annotations

import re

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from tests.integration.api.conftest import PASSWORD, Tenants, api_get, issue_key
from tests.webapp_fixtures import csrf_token, log_in
from webapp.extensions import db
from webapp.models import ApiKey, AuditEvent

KEY_RE = re.compile(r'<code id="new-key-value">(bcb_[0-9a-f]{12}_[A-Za-z0-9_-]{43})</code>')


def _admin(client: FlaskClient, email: str) -> FlaskClient:
    assert log_in(client, email, PASSWORD).status_code == 302
    return client


def _create(client: FlaskClient, name: str) -> tuple[int, str]:
    token = csrf_token(client, "/api-keys")
    response = client.post("/api-keys", data={"name": name, "csrf_token": token})
    return response.status_code, response.get_data(as_text=True)


def test_a_created_key_is_shown_once_and_works(
    app: Flask, client: FlaskClient, tenants: Tenants
) -> None:
    _admin(client, tenants.admin_a_email)
    status, page = _create(client, "Booking website")
    assert status == 200
    match = KEY_RE.search(page)
    assert match, page
    key = match.group(1)
    assert "shown this once" in page
    later = client.get("/api-keys")
    assert later.headers["Cache-Control"] == "no-store"
    text = later.get_data(as_text=True)
    assert key not in text
    assert "Booking website" in text
    assert key[:16] in text  # the public key id identifies it
    assert api_get(client, "/api/v1/instructors", key).status_code == 200
    with app.app_context():
        event = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "api_key.created")
        ).one()
        assert event.actor_user_id == tenants.admin_a
        assert event.organisation_id == tenants.org_a
        assert key not in repr(event.details)


def test_a_key_without_a_name_is_refused_and_nothing_is_stored(
    app: Flask, client: FlaskClient, tenants: Tenants
) -> None:
    _admin(client, tenants.admin_a_email)
    status, page = _create(client, "   ")
    assert status == 400
    assert "Give the key a name" in page
    assert not KEY_RE.search(page)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiKey)) == 0


def test_revoking_a_key_makes_the_api_refuse_it(
    app: Flask, client: FlaskClient, tenants: Tenants
) -> None:
    key = issue_key(app, tenants.admin_a)
    _admin(client, tenants.admin_a_email)
    with app.app_context():
        key_pk = db.session.scalar(sa.select(ApiKey.id))
    token = csrf_token(client, "/api-keys")
    response = client.post(f"/api-keys/{key_pk}/revoke", data={"csrf_token": token})
    assert response.status_code == 303
    page = client.get("/api-keys").get_data(as_text=True)
    assert "revoked" in page
    assert api_get(client, "/api/v1/instructors", key).status_code == 401
    with app.app_context():
        event = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "api_key.revoked")
        ).one()
        assert event.actor_user_id == tenants.admin_a
        assert event.organisation_id == tenants.org_a


def test_an_admin_cannot_see_or_revoke_another_organisations_keys(
    app: Flask, client: FlaskClient, tenants: Tenants
) -> None:
    key_b = issue_key(app, tenants.admin_b, name="Beta booking site")
    _admin(client, tenants.admin_a_email)
    assert "Beta booking site" not in client.get("/api-keys").get_data(as_text=True)
    with app.app_context():
        key_pk = db.session.scalar(sa.select(ApiKey.id))
    token = csrf_token(client, "/api-keys")
    response = client.post(f"/api-keys/{key_pk}/revoke", data={"csrf_token": token})
    assert response.status_code == 404
    assert api_get(client, "/api/v1/instructors", key_b).status_code == 200


def test_instructors_get_404_on_the_api_keys_page(
    app: Flask, client: FlaskClient, tenants: Tenants
) -> None:
    issue_key(app, tenants.admin_a)
    assert log_in(client, tenants.instructor_email, PASSWORD).status_code == 302
    assert client.get("/api-keys").status_code == 404
    token = csrf_token(client, "/calendars")
    assert client.post("/api-keys", data={"name": "x", "csrf_token": token}).status_code == 404
    assert client.post("/api-keys/1/revoke", data={"csrf_token": token}).status_code == 404
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiKey)) == 1
        assert db.session.scalar(sa.select(ApiKey.revoked_at)) is None


def test_anonymous_visitors_are_sent_to_log_in(client: FlaskClient, tenants: Tenants) -> None:
    response = client.get("/api-keys")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_admins_find_the_page_in_the_navigation(client: FlaskClient, tenants: Tenants) -> None:
    _admin(client, tenants.admin_a_email)
    assert 'href="/api-keys"' in client.get("/").get_data(as_text=True)

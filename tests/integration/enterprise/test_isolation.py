"""Tenant isolation: instructors get 404 everywhere; admins see only their organisation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from tests.integration.enterprise.conftest import (
    INSTRUCTORS,
    OTHER_ADMIN,
    PASSWORD,
    Tenants,
    authorize,
    connect_organisation,
    consent,
    local_path,
    start_connect,
    wait_settled,
)
from tests.sandbox_fixtures import RunningSandbox
from tests.webapp_fixtures import csrf_token, log_in
from webapp.extensions import db
from webapp.models import AccessMode, ServiceAccount, ServiceAccountAuthorization, User

pytestmark = pytest.mark.requirement(21)

ROUTES = [
    ("GET", "/enterprise"),
    ("POST", "/enterprise/connect"),
    ("GET", "/enterprise/callback?code=abc&state=def"),
    ("POST", "/enterprise/authorizations"),
    ("POST", "/enterprise/authorizations/1/retry"),
    ("GET", "/enterprise/disconnect"),
    ("POST", "/enterprise/disconnect"),
]


def _logged_in(app: Flask, email: str) -> FlaskClient:
    client = app.test_client()
    assert log_in(client, email, PASSWORD).status_code == 302
    return client


def _call(client: FlaskClient, method: str, path: str) -> int:
    if method == "GET":
        return client.get(path).status_code
    data = {
        "csrf_token": csrf_token(client, "/"),
        "access_mode": "read_write",
        "provider_name": "google",
        "emails": "ada@demo.test",
    }
    return client.post(path, data=data).status_code


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_instructors_get_404_on_every_enterprise_route(
    app: Flask, tenants: Tenants, sandbox: RunningSandbox, method: str, path: str
) -> None:
    instructor = _logged_in(app, INSTRUCTORS[0])
    assert _call(instructor, method, path) == 404
    assert sandbox.control.requests() == []


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_anonymous_visitors_are_sent_to_login(
    app: Flask, tenants: Tenants, sandbox: RunningSandbox, method: str, path: str
) -> None:
    client = app.test_client()
    response = client.get(path) if method == "GET" else client.post(path)
    # POSTs without a session fail the CSRF check first; either way nothing is revealed.
    assert response.status_code in ((302,) if method == "GET" else (400, 302))
    if response.status_code == 302:
        assert "/login" in response.headers["Location"]


def test_other_admin_sees_nothing_of_this_organisation(
    app: Flask, admin_client: FlaskClient, sandbox: RunningSandbox, served: str
) -> None:
    connect_organisation(admin_client)
    authorize(admin_client, "ada@demo.test")
    wait_settled(app, 1)
    other = _logged_in(app, OTHER_ADMIN)
    page = other.get("/enterprise").get_data(as_text=True)
    assert "ada@demo.test" not in page
    assert 'id="org-status">not connected' in page
    with app.app_context():
        row_id = db.session.scalar(sa.select(ServiceAccountAuthorization.id))
    retry = other.post(
        f"/enterprise/authorizations/{row_id}/retry",
        data={"csrf_token": csrf_token(other, "/enterprise")},
    )
    assert retry.status_code == 404
    assert _attempts(app, row_id) == 1
    assert other.get("/enterprise/disconnect").status_code == 404


@pytest.fixture
def other_connected(app: Flask, tenants: Tenants) -> int:
    """Other School has its own service account (fake tokens: nothing is sent with them)."""
    cipher = app.extensions["token_cipher"]
    with app.app_context():
        other_admin = db.session.get(User, tenants.other_admin_id)
        assert other_admin is not None
        account = ServiceAccount(
            organisation_id=other_admin.organisation_id,
            cronofy_sub="ser_other_school",
            data_center="us",
            access_token_encrypted=cipher.encrypt("other-access"),
            refresh_token_encrypted=cipher.encrypt("other-refresh"),
            access_token_expires_at=datetime.now(UTC) + timedelta(hours=1),
            access_mode=AccessMode.READ_WRITE,
        )
        db.session.add(account)
        db.session.commit()
        return account.id


def test_admin_cannot_retry_another_organisations_authorization(
    app: Flask,
    admin_client: FlaskClient,
    sandbox: RunningSandbox,
    served: str,
    other_connected: int,
) -> None:
    connect_organisation(admin_client)
    authorize(admin_client, "ada@demo.test")
    wait_settled(app, 1)
    with app.app_context():
        row_id = db.session.scalar(sa.select(ServiceAccountAuthorization.id))
    other = _logged_in(app, OTHER_ADMIN)
    assert "ada@demo.test" not in other.get("/enterprise").get_data(as_text=True)
    retry = other.post(
        f"/enterprise/authorizations/{row_id}/retry",
        data={"csrf_token": csrf_token(other, "/enterprise")},
    )
    assert retry.status_code == 404
    assert _attempts(app, row_id) == 1


def test_admin_cannot_authorize_another_organisations_instructors(
    app: Flask, sandbox: RunningSandbox, other_connected: int
) -> None:
    other = _logged_in(app, OTHER_ADMIN)
    page = authorize(other, "ada@demo.test, grace@demo.test").get_data(as_text=True)
    assert "Not instructors of this organisation (not sent)" in page
    assert sandbox.control.requests() == []


def test_a_service_account_of_another_organisation_is_refused(
    app: Flask, admin_client: FlaskClient, sandbox: RunningSandbox
) -> None:
    connect_organisation(admin_client)
    other = _logged_in(app, OTHER_ADMIN)
    # The sandbox hands the same demo.test service account to whoever consents as its admin.
    response = other.get(local_path(consent(start_connect(other))))
    assert response.status_code == 400
    assert "already connected to another organisation" in response.get_data(as_text=True)
    with app.app_context():
        orgs = set(db.session.scalars(sa.select(ServiceAccount.organisation_id)))
        admin = db.session.scalar(sa.select(User).where(User.email == "admin@demo.test"))
        assert admin is not None
        assert orgs == {admin.organisation_id}


def _attempts(app: Flask, row_id: int | None) -> int:
    with app.app_context():
        row = db.session.get(ServiceAccountAuthorization, row_id)
        assert row is not None
        return row.attempts

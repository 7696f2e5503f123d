"""An instructor's own connection and Enterprise Connect: skipped, replaced only on purpose,
never removed by the organisation's disconnect (DESIGN §5)."""

from __future__ import annotations

import json

import requests
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from cronofy_client import sign_body
from cronofy_sandbox.testing import click_through_consent
from tests.integration.enterprise.conftest import (
    PASSWORD,
    Tenants,
    authorize,
    connect_organisation,
    local_path,
    page_token,
    wait_settled,
    wait_until,
)
from tests.sandbox_fixtures import RunningSandbox
from tests.webapp_fixtures import csrf_token, log_in
from webapp.extensions import db
from webapp.mail import CapturingMailer
from webapp.models import (
    AuthorizationStatus,
    CalendarConnection,
    ConnectMethod,
    ServiceAccountAuthorization,
)
from webapp.security import token_digest

ADA = "ada@demo.test"
GRACE = "grace@demo.test"


def _connect_ada_herself(app: Flask) -> FlaskClient:
    """Ada logs in and connects her own calendar (read-write, Google)."""
    ada = app.test_client()
    assert log_in(ada, ADA, PASSWORD).status_code == 302
    response = ada.post(
        "/connect",
        data={
            "access_mode": "read_write",
            "provider_name": "google",
            "csrf_token": csrf_token(ada, "/connect"),
        },
    )
    assert response.status_code == 303
    with requests.Session() as browser:
        callback = click_through_consent(browser, response.headers["Location"], person=ADA)
    assert ada.get(local_path(callback)).status_code == 302
    return ada


def _connection(app: Flask, user_id: int) -> CalendarConnection | None:
    with app.app_context():
        row = db.session.scalar(
            sa.select(CalendarConnection).where(CalendarConnection.user_id == user_id)
        )
        db.session.expunge_all()
        return row


def _mailer(app: Flask) -> CapturingMailer:
    mailer = app.extensions["clients"].mailer
    assert isinstance(mailer, CapturingMailer)
    return mailer


def test_bulk_authorization_skips_an_instructor_with_her_own_connection(
    app: Flask, admin_client: FlaskClient, sandbox: RunningSandbox, served: str, tenants: Tenants
) -> None:
    _connect_ada_herself(app)
    before = _connection(app, tenants.instructor_ids[ADA])
    connect_organisation(admin_client, mode="free_busy")
    page = authorize(admin_client, f"{ADA}\n{GRACE}").get_data(as_text=True)
    assert "Sent to Cronofy: grace@demo.test." in page
    assert "Connected individually (not sent" in page
    assert wait_settled(app, 1) == {GRACE: ("authorized", None)}
    after = _connection(app, tenants.instructor_ids[ADA])
    assert before is not None
    assert after is not None
    assert (after.method, after.access_mode, after.cronofy_sub) == (
        ConnectMethod.INDIVIDUAL,
        before.access_mode,
        before.cronofy_sub,
    )
    listing = admin_client.get("/enterprise").get_data(as_text=True)
    assert 'id="individual-connections"' in listing
    assert f'<tr data-email="{ADA}">' in listing


def test_disconnecting_the_organisation_keeps_individual_connections(
    app: Flask, admin_client: FlaskClient, sandbox: RunningSandbox, served: str, tenants: Tenants
) -> None:
    ada = _connect_ada_herself(app)
    connect_organisation(admin_client)
    authorize(admin_client, f"{ADA}\n{GRACE}")
    wait_settled(app, 1)
    confirm = admin_client.get("/enterprise/disconnect").get_data(as_text=True)
    assert "1 keeps their own connection" in confirm
    done = admin_client.post(
        "/enterprise/disconnect",
        data={"csrf_token": page_token(admin_client)},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "1 instructor connected through it is now disconnected" in done
    assert "1 instructor who connected their own calendar keeps it" in done
    kept = _connection(app, tenants.instructor_ids[ADA])
    assert kept is not None
    assert kept.method is ConnectMethod.INDIVIDUAL
    assert _connection(app, tenants.instructor_ids[GRACE]) is None
    page = ada.get("/calendars").get_data(as_text=True)
    assert "Connected</span>" in page
    assert '<dd id="connected-by">You</dd>' in page


def test_admin_replaces_an_individual_connection_and_the_instructor_is_told(
    app: Flask, admin_client: FlaskClient, sandbox: RunningSandbox, served: str, tenants: Tenants
) -> None:
    ada = _connect_ada_herself(app)
    connect_organisation(admin_client)
    ada_id = tenants.instructor_ids[ADA]
    response = admin_client.post(
        f"/enterprise/instructors/{ada_id}/replace",
        data={"csrf_token": page_token(admin_client)},
        follow_redirects=True,
    )
    assert "they are told by e-mail" in response.get_data(as_text=True)
    assert wait_settled(app, 1) == {ADA: ("authorized", None)}
    replaced = _connection(app, ada_id)
    assert replaced is not None
    assert replaced.method is ConnectMethod.ENTERPRISE
    assert replaced.replaced_individual_at is not None
    wait_until(lambda: any(m.to == ADA for m in _mailer(app).outbox))  # sent after commit
    told = [m for m in _mailer(app).outbox if m.to == ADA]
    assert [m.subject for m in told] == ["Your organisation now manages your calendar connection"]
    page = ada.get("/calendars").get_data(as_text=True)
    assert 'id="replaced-notice"' in page
    assert "Your organisation (Demo School)" in page


def test_replacing_an_instructor_of_another_organisation_is_404(
    app: Flask, admin_client: FlaskClient, sandbox: RunningSandbox, served: str, tenants: Tenants
) -> None:
    connect_organisation(admin_client)
    response = admin_client.post(
        f"/enterprise/instructors/{tenants.other_instructor_id}/replace",
        data={"csrf_token": page_token(admin_client)},
    )
    assert response.status_code == 404
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(ServiceAccountAuthorization.id))) == 0


def test_a_late_callback_never_replaces_a_connection_made_in_the_meantime(
    app: Flask,
    client: FlaskClient,
    admin_client: FlaskClient,
    sandbox: RunningSandbox,
    served: str,
    tenants: Tenants,
) -> None:
    connect_organisation(admin_client)
    _connect_ada_herself(app)
    ada_id = tenants.instructor_ids[ADA]
    before = _connection(app, ada_id)
    token = "late-callback-token"
    with app.app_context():
        account_id = db.session.scalar(sa.text("select id from service_accounts"))
        db.session.add(
            ServiceAccountAuthorization(
                service_account_id=account_id,
                email=ADA,
                user_id=ada_id,
                state_hash=token_digest(token),
                attempts=1,
            )
        )
        db.session.commit()
    body = json.dumps({"authorization": {"code": "any-code", "state": "1"}}).encode()
    answer = client.post(
        f"/webhooks/cronofy/enterprise/{token}",
        data=body,
        headers={"Cronofy-HMAC-SHA256": sign_body(body, sandbox.client_secret)},
    )
    assert answer.json == {"outcome": "failed"}
    after = _connection(app, ada_id)
    assert before is not None
    assert after is not None
    assert (after.method, after.cronofy_sub) == (ConnectMethod.INDIVIDUAL, before.cronofy_sub)
    with app.app_context():
        row = db.session.scalars(sa.select(ServiceAccountAuthorization)).one()
        assert row.status is AuthorizationStatus.FAILED
        assert (row.error or "").startswith("connected_individually")
    table = admin_client.get("/enterprise").get_data(as_text=True)
    assert "connected individually</span>" in table
    assert "Retry</button>" not in table

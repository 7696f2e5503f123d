"""The service account's token (refresh, rotation, single flight, invalid_grant) and disconnect."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from cronofy_client import CronofyInvalidGrant
from tests.integration.enterprise.conftest import (
    Tenants,
    authorize,
    connect_organisation,
    page_token,
    wait_settled,
)
from tests.sandbox_fixtures import RunningSandbox
from webapp.clients import get_clients
from webapp.extensions import db
from webapp.models import (
    AuditEvent,
    CalendarConnection,
    ConnectionStatus,
    OutboxJob,
    OutboxStatus,
    ServiceAccount,
    ServiceAccountAuthorization,
)
from webapp.services import enterprise, revocation


def _account(app: Flask) -> ServiceAccount:
    with app.app_context():
        account = db.session.scalar(sa.select(ServiceAccount))
        assert account is not None
        db.session.expunge(account)
        return account


def _expire_service_token(app: Flask) -> None:
    with app.app_context():
        db.session.execute(
            sa.update(ServiceAccount).values(
                access_token_expires_at=datetime.now(UTC) - timedelta(seconds=1)
            )
        )
        db.session.commit()


def _paths(sandbox: RunningSandbox, suffix: str) -> int:
    return sum(1 for r in sandbox.control.requests() if str(r["path"]).endswith(suffix))


def test_expired_service_token_is_refreshed_and_rotated_refresh_token_stored(
    app: Flask, admin_client: FlaskClient, sandbox: RunningSandbox, served: str
) -> None:
    connect_organisation(admin_client)
    before = _account(app)
    _expire_service_token(app)
    sandbox.control.clear_requests()
    authorize(admin_client, "ada@demo.test")
    after = _account(app)
    cipher = app.extensions["token_cipher"]
    old_refresh = cipher.decrypt(before.refresh_token_encrypted or "")
    new_refresh = cipher.decrypt(after.refresh_token_encrypted or "")
    assert new_refresh != old_refresh  # the sandbox rotates refresh tokens
    assert after.access_token_expires_at is not None
    assert after.access_token_expires_at > datetime.now(UTC) + timedelta(minutes=20)
    assert wait_settled(app, 1)["ada@demo.test"] == ("authorized", None)


def test_concurrent_callers_cause_one_refresh(
    app: Flask, admin_client: FlaskClient, sandbox: RunningSandbox
) -> None:
    connect_organisation(admin_client)
    account_id = _account(app).id
    _expire_service_token(app)
    sandbox.control.clear_requests()
    tokens: list[str] = []
    errors: list[BaseException] = []

    def worker() -> None:
        with app.app_context():
            try:
                cipher = app.extensions["token_cipher"]
                tokens.append(
                    enterprise.service_access_token(get_clients().cronofy, cipher, account_id)
                )
            except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert len(tokens) == 10
    assert len(set(tokens)) == 1
    assert _paths(sandbox, "/oauth/token") == 1


def test_dead_refresh_token_marks_the_account_for_reconnect(
    app: Flask, admin_client: FlaskClient, sandbox: RunningSandbox
) -> None:
    connect_organisation(admin_client)
    account = _account(app)
    refresh = app.extensions["token_cipher"].decrypt(account.refresh_token_encrypted or "")
    sandbox.control.revoke_refresh_token(refresh)
    _expire_service_token(app)
    page = authorize(admin_client, "ada@demo.test").get_data(as_text=True)
    assert "connect it again" in page
    assert _account(app).status is ConnectionStatus.NEEDS_RECONNECT
    page = admin_client.get("/enterprise").get_data(as_text=True)
    assert "Connect again" in page
    assert "Cronofy no longer accepts the organisation" in page


def test_disconnect_asks_for_confirmation_first(
    admin_client: FlaskClient, sandbox: RunningSandbox
) -> None:
    connect_organisation(admin_client)
    page = admin_client.get("/enterprise/disconnect").get_data(as_text=True)
    assert "Disconnect the organisation?" in page
    assert "fall back to their Bookly working hours" in page.replace("falls back", "fall back")


def test_disconnect_revokes_the_service_account_and_every_delegated_connection(
    app: Flask, admin_client: FlaskClient, sandbox: RunningSandbox, served: str, tenants: Tenants
) -> None:
    connect_organisation(admin_client)
    authorize(admin_client, "ada@demo.test, grace@demo.test")
    wait_settled(app, 2)
    cipher = app.extensions["token_cipher"]
    service_refresh = cipher.decrypt(_account(app).refresh_token_encrypted or "")
    sandbox.control.clear_requests()
    response = admin_client.post(
        "/enterprise/disconnect",
        data={"csrf_token": page_token(admin_client)},
        follow_redirects=True,
    )
    assert "2 instructors connected through it are now disconnected" in response.get_data(
        as_text=True
    )
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ServiceAccount)) == 0
        count = sa.select(sa.func.count()).select_from(ServiceAccountAuthorization)
        assert db.session.scalar(count) == 0
        live = db.session.scalars(
            sa.select(CalendarConnection).where(
                CalendarConnection.status == ConnectionStatus.CONNECTED
            )
        ).all()
        assert live == []
        actions = set(db.session.scalars(sa.select(AuditEvent.action)))
    assert {"enterprise.disconnected", "connection.disconnected"} <= actions
    assert _paths(sandbox, "/oauth/token/revoke") == 3  # service account + two instructors
    with pytest.raises(CronofyInvalidGrant):
        app.extensions["clients"].cronofy.refresh(service_refresh)


def test_disconnect_while_cronofy_is_down_finishes_once_it_is_back(
    app: Flask, admin_client: FlaskClient, sandbox: RunningSandbox
) -> None:
    connect_organisation(admin_client)
    service_refresh = app.extensions["token_cipher"].decrypt(
        _account(app).refresh_token_encrypted or ""
    )
    sandbox.control.fail_next(503, count=100, path_prefix="/oauth/token/revoke")
    response = admin_client.post(
        "/enterprise/disconnect",
        data={"csrf_token": page_token(admin_client)},
        follow_redirects=True,
    )
    assert "Organisation disconnected" in response.get_data(as_text=True)
    with app.app_context():  # forgotten here at once; the revocation waits for Cronofy
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ServiceAccount)) == 0
        job = db.session.scalars(sa.select(OutboxJob)).one()
        assert (job.kind, job.status) == ("cronofy.revoke", OutboxStatus.PENDING)
        assert service_refresh not in str(job.payload)  # ciphertext only
    assert app.extensions["clients"].cronofy.refresh(service_refresh)  # not revoked yet

    sandbox.control.clear_faults()
    with app.app_context():
        later = datetime.now(UTC) + timedelta(hours=1)
        assert revocation.process_due_jobs(get_clients().cronofy, now=later).done == 1
    with pytest.raises(CronofyInvalidGrant):
        app.extensions["clients"].cronofy.refresh(service_refresh)

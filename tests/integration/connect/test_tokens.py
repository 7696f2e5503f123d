"""Token upkeep: single-flight refresh, refresh on 401, invalid_grant, encryption at rest."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from tests.integration.connect.conftest import Wiring, connect, the_connection, token_calls
from tests.webapp_fixtures import People
from webapp.database import utcnow
from webapp.extensions import db
from webapp.models import AuditEvent, CalendarConnection, ConnectionStatus
from webapp.services import connections
from webapp.services.tokens import token_cipher

CALLERS = 20


def _connected(app: Flask, instructor: FlaskClient, people: People) -> CalendarConnection:
    assert connect(instructor, "read_write").status_code == 302
    conn = the_connection(app, people.instructor_id)
    assert conn is not None
    return conn


def _expire_everywhere(app: Flask, wiring: Wiring, conn: CalendarConnection) -> None:
    wiring.sandbox.control.expire_access_tokens(conn.cronofy_sub)
    with app.app_context():
        db.session.execute(
            sa.update(CalendarConnection).values(access_token_expires_at=utcnow() - timedelta(1))
        )
        db.session.commit()
    wiring.sandbox.control.clear_requests()


def _tokens(app: Flask, conn_id: int) -> tuple[str, str]:
    with app.app_context():
        row = db.session.get(CalendarConnection, conn_id)
        assert row is not None
        assert row.access_token_encrypted
        assert row.refresh_token_encrypted
        cipher = token_cipher()
        return cipher.decrypt(row.access_token_encrypted), cipher.decrypt(
            row.refresh_token_encrypted
        )


@pytest.mark.requirement(9)
def test_twenty_concurrent_callers_cause_exactly_one_refresh(
    app: Flask, instructor: FlaskClient, people: People, wiring: Wiring
) -> None:
    conn = _connected(app, instructor, people)
    _, old_refresh = _tokens(app, conn.id)
    _expire_everywhere(app, wiring, conn)
    barrier = threading.Barrier(CALLERS)
    results: list[str] = []
    errors: list[BaseException] = []

    def call() -> None:
        with app.app_context():
            try:
                barrier.wait()
                info = connections.call_with_token(wiring.cronofy, conn.id, wiring.cronofy.userinfo)
                results.append(info.sub)
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(CALLERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert results == [conn.cronofy_sub] * CALLERS
    assert token_calls(wiring.sandbox) == 1
    access, refresh = _tokens(app, conn.id)
    assert refresh != old_refresh  # the sandbox rotates refresh tokens; the new one is stored
    assert wiring.cronofy.userinfo(access).sub == conn.cronofy_sub


def test_a_401_refreshes_once_and_retries(
    app: Flask, instructor: FlaskClient, people: People, wiring: Wiring
) -> None:
    conn = _connected(app, instructor, people)
    wiring.sandbox.control.expire_access_tokens(conn.cronofy_sub)  # our expiry still looks fine
    wiring.sandbox.control.clear_requests()
    with app.app_context():
        info = connections.call_with_token(wiring.cronofy, conn.id, wiring.cronofy.userinfo)
    assert info.sub == conn.cronofy_sub
    assert token_calls(wiring.sandbox) == 1
    statuses = [
        r["status"] for r in wiring.sandbox.control.requests() if r["path"] == "/v1/userinfo"
    ]
    assert statuses == [401, 200]


def test_a_fresh_token_is_used_without_refreshing(
    app: Flask, instructor: FlaskClient, people: People, wiring: Wiring
) -> None:
    conn = _connected(app, instructor, people)
    wiring.sandbox.control.clear_requests()
    with app.app_context():
        token = connections.access_token(wiring.cronofy, conn.id)
    assert token == _tokens(app, conn.id)[0]
    assert token_calls(wiring.sandbox) == 0


@pytest.mark.requirement(10)
def test_invalid_grant_needs_reconnect_mails_once_and_stops_refreshing(
    app: Flask, instructor: FlaskClient, people: People, wiring: Wiring
) -> None:
    conn = _connected(app, instructor, people)
    _, refresh = _tokens(app, conn.id)
    wiring.sandbox.control.revoke_refresh_token(refresh)
    _expire_everywhere(app, wiring, conn)
    for _ in range(3):
        with app.app_context(), pytest.raises(connections.ReconnectRequired):
            connections.access_token(wiring.cronofy, conn.id)
    assert token_calls(wiring.sandbox) == 1
    stored = the_connection(app, people.instructor_id)
    assert stored is not None
    assert stored.status is ConnectionStatus.NEEDS_RECONNECT
    assert stored.status_reason == "refresh_rejected"
    mails = wiring.mailer.outbox
    assert len(mails) == 1
    assert mails[0].to == people.instructor_email
    assert "/calendars" in mails[0].body
    with app.app_context():
        actions = db.session.scalars(sa.select(AuditEvent.action)).all()
    assert actions.count("connection.needs_reconnect") == 1
    for path in ("/", "/calendars", "/connect"):
        page = instructor.get(path).get_data(as_text=True)
        assert "Your calendar connection needs attention" in page
    assert "Reconnect" in instructor.get("/calendars").get_data(as_text=True)
    assert token_calls(wiring.sandbox) == 1


@pytest.mark.requirement(8)
def test_raw_database_never_holds_a_plaintext_token(
    app: Flask, instructor: FlaskClient, people: People, wiring: Wiring
) -> None:
    conn = _connected(app, instructor, people)
    first = _tokens(app, conn.id)
    _expire_everywhere(app, wiring, conn)
    with app.app_context():
        connections.access_token(wiring.cronofy, conn.id)
    second = _tokens(app, conn.id)
    wiring.sandbox.control.fail_next(503, count=10, path_prefix="/oauth/token/revoke")
    assert (
        instructor.post("/calendars/disconnect", data={"csrf_token": _csrf(instructor)}).status_code
        == 303
    )
    secrets = {*first, *second}
    with app.app_context(), db.engine.connect() as raw:
        dump = []
        for table in db.metadata.sorted_tables:
            for row in raw.execute(sa.text(f"SELECT * FROM {table.name}")):  # noqa: S608
                dump.append(" ".join(str(value) for value in row))
    text = "\n".join(dump)
    assert "cronofy.revoke" in text  # the pending revocation is there, as ciphertext only
    for secret in secrets:
        assert secret not in text


def _csrf(client: FlaskClient) -> str:
    from tests.webapp_fixtures import csrf_token

    return csrf_token(client, "/calendars/disconnect")

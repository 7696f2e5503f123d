"""Disconnect: channel closed, revoke with the refresh token, our data deleted, retried revoke."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from cronofy_client import CronofyInvalidGrant
from tests.integration.connect.conftest import Wiring, connect, paths, the_connection
from tests.webapp_fixtures import People, csrf_token
from webapp.database import utcnow
from webapp.extensions import db
from webapp.models import (
    AuditEvent,
    BusyBlock,
    CalendarConnection,
    InboundNotification,
    OutboxJob,
    OutboxStatus,
)
from webapp.services.tokens import token_cipher


def _connected(app: Flask, instructor: FlaskClient, people: People) -> CalendarConnection:
    assert connect(instructor, "read_write").status_code == 302
    conn = the_connection(app, people.instructor_id)
    assert conn is not None
    with app.app_context():
        now = utcnow()
        db.session.add(
            BusyBlock(connection_id=conn.id, starts_at=now, ends_at=now + timedelta(hours=1))
        )
        db.session.add(
            InboundNotification(
                body_hash="h" * 64, notification_type="change", connection_id=conn.id, body="{}"
            )
        )
        db.session.commit()
    return conn


def _refresh_token(app: Flask, conn: CalendarConnection) -> str:
    with app.app_context():
        row = db.session.get(CalendarConnection, conn.id)
        assert row is not None
        assert row.refresh_token_encrypted
        return token_cipher().decrypt(row.refresh_token_encrypted)


def _disconnect(client: FlaskClient) -> object:
    return client.post(
        "/calendars/disconnect", data={"csrf_token": csrf_token(client, "/calendars/disconnect")}
    )


def _count(app: Flask, model: type) -> int:
    with app.app_context():
        return int(db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0)


def test_confirmation_page_explains_the_consequences(
    app: Flask, instructor: FlaskClient, people: People
) -> None:
    _connected(app, instructor, people)
    page = instructor.get("/calendars/disconnect").get_data(as_text=True)
    for text in ("Bookly working hours only", "double bookings are possible", "stay there"):
        assert text in page


@pytest.mark.requirement(11)
def test_disconnect_closes_the_channel_revokes_with_the_refresh_token_and_deletes(
    app: Flask, instructor: FlaskClient, people: People, wiring: Wiring
) -> None:
    conn = _connected(app, instructor, people)
    refresh = _refresh_token(app, conn)
    wiring.sandbox.control.clear_requests()
    response = _disconnect(instructor)
    assert response.status_code == 303  # type: ignore[attr-defined]
    assert paths(wiring.sandbox, "DELETE", "/v1/channels/") == [f"/v1/channels/{conn.channel_id}"]
    assert [body.get("token") for body in wiring.session.revoke_bodies] == [refresh]
    assert the_connection(app, people.instructor_id) is None
    assert _count(app, BusyBlock) == _count(app, InboundNotification) == 0
    with app.app_context():  # the revocation ran as a job (inline here: no broker)
        [job] = db.session.scalars(sa.select(OutboxJob)).all()
        assert (job.kind, job.status, job.payload) == ("cronofy.revoke", OutboxStatus.DONE, {})
    with app.app_context():
        actions = db.session.scalars(sa.select(AuditEvent.action)).all()
    assert "connection.disconnected" in actions
    with pytest.raises(CronofyInvalidGrant):  # the grant is really gone at Cronofy
        wiring.cronofy.refresh(refresh)
    page = instructor.get("/calendars").get_data(as_text=True)
    assert "Not connected" in page
    assert "Your calendar is disconnected." in page


@pytest.mark.requirement(11)
def test_failed_revoke_is_retried_in_the_background_until_it_succeeds(
    app: Flask, instructor: FlaskClient, people: People, wiring: Wiring
) -> None:
    conn = _connected(app, instructor, people)
    refresh = _refresh_token(app, conn)
    wiring.sandbox.control.fail_next(503, count=50, path_prefix="/oauth/token/revoke")
    assert _disconnect(instructor).status_code == 303  # type: ignore[attr-defined]
    # The person sees "disconnected" at once; only the ciphertext waits for the retry.
    assert the_connection(app, people.instructor_id) is None
    with app.app_context():
        job = db.session.scalars(sa.select(OutboxJob)).one()
        assert job.kind == "cronofy.revoke"
        assert job.status is OutboxStatus.PENDING
        assert job.attempts == 1  # the first try ran at once (inline: no broker) and failed
        assert set(job.payload) == {"refresh_token_encrypted", "sub"}  # channel closed once
        assert token_cipher().decrypt(job.payload["refresh_token_encrypted"]) == refresh
        assert refresh not in str(job.payload)
        job_id = job.id
    _run_worker_later(app)  # Cronofy still down: retried, backoff grows
    with app.app_context():
        job = db.session.get(OutboxJob, job_id)
        assert job is not None
        assert job.status is OutboxStatus.PENDING
        assert job.attempts == 2
    wiring.sandbox.control.clear_faults()
    wiring.session.revoke_bodies.clear()
    _run_worker_later(app)
    assert [body.get("token") for body in wiring.session.revoke_bodies] == [refresh]
    with app.app_context():
        job = db.session.get(OutboxJob, job_id)
        assert job is not None
        assert job.status is OutboxStatus.DONE
        assert job.payload == {}
    with pytest.raises(CronofyInvalidGrant):
        wiring.cronofy.refresh(refresh)


def _run_worker_later(app: Flask) -> None:
    """Make the pending jobs due, then run the Celery task (eager) as the worker would."""
    with app.app_context():
        db.session.execute(
            sa.update(OutboxJob).values(next_attempt_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
        app.extensions["celery"].tasks["webapp.tasks.finish_disconnects"].delay()


def test_disconnect_without_a_connection_is_harmless(instructor: FlaskClient) -> None:
    assert instructor.get("/calendars/disconnect").status_code == 302
    response = instructor.post(
        "/calendars/disconnect", data={"csrf_token": csrf_token(instructor, "/connect")}
    )
    assert response.status_code == 303  # type: ignore[attr-defined]
    assert "already disconnected" in instructor.get("/calendars").get_data(as_text=True)

"""The push receiver: HMAC, channel matching, inbox dedupe, and what each type does."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from cronofy_client import HMAC_HEADER, sign_body
from tests.integration.connect.conftest import Wiring, connect, the_connection
from tests.webapp_fixtures import People, csrf_token
from webapp.database import utcnow
from webapp.extensions import db, limiter
from webapp.mail import MailError
from webapp.models import (
    CalendarConnection,
    ConnectionStatus,
    InboundNotification,
    OutboxJob,
    OutboxStatus,
)
from webapp.services import connections, revocation
from webapp.services.sync import sync_health


@pytest.fixture
def hook(app: Flask, instructor: FlaskClient, people: People, wiring: Wiring) -> dict[str, Any]:
    """A connected instructor: the channel id and the secret path of its push URL."""
    assert connect(instructor, "read_write").status_code == 302
    conn = the_connection(app, people.instructor_id)
    assert conn is not None
    with app.app_context():
        token = connections.access_token(wiring.cronofy, conn.id)
    channel = next(
        c for c in wiring.cronofy.list_channels(token) if c.channel_id == conn.channel_id
    )
    return {"channel_id": conn.channel_id, "path": "/" + channel.callback_url.split("/", 3)[3]}


def _body(kind: str, channel_id: str, **extra: Any) -> bytes:
    notification = {"type": kind, **extra}
    channel = {"channel_id": channel_id, "callback_url": "https://x/y", "filters": {}}
    return json.dumps({"notification": notification, "channel": channel}).encode()


def _post(client: FlaskClient, path: str, body: bytes, secret: str | None) -> Any:
    headers = {HMAC_HEADER: sign_body(body, secret)} if secret else {}
    return client.post(path, data=body, headers=headers, content_type="application/json")


def _inbox(app: Flask) -> list[InboundNotification]:
    with app.app_context():
        rows = list(
            db.session.scalars(sa.select(InboundNotification).order_by(InboundNotification.id))
        )
        for row in rows:
            db.session.expunge(row)
        return rows


@pytest.mark.parametrize("secret", [None, "CRN_wrong_secret"])
@pytest.mark.requirement(1)
def test_bad_signature_is_401_and_writes_nothing(
    app: Flask, hook: dict[str, Any], secret: str | None, wiring: Wiring
) -> None:
    jobs_before = _outbox(app)
    wiring.sandbox.control.clear_requests()
    body = _body("change", hook["channel_id"], changes_since="2026-01-01T00:00:00Z")
    response = _post(app.test_client(), hook["path"], body, secret)
    assert response.status_code == 401
    assert _inbox(app) == []
    assert _outbox(app) == jobs_before  # no job written
    assert wiring.sandbox.control.requests() == []  # and none run (tasks run inline here)


def _outbox(app: Flask) -> list[tuple[str, str]]:
    with app.app_context():
        return [(j.kind, j.status.value) for j in db.session.scalars(sa.select(OutboxJob))]


def test_verification_is_acknowledged(app: Flask, hook: dict[str, Any], wiring: Wiring) -> None:
    body = _body("verification", hook["channel_id"])
    assert (
        _post(app.test_client(), hook["path"], body, wiring.sandbox.client_secret).status_code
        == 202
    )
    [row] = _inbox(app)
    assert row.notification_type == "verification"
    assert row.processed_at is not None


@pytest.mark.requirement(3)
def test_change_is_stored_once_for_the_sync_engine(
    app: Flask, hook: dict[str, Any], wiring: Wiring, people: People
) -> None:
    body = _body("change", hook["channel_id"], changes_since="2026-01-01T00:00:00Z")
    client = app.test_client()
    for _ in range(2):
        assert _post(client, hook["path"], body, wiring.sandbox.client_secret).status_code == 202
    [row] = _inbox(app)
    assert row.notification_type == "change"
    assert row.processed_at is None
    assert hook["path"].rsplit("/", 1)[1] not in row.body  # the secret path token is not kept
    with app.app_context():
        # People see when Cronofy last wrote; a burst does not write the connection's row.
        connected = the_connection(app, people.instructor_id)
        assert connected is not None
        conn = db.session.get(CalendarConnection, connected.id)
        assert conn is not None
        assert conn.last_notification_at is None
        assert sync_health(conn).last_notification_at == row.received_at


@pytest.mark.requirement(2)
def test_rotated_secret_header_is_accepted(
    app: Flask, hook: dict[str, Any], wiring: Wiring
) -> None:
    body = _body("change", hook["channel_id"], changes_since="2026-01-01T00:00:00Z")
    header = f"{sign_body(body, 'CRN_old')},{sign_body(body, wiring.sandbox.client_secret)}"
    response = app.test_client().post(hook["path"], data=body, headers={HMAC_HEADER: header})
    assert response.status_code == 202


@pytest.mark.requirement(5)
def test_unknown_path_token_is_acknowledged_without_work(
    app: Flask, hook: dict[str, Any], wiring: Wiring, caplog: pytest.LogCaptureFixture
) -> None:
    wiring.sandbox.control.clear_requests()
    body = _body("change", hook["channel_id"], changes_since="2026-01-01T00:00:00Z")
    with caplog.at_level(logging.WARNING, logger="webapp.services.push_inbox"):
        response = _post(
            app.test_client(), "/webhooks/cronofy/not-a-token", body, wiring.sandbox.client_secret
        )
    assert response.status_code == 202
    assert _inbox(app) == []
    assert wiring.sandbox.control.requests() == []  # no calendar API call
    assert "push for an unknown or disconnected channel ignored" in caplog.text  # security log


@pytest.mark.requirement(5)
def test_channel_that_does_not_match_the_url_is_ignored(
    app: Flask, hook: dict[str, Any], wiring: Wiring
) -> None:
    body = _body("profile_disconnected", "chn_someone_else")
    assert (
        _post(app.test_client(), hook["path"], body, wiring.sandbox.client_secret).status_code
        == 202
    )
    assert _inbox(app) == []


@pytest.mark.requirement(5)
def test_unknown_type_is_acknowledged(app: Flask, hook: dict[str, Any], wiring: Wiring) -> None:
    body = _body("brand_new_type", hook["channel_id"])
    assert (
        _post(app.test_client(), hook["path"], body, wiring.sandbox.client_secret).status_code
        == 202
    )
    [row] = _inbox(app)
    assert row.notification_type == "brand_new_type"
    assert row.processed_at is not None


@pytest.mark.requirement(5)
def test_oversized_body_is_413(app: Flask, hook: dict[str, Any], wiring: Wiring) -> None:
    body = b"{" + b" " * 70_000 + b"}"
    assert (
        _post(app.test_client(), hook["path"], body, wiring.sandbox.client_secret).status_code
        == 413
    )
    assert _inbox(app) == []


def test_signed_garbage_is_400(app: Flask, hook: dict[str, Any], wiring: Wiring) -> None:
    assert (
        _post(
            app.test_client(), hook["path"], b"not json", wiring.sandbox.client_secret
        ).status_code
        == 400
    )
    assert _inbox(app) == []


def test_profile_disconnected_asks_for_relink(
    app: Flask,
    instructor: FlaskClient,
    hook: dict[str, Any],
    wiring: Wiring,
    people: People,
) -> None:
    conn = the_connection(app, people.instructor_id)
    assert conn is not None
    assert conn.profile_id
    # Cronofy's side: the profile really is disconnected (userinfo then offers a relink URL).
    with wiring.sandbox.app.app_context():
        from cronofy_sandbox.state import get_sandbox

        get_sandbox().store.execute(
            "UPDATE profiles SET connected = 0 WHERE profile_id = ?", (conn.profile_id,)
        )
    body = _body("profile_disconnected", hook["channel_id"])
    for _ in range(2):
        assert (
            _post(
                app.test_client(), hook["path"], body + b" ", wiring.sandbox.client_secret
            ).status_code
            == 202
        )
        body += b" "
    stored = the_connection(app, people.instructor_id)
    assert stored is not None
    assert stored.status is ConnectionStatus.NEEDS_RECONNECT
    assert stored.status_reason == "profile_disconnected"
    assert len(wiring.mailer.outbox) == 1
    assert "Your calendar connection needs attention" in instructor.get("/").get_data(as_text=True)
    page = instructor.get("/calendars").get_data(as_text=True)
    assert "Relink your calendar" in page
    assert "Reconnect" in page
    # Tokens still work for a disconnected profile: the page lists calendars, no refresh loop.
    with app.app_context():
        assert connections.access_token(wiring.cronofy, stored.id)


def test_the_push_limit_is_per_channel_not_per_sender_address(app: Flask) -> None:
    """Cronofy sends everyone's pushes from a few addresses: 1,300 deliveries from one address
    to different channels are all acknowledged; one channel alone is cut at 1,200 a minute."""
    client = app.test_client()
    for n in range(1300):
        assert client.post(f"/webhooks/cronofy/unknown-{n}", data=b"{}").status_code != 429
    one = [client.post("/webhooks/cronofy/one", data=b"{}") for _ in range(1201)]
    assert [answer.status_code for answer in one[:1200]].count(429) == 0
    assert one[1200].status_code == 429
    assert 1 <= int(one[1200].headers["Retry-After"]) <= 60
    assert "X-RateLimit-Limit" not in one[0].headers  # Cronofy reads no such header


def test_a_limit_storage_that_does_not_answer_still_stores_the_push(
    app: Flask,
    hook: dict[str, Any],
    wiring: Wiring,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def unreachable(*_: Any) -> bool:
        raise ConnectionError("rate-limit storage down")

    monkeypatch.setattr(limiter.limiter, "hit", unreachable)
    body = _body("change", hook["channel_id"], changes_since="2026-01-01T00:00:00Z")
    assert (
        _post(app.test_client(), hook["path"], body, wiring.sandbox.client_secret).status_code
        == 202
    )
    assert len(_inbox(app)) == 1
    assert "push limit storage unavailable" in caplog.text


def test_profile_disconnected_is_acknowledged_without_waiting_for_the_mail_server(
    app: Flask,
    hook: dict[str, Any],
    wiring: Wiring,
    people: People,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The notice is an outbox job: a mail server that is down neither delays nor fails the
    ack, and the notice goes out once it is back, exactly once."""
    sent = wiring.mailer.send

    def down(message: Any) -> None:
        raise MailError("connection refused")

    monkeypatch.setattr(wiring.mailer, "send", down)
    body = _body("profile_disconnected", hook["channel_id"])
    answer = _post(app.test_client(), hook["path"], body, wiring.sandbox.client_secret)
    assert answer.status_code == 202
    stored = the_connection(app, people.instructor_id)
    assert stored is not None
    assert stored.status is ConnectionStatus.NEEDS_RECONNECT
    assert wiring.mailer.outbox == []
    with app.app_context():
        job = db.session.scalars(
            sa.select(OutboxJob).where(OutboxJob.kind == revocation.NOTICE_JOB)
        ).one()
        assert (job.status, job.attempts) == (OutboxStatus.PENDING, 1)
        assert job.last_error == "the e-mail could not be sent"
        assert "@" not in json.dumps(job.payload)  # ids only, never the address

    monkeypatch.setattr(wiring.mailer, "send", sent)
    later = utcnow() + timedelta(hours=1)
    with app.app_context():
        assert revocation.process_due_jobs(wiring.cronofy, now=later).done == 1
        assert revocation.process_due_jobs(wiring.cronofy, now=later).done == 0
    [notice] = wiring.mailer.outbox
    assert notice.to == people.instructor_email


@pytest.mark.requirement(11)
def test_a_push_to_the_channel_of_a_disconnected_calendar_triggers_no_read(
    app: Flask, hook: dict[str, Any], wiring: Wiring, instructor: FlaskClient
) -> None:
    token = csrf_token(instructor, "/calendars/disconnect")
    assert instructor.post("/calendars/disconnect", data={"csrf_token": token}).status_code == 303
    wiring.sandbox.control.clear_requests()
    body = _body("change", hook["channel_id"], changes_since="2026-01-01T00:00:00Z")
    response = _post(app.test_client(), hook["path"], body, wiring.sandbox.client_secret)
    assert response.status_code == 202  # acknowledged, so Cronofy does not retry
    assert _inbox(app) == []
    assert wiring.sandbox.control.requests() == []

"""Connection upkeep on beat (webapp/services/upkeep.py): tokens renewed before they expire,
push channels that Cronofy lost (or never made) made again under a new secret URL."""

from __future__ import annotations

import json
from datetime import timedelta

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from cronofy_client import HMAC_HEADER, sign_body
from tests.integration.connect.conftest import PUBLIC_BASE_URL, Wiring, connect, the_connection
from tests.webapp_fixtures import People, log_in
from webapp.database import utcnow
from webapp.extensions import beat_schedule, db
from webapp.models import (
    AuditEvent,
    CalendarConnection,
    ConnectionStatus,
    InboundNotification,
    User,
)
from webapp.services import upkeep
from webapp.services.connections import access_token
from webapp.services.tokens import token_cipher


def connected(app: Flask, instructor: FlaskClient, people: People) -> CalendarConnection:
    assert connect(instructor, "read_write").status_code == 302
    conn = the_connection(app, people.instructor_id)
    assert conn is not None
    return conn


def check(app: Flask, wiring: Wiring) -> upkeep.ChannelCheck:
    with app.app_context():
        return upkeep.check_channels(wiring.cronofy, webhook_base_url=PUBLIC_BASE_URL)


def our_channels(app: Flask, wiring: Wiring, connection_id: int) -> dict[str, str]:
    """The account's channels at Cronofy: id -> local path of the callback URL."""
    with app.app_context():
        token = access_token(wiring.cronofy, connection_id)
    return {
        c.channel_id: "/" + c.callback_url.split("/", 3)[3]
        for c in wiring.cronofy.list_channels(token)
    }


def change(app: Flask, wiring: Wiring, path: str, channel_id: str) -> int:
    body = json.dumps({
        "notification": {"type": "change", "changes_since": "2026-12-01T00:00:00Z"},
        "channel": {"channel_id": channel_id, "callback_url": "https://x/y", "filters": {}},
    }).encode()  # fmt: skip
    headers = {HMAC_HEADER: sign_body(body, wiring.sandbox.client_secret)}
    answer = app.test_client().post(path, data=body, headers=headers)
    return answer.status_code


def stored(app: Flask) -> int:
    with app.app_context():
        return int(db.session.scalar(sa.select(sa.func.count(InboundNotification.id))) or 0)


def test_a_channel_cronofy_lost_is_made_again_under_a_new_secret_url(
    app: Flask, instructor: FlaskClient, people: People, wiring: Wiring
) -> None:
    conn = connected(app, instructor, people)
    [(lost, old_path)] = our_channels(app, wiring, conn.id).items()
    assert lost == conn.channel_id
    with app.app_context():
        wiring.cronofy.close_channel(access_token(wiring.cronofy, conn.id), lost)  # Cronofy lost it
    before = stored(app)

    run = check(app, wiring)
    assert (run.checked, run.recreated, run.failed) == (1, [conn.id], 0)
    after = the_connection(app, people.instructor_id)
    assert after is not None
    [(made, new_path)] = our_channels(app, wiring, conn.id).items()
    assert after.channel_id == made != lost
    assert new_path != old_path  # a new secret URL: the old one is dead
    assert change(app, wiring, new_path, made) == 202
    assert stored(app) == before + 1
    assert change(app, wiring, old_path, made) == 202  # acknowledged, but not ours any more
    assert stored(app) == before + 1
    with app.app_context():
        event = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "connection.channel_recreated")
        ).one()
        instructor_user = db.session.get(User, people.instructor_id)
        assert instructor_user is not None
        assert event.target == instructor_user.email
        assert event.details == {"had_channel": True}

    again = check(app, wiring)
    assert (again.checked, again.recreated, again.failed) == (1, [], 0)


def test_a_channel_that_could_not_be_made_at_connect_is_made_by_the_check(
    app: Flask, instructor: FlaskClient, people: People, wiring: Wiring
) -> None:
    wiring.sandbox.control.fail_next(500, 20, path_prefix="/v1/channels")
    conn = connected(app, instructor, people)  # connecting still works without a channel
    assert conn.channel_id is None
    wiring.sandbox.control.clear_faults()
    assert "sync-no-channel" in instructor.get("/calendars").get_data(as_text=True)
    admin = app.test_client()
    assert log_in(admin, people.admin_email, people.password).status_code == 302
    assert "does not announce this calendar" in admin.get("/sync").get_data(as_text=True)

    assert check(app, wiring).recreated == [conn.id]
    after = the_connection(app, people.instructor_id)
    assert after is not None
    assert after.channel_id in our_channels(app, wiring, conn.id)
    assert "sync-no-channel" not in instructor.get("/calendars").get_data(as_text=True)
    assert "does not announce" not in admin.get("/sync").get_data(as_text=True)


def test_a_check_while_cronofy_fails_changes_nothing(
    app: Flask, instructor: FlaskClient, people: People, wiring: Wiring
) -> None:
    conn = connected(app, instructor, people)
    wiring.sandbox.control.fail_next(503, 1000, path_prefix="/v1/channels")
    run = check(app, wiring)
    assert (run.recreated, run.failed) == ([], 1)
    after = the_connection(app, people.instructor_id)
    assert after is not None
    assert after.channel_id == conn.channel_id


def _expire_in(app: Flask, connection_id: int, minutes: int) -> None:
    with app.app_context():
        db.session.execute(
            sa.update(CalendarConnection)
            .where(CalendarConnection.id == connection_id)
            .values(access_token_expires_at=utcnow() + timedelta(minutes=minutes))
        )
        db.session.commit()


def test_a_token_expiring_before_the_next_upkeep_is_renewed_and_a_fresh_one_is_not(
    app: Flask, instructor: FlaskClient, people: People, wiring: Wiring
) -> None:
    conn = connected(app, instructor, people)
    _expire_in(app, conn.id, 15)  # inside RENEW_AHEAD, outside the 5 minutes of a call
    with app.app_context():
        old_token = token_cipher().decrypt(conn.access_token_encrypted or "")
        assert upkeep.renew_tokens(wiring.cronofy) == upkeep.Renewal(renewed=1, failed=0)
        renewed = db.session.get(CalendarConnection, conn.id)
        assert renewed is not None
        assert renewed.access_token_expires_at is not None
        assert renewed.access_token_expires_at > utcnow() + upkeep.RENEW_AHEAD
        assert token_cipher().decrypt(renewed.access_token_encrypted or "") != old_token
        assert upkeep.renew_tokens(wiring.cronofy) == upkeep.Renewal(renewed=0, failed=0)


def test_a_refresh_cronofy_refuses_marks_the_connection_for_reconnecting(
    app: Flask, instructor: FlaskClient, people: People, wiring: Wiring
) -> None:
    conn = connected(app, instructor, people)
    with app.app_context():
        refresh = token_cipher().decrypt(conn.refresh_token_encrypted or "")
    wiring.sandbox.control.revoke_refresh_token(refresh)
    _expire_in(app, conn.id, 15)
    with app.app_context():
        assert upkeep.renew_tokens(wiring.cronofy) == upkeep.Renewal(renewed=0, failed=1)
    after = the_connection(app, people.instructor_id)
    assert after is not None
    assert after.status is ConnectionStatus.NEEDS_RECONNECT
    with app.app_context():  # not tried again while it waits for its owner
        assert upkeep.renew_tokens(wiring.cronofy) == upkeep.Renewal(renewed=0, failed=0)


def test_beat_runs_the_upkeep(app: Flask) -> None:
    schedule = beat_schedule(app.config)
    assert schedule["renew-tokens"]["schedule"] == timedelta(minutes=10)
    assert schedule["check-channels"]["schedule"] == timedelta(hours=1)
    assert schedule["renew-tokens"]["schedule"] < upkeep.RENEW_AHEAD


def test_flask_sync_status_names_a_missing_channel_and_flask_sync_upkeep_makes_it(
    app: Flask, instructor: FlaskClient, people: People, wiring: Wiring
) -> None:
    conn = connected(app, instructor, people)
    with app.app_context():
        wiring.cronofy.close_channel(access_token(wiring.cronofy, conn.id), conn.channel_id or "")
        db.session.execute(
            sa.update(CalendarConnection)
            .where(CalendarConnection.id == conn.id)
            .values(channel_id=None, channel_token_hash=None)
        )
        db.session.commit()
    runner = app.test_cli_runner()
    status = runner.invoke(args=["sync", "status"])
    assert "no push channel (flask sync upkeep makes it)" in status.output

    done = runner.invoke(args=["sync", "upkeep"])
    assert done.exit_code == 0, done.output
    assert "tokens: 0 renewed, 0 failed" in done.output
    assert "channels: 1 checked, 1 made again, 0 failed" in done.output
    assert "no push channel" not in runner.invoke(args=["sync", "status"]).output

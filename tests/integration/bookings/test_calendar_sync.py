"""Calendar -> Bookly: sandbox calendar changes become Bookly busy blocks through real pushes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from bookly_client import BooklyGateway
from cronofy_client import HMAC_HEADER, sign_body
from tests.integration.bookings.conftest import School, connect_instructor
from tests.sandbox_fixtures import RunningSandbox
from tests.webapp_fixtures import People, free_port, serving, wait_for
from webapp.clients import get_clients
from webapp.extensions import db
from webapp.models import BusyBlock, CalendarConnection, InboundNotification
from webapp.services import sync, tokens


@pytest.fixture
def port() -> int:
    """The port our app is served on."""
    return free_port()


@pytest.fixture
def app_overrides(port: int) -> dict[str, Any]:
    """Channel callback URLs point at our served app."""
    return {"PUBLIC_BASE_URL": f"http://127.0.0.1:{port}", "CONNECT_START_LIMIT": "100/minute"}


@pytest.fixture
def served(app: Flask, port: int) -> Iterator[str]:
    """Our app answering HTTP (the sandbox pushes to it)."""
    with serving(app, port) as url:
        yield url


def _soon(days: int, hour: int) -> datetime:
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today + timedelta(days=days, hours=hour)


def _blocks(gateway: BooklyGateway, staff_id: int) -> list[tuple[datetime, datetime]]:
    window = _soon(-2, 0), _soon(60, 0)
    return sorted((b.start, b.end) for b in gateway.list_busy_blocks(*window, staff_ids=[staff_id]))


def _ada_calendar(app: Flask) -> str:
    """The calendar Ada's bookings go to (one of her conflict calendars)."""
    with app.app_context():
        calendar = db.session.scalar(sa.select(CalendarConnection.write_calendar_id))
    assert calendar
    return calendar


def test_external_event_added_moved_deleted_follows_in_bookly(
    app: Flask,
    served: str,
    people: People,
    school: School,
    sandbox: RunningSandbox,
    gateway: BooklyGateway,
) -> None:
    connect_instructor(app, people, "read_write")
    wait_for(lambda: _last_synced(app))  # the first (full) sync after connect
    seeded = _blocks(gateway, school.staff_id)  # the sandbox's demo events, mirrored
    assert seeded
    start, end = _soon(3, 9), _soon(3, 10)
    uid = sandbox.control.add_event(_ada_calendar(app), "Dentist", start, end)
    wait_for(lambda: _blocks(gateway, school.staff_id) == sorted([*seeded, (start, end)]))
    block = gateway.list_busy_blocks(start, end, staff_ids=[school.staff_id])[0]
    assert "Dentist" not in block.label  # times only, never the title

    later = start + timedelta(hours=2), end + timedelta(hours=2)
    sandbox.control.move_event(uid, *later)
    wait_for(lambda: _blocks(gateway, school.staff_id) == sorted([*seeded, later]))
    moved = gateway.list_busy_blocks(*later, staff_ids=[school.staff_id])[0]
    assert moved.id == block.id  # moved, not replaced

    sandbox.control.delete_event(uid)
    wait_for(lambda: _blocks(gateway, school.staff_id) == seeded)
    with app.app_context():
        mapped = db.session.scalar(sa.select(sa.func.count()).select_from(BusyBlock))
        assert mapped == len(seeded)
        pending = sa.select(sa.func.count()).where(InboundNotification.processed_at.is_(None))
        assert db.session.scalar(pending.select_from(InboundNotification)) == 0


def test_a_failed_read_deletes_nothing_and_the_next_sync_repairs(
    app: Flask,
    served: str,
    people: People,
    school: School,
    sandbox: RunningSandbox,
    gateway: BooklyGateway,
) -> None:
    connect_instructor(app, people, "read_write")
    wait_for(lambda: _last_synced(app))
    seeded = _blocks(gateway, school.staff_id)
    start, end = _soon(4, 9), _soon(4, 10)
    uid = sandbox.control.add_event(_ada_calendar(app), "Gym", start, end)
    with_gym = sorted([*seeded, (start, end)])
    wait_for(lambda: _blocks(gateway, school.staff_id) == with_gym)

    wait_for(lambda: all(d.get("outcome") != "pending" for d in sandbox.control.deliveries()))
    delivered = _delivered(sandbox)
    sandbox.control.fail_next(503, 100, path_prefix="/v1/free_busy")
    sandbox.control.delete_event(uid)
    # Eager, the sync runs inside the acknowledged delivery: wait until that answered.
    wait_for(lambda: _delivered(sandbox) > delivered)
    assert _pending(app) > 0
    assert _blocks(gateway, school.staff_id) == with_gym  # not confirmed gone: kept
    recorded, shown, newest = _heard(app)
    assert shown == newest  # people see the waiting change...
    assert recorded is not None
    assert recorded < newest  # ...which the receiver did not write onto the connection

    sandbox.control.clear_faults()
    with app.app_context():
        for connection_id in sync.connections_to_sync():
            assert _run(connection_id, gateway).deleted == 1
    assert _blocks(gateway, school.staff_id) == seeded
    assert _pending(app) == 0
    assert _heard(app) == (newest, newest, newest)  # the run recorded it


def _heard(app: Flask) -> tuple[datetime | None, datetime | None, datetime | None]:
    """When Cronofy last wrote: as recorded on the connection, as shown to people, and the
    newest stored notification."""
    with app.app_context():
        connection = db.session.scalars(sa.select(CalendarConnection)).one()
        newest = db.session.scalar(sa.select(sa.func.max(InboundNotification.received_at)))
        shown = sync.sync_health(connection).last_notification_at
        return connection.last_notification_at, shown, newest


def _run(connection_id: int, gateway: BooklyGateway) -> sync.SyncRun:
    return sync.sync_connection(get_clients().cronofy, gateway, connection_id)


def _delivered(sandbox: RunningSandbox) -> int:
    return sum(1 for d in sandbox.control.deliveries() if d.get("outcome") == "delivered")


def _pending(app: Flask) -> int:
    with app.app_context():
        query = sa.select(sa.func.count()).where(InboundNotification.processed_at.is_(None))
        return int(db.session.scalar(query.select_from(InboundNotification)) or 0)


def _last_synced(app: Flask) -> bool:
    with app.app_context():
        return bool(db.session.scalar(sa.select(CalendarConnection.last_synced_at)))


@pytest.mark.requirement(3)
def test_the_same_signed_notification_three_times_and_later_changes_bookly_once(
    app: Flask,
    served: str,
    people: People,
    school: School,
    sandbox: RunningSandbox,
    gateway: BooklyGateway,
) -> None:
    connect_instructor(app, people, "read_write")
    wait_for(lambda: _last_synced(app))
    seeded = _blocks(gateway, school.staff_id)
    start, end = _soon(5, 9), _soon(5, 10)
    calendar = _ada_calendar(app)
    sandbox.control.add_events(calendar, [{"summary": "Run", "start": start, "end": end}],
                               notify=False)  # fmt: skip
    body, path = _signed_change(app, sandbox)
    client = app.test_client()
    for _ in range(3):
        response = client.post(path, data=body, headers={HMAC_HEADER: sign_body(
            body, sandbox.client_secret)}, content_type="application/json")  # fmt: skip
        assert response.status_code == 202
    with_run = sorted([*seeded, (start, end)])
    assert _blocks(gateway, school.staff_id) == with_run
    rows_after_first = school.site.count(school.site.tables.appointments)
    # Delivered again much later: read again, nothing written to Bookly.
    response = client.post(path, data=body, headers={HMAC_HEADER: sign_body(
        body, sandbox.client_secret)}, content_type="application/json")  # fmt: skip
    assert response.status_code == 202
    assert _blocks(gateway, school.staff_id) == with_run
    assert school.site.count(school.site.tables.appointments) == rows_after_first


def _signed_change(app: Flask, sandbox: RunningSandbox) -> tuple[bytes, str]:
    """A change body for Ada's channel and the local path of its push URL."""
    with app.app_context():
        connection = db.session.scalar(sa.select(CalendarConnection))
        assert connection is not None
        token = tokens.access_token(get_clients().cronofy, connection.id)
        channel = next(
            c
            for c in get_clients().cronofy.list_channels(token)
            if c.channel_id == connection.channel_id
        )
    notification = {"type": "change", "changes_since": "2026-01-01T00:00:00Z"}
    described = {"channel_id": channel.channel_id, "callback_url": "https://x/y", "filters": {}}
    data = {"notification": notification, "channel": described}
    return json.dumps(data).encode(), "/" + channel.callback_url.split("/", 3)[3]


def test_flask_sync_now_and_status(
    app: Flask,
    served: str,
    people: People,
    school: School,
    sandbox: RunningSandbox,
    gateway: BooklyGateway,
) -> None:
    connect_instructor(app, people, "read_write")
    wait_for(lambda: _last_synced(app))
    seeded = _blocks(gateway, school.staff_id)
    start, end = _soon(6, 9), _soon(6, 10)
    sandbox.control.add_events(_ada_calendar(app), [{"summary": "Quiet", "start": start,
                               "end": end}], notify=False)  # fmt: skip
    runner = app.test_cli_runner()
    unknown = runner.invoke(args=["sync", "now", "--instructor", "nobody@school.test"])
    assert unknown.exit_code != 0
    assert "no calendar connection for nobody@school.test" in unknown.output
    result = runner.invoke(args=["sync", "now", "--instructor", people.instructor_email.upper()])
    assert result.exit_code == 0, result.output
    assert "1 created, 0 moved, 0 deleted" in result.output
    assert _blocks(gateway, school.staff_id) == sorted([*seeded, (start, end)])
    status = runner.invoke(args=["sync", "status"])
    assert status.exit_code == 0, status.output
    assert people.instructor_email in status.output
    assert f"pending 0  blocks {len(seeded) + 1}" in status.output

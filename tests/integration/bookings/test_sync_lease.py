"""Calendar -> Bookly runs of one connection never overlap, and none leaves work behind.

Without the lease, runs started together (two workers, a push kick beside the beat sweep)
each read free/busy, each saw the same new periods and each created a Bookly block for
them. Both stacks: SQLite with SQLite as Bookly, PostgreSQL with MariaDB.
"""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from bookly_client import BooklyGateway
from cronofy_client import CronofyClient
from tests.sandbox_fixtures import RunningSandbox
from tests.webapp_fixtures import People
from webapp.extensions import db
from webapp.models import BusyBlock, CalendarConnection, InboundNotification
from webapp.services import sync

from .conftest import School, connect_instructor

SLOW_READ_MS = 700


def soon(days: int, hour: int) -> datetime:
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today + timedelta(days=days, hours=hour)


def connected(app: Flask, people: People, sandbox: RunningSandbox) -> tuple[int, str]:
    """Ada connected (pushes go nowhere: runs happen only when a test starts them)."""
    connect_instructor(app, people, "read_write")
    with app.app_context():
        connection = db.session.scalars(sa.select(CalendarConnection)).one()
        assert connection.write_calendar_id
        return connection.id, connection.write_calendar_id


def run(app: Flask, cronofy: CronofyClient, gateway: BooklyGateway, connection_id: int,
        **kw: object) -> sync.SyncRun:  # fmt: skip
    with app.app_context():
        try:
            return sync.sync_connection(cronofy, gateway, connection_id, horizon_days=30, **kw)  # type: ignore[arg-type]
        finally:
            db.session.remove()


def bookly_blocks(gateway: BooklyGateway, staff_id: int) -> list[tuple[datetime, datetime]]:
    return sorted(
        (b.start, b.end)
        for b in gateway.list_busy_blocks(soon(-2, 0), soon(40, 0), staff_ids=[staff_id])
    )


def free_busy_reads(sandbox: RunningSandbox) -> int:
    return sum(1 for r in sandbox.control.requests() if r["path"].startswith("/v1/free_busy"))


def store_notification(app: Flask, connection_id: int) -> None:
    """A change notification accepted by the receiver, waiting for a run."""
    with app.app_context():
        db.session.add(
            InboundNotification(body_hash=uuid.uuid4().hex * 2, notification_type="change",
                                channel_id=None, connection_id=connection_id, body="{}")
        )  # fmt: skip
        db.session.commit()


def pending(app: Flask, connection_id: int) -> int:
    with app.app_context():
        query = sa.select(sa.func.count()).where(
            InboundNotification.connection_id == connection_id,
            InboundNotification.processed_at.is_(None),
        )
        return int(db.session.scalar(query.select_from(InboundNotification)) or 0)


def test_runs_started_together_create_each_block_once(
    app: Flask,
    people: People,
    school: School,
    sandbox: RunningSandbox,
    gateway: BooklyGateway,
    cronofy: CronofyClient,
) -> None:
    connection_id, calendar = connected(app, people, sandbox)
    before = bookly_blocks(gateway, school.staff_id)  # the demo events, if connect synced
    added = [(soon(day, 9), soon(day, 10)) for day in (2, 3, 4)]
    for start, end in added:
        sandbox.control.add_event(calendar, "Busy", start, end)
    sandbox.control.fail_next(0, 8, latency_ms=SLOW_READ_MS, path_prefix="/v1/free_busy")
    sandbox.control.clear_requests()
    results: list[sync.SyncRun] = []
    start_together = threading.Barrier(4)

    def runner() -> None:
        start_together.wait()
        results.append(run(app, cronofy, gateway, connection_id, force=True))

    threads = [threading.Thread(target=runner) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    blocks = bookly_blocks(gateway, school.staff_id)
    assert set(added) <= set(blocks)
    assert len(blocks) == len(set(blocks))  # no period twice in Bookly
    with app.app_context():
        mapped = db.session.scalar(sa.select(sa.func.count()).select_from(BusyBlock))
    assert mapped == len(blocks)
    assert sum(r.created for r in results) == len(blocks) - len(before)
    assert sum(1 for r in results if r.skipped) >= 1
    assert free_busy_reads(sandbox) < 4  # the runs that found the lease held read nothing


def test_a_held_lease_leaves_the_work_to_its_holder_and_an_expired_one_is_taken_over(
    app: Flask,
    people: People,
    school: School,
    sandbox: RunningSandbox,
    gateway: BooklyGateway,
    cronofy: CronofyClient,
) -> None:
    connection_id, calendar = connected(app, people, sandbox)
    sandbox.control.add_event(calendar, "Busy", soon(2, 9), soon(2, 10))
    store_notification(app, connection_id)
    with app.app_context():
        connection = db.session.get(CalendarConnection, connection_id)
        assert connection is not None
        connection.sync_lease_until = datetime.now(UTC) + timedelta(minutes=1)
        db.session.commit()
    sandbox.control.clear_requests()

    held = run(app, cronofy, gateway, connection_id)
    assert held.skipped
    assert not held.read
    assert free_busy_reads(sandbox) == 0
    assert pending(app, connection_id) == 1  # left for the holder, not dropped

    with app.app_context():  # the holder was killed: its lease ran out
        connection = db.session.get(CalendarConnection, connection_id)
        assert connection is not None
        connection.sync_lease_until = datetime.now(UTC) - timedelta(seconds=1)
        db.session.commit()
    taken_over = run(app, cronofy, gateway, connection_id)
    assert taken_over.read
    assert not taken_over.skipped
    assert (soon(2, 9), soon(2, 10)) in bookly_blocks(gateway, school.staff_id)
    assert pending(app, connection_id) == 0
    with app.app_context():
        released = db.session.get(CalendarConnection, connection_id)
        assert released is not None
        assert released.sync_lease_until is None


def test_notifications_stored_during_a_run_are_taken_by_that_run(
    app: Flask,
    people: People,
    school: School,
    sandbox: RunningSandbox,
    gateway: BooklyGateway,
    cronofy: CronofyClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    connection_id, calendar = connected(app, people, sandbox)
    run(app, cronofy, gateway, connection_id, force=True)  # the first full sync
    sandbox.control.add_event(calendar, "Busy", soon(3, 9), soon(3, 10))
    store_notification(app, connection_id)
    reading, go_on = threading.Event(), threading.Event()
    read = sync.busy_periods

    def first_read_waits(*args: Any, **kw: Any) -> Any:
        if not reading.is_set():
            reading.set()
            assert go_on.wait(30)
        return read(*args, **kw)

    monkeypatch.setattr(sync, "busy_periods", first_read_waits)
    sandbox.control.clear_requests()
    first: list[sync.SyncRun] = []
    holder = threading.Thread(
        target=lambda: first.append(run(app, cronofy, gateway, connection_id))
    )
    holder.start()
    assert reading.wait(30)  # the holder has the lease and is reading
    late = (soon(5, 9), soon(5, 10))
    sandbox.control.add_event(calendar, "Later", *late)
    store_notification(app, connection_id)  # its own kick finds the lease held:
    assert run(app, cronofy, gateway, connection_id).skipped
    go_on.set()
    holder.join(60)

    assert pending(app, connection_id) == 0
    assert late in bookly_blocks(gateway, school.staff_id)
    assert first[0].read
    assert first[0].created == 2
    assert free_busy_reads(sandbox) == 2  # the holder read again for the late change

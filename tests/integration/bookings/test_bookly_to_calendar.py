"""Bookly -> calendar: appointments made in Bookly itself reach the instructor's calendar.

Rows are written the way Bookly's own front end and wp-admin write them (appointment,
customer, customer-appointment and their log rows), on SQLite and on MariaDB; the calendar is
the served sandbox.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from bookly_client import BooklyGateway
from cronofy_client import CronofyClient
from tests.sandbox_fixtures import RunningSandbox
from tests.webapp_fixtures import People
from webapp.extensions import BOOKLY_MIRROR_TASK, BOOKLY_POLL_TASK, db
from webapp.inprocess_beat import InProcessBeat, start_if_configured
from webapp.mail import CapturingMailer
from webapp.models import (
    Booking,
    BookingStatus,
    BooklyMirror,
    CalendarConnection,
    OutboxJob,
    OutboxStatus,
    SyncCursor,
)
from webapp.services import bookly_sync, calendar_repair
from webapp.services.bookly_sync import MIRROR_JOB

from .conftest import NOW, School, at, connect_instructor
from .test_service import book, request_for

# Monday 7 January 2030 in Berlin (UTC+1): 10:00 local is 09:00 UTC.
MONDAY_LOCAL = "2030-01-07"


def _poll(app: Flask, gateway: BooklyGateway, **kw: Any) -> bookly_sync.PollRun:
    with app.app_context():
        return bookly_sync.poll(gateway, now=kw.pop("now", NOW), **kw)


def _mirror(
    app: Flask, cronofy: CronofyClient, gateway: BooklyGateway, now: datetime = NOW
) -> bookly_sync.MirrorRun:
    with app.app_context():
        return bookly_sync.run_due(cronofy, gateway, now=now)


def _sync(app: Flask, cronofy: CronofyClient, gateway: BooklyGateway, **kw: Any) -> None:
    _poll(app, gateway, **kw)
    _mirror(app, cronofy, gateway)


def _calendar(app: Flask) -> str:
    with app.app_context():
        calendar = db.session.scalar(sa.select(CalendarConnection.write_calendar_id))
    assert calendar
    return str(calendar)


def _mirrored(sandbox: RunningSandbox, calendar: str) -> list[dict[str, Any]]:
    return [
        e for e in sandbox.control.events(calendar)
        if str(e.get("event_id") or "").startswith("bridge-bookly-") and not e.get("deleted")
    ]  # fmt: skip


def _bookly_appointment(school: School, start: str, end: str, **kw: Any) -> int:
    return school.site.bookly_appointment(
        school.staff_id, school.lesson, f"{MONDAY_LOCAL} {start}", f"{MONDAY_LOCAL} {end}", **kw
    )


def _set_status(school: School, appointment_id: int, status: str) -> None:
    """What wp-admin does when an admin cancels: the status changes and Bookly logs it."""
    ca = school.site.tables.customer_appointments
    school.site.execute(
        sa.update(ca).where(ca.c.appointment_id == appointment_id).values(status=status)
    )
    with school.site.engine.connect() as conn:
        ca_id = conn.scalar(sa.select(ca.c.id).where(ca.c.appointment_id == appointment_id))
    school.site.log_row("update", ca, int(ca_id or 0),
                        {"appointment_id": appointment_id, "status": status})  # fmt: skip


def _move(school: School, appointment_id: int, start: str, end: str, *, log: bool = True) -> None:
    a = school.site.tables.appointments
    school.site.execute(
        sa.update(a).where(a.c.id == appointment_id).values(
            start_date=sa.text(f"'{MONDAY_LOCAL} {start}:00'"),
            end_date=sa.text(f"'{MONDAY_LOCAL} {end}:00'"),
        )
    )  # fmt: skip
    if log:
        school.site.log_row("update", a, appointment_id, {"start_date": start})


def _delete(school: School, appointment_id: int) -> None:
    t = school.site.tables
    school.site.execute(
        sa.delete(t.customer_appointments).where(
            t.customer_appointments.c.appointment_id == appointment_id
        )
    )
    school.site.execute(sa.delete(t.appointments).where(t.appointments.c.id == appointment_id))
    school.site.log_row("delete", t.appointments, appointment_id, {})


def test_an_appointment_made_in_bookly_follows_into_the_calendar(
    app: Flask, people: People, school: School, gateway: BooklyGateway, cronofy: CronofyClient,
    sandbox: RunningSandbox,
) -> None:  # fmt: skip
    connect_instructor(app, people, "read_write")
    _poll(app, gateway)  # the first poll starts the feed at Bookly's newest log row
    calendar = _calendar(app)

    appointment = _bookly_appointment(school, "10:00", "11:00")
    _sync(app, cronofy, gateway)
    (event,) = _mirrored(sandbox, calendar)
    assert event["event_id"] == f"bridge-bookly-{appointment}"
    assert event["start"].startswith("2030-01-07T09:00")  # 10:00 Berlin, in UTC
    assert "Driving lesson" in event["summary"]

    _move(school, appointment, "14:00", "15:00")
    _sync(app, cronofy, gateway)
    (moved,) = _mirrored(sandbox, calendar)
    assert moved["start"].startswith("2030-01-07T13:00")

    _set_status(school, appointment, "cancelled")
    _sync(app, cronofy, gateway)
    assert _mirrored(sandbox, calendar) == []

    again = _bookly_appointment(school, "12:00", "13:00")
    _sync(app, cronofy, gateway)
    assert [e["event_id"] for e in _mirrored(sandbox, calendar)] == [f"bridge-bookly-{again}"]
    _delete(school, again)
    _sync(app, cronofy, gateway)
    assert _mirrored(sandbox, calendar) == []
    with app.app_context():  # ids and a fingerprint only: nothing of the customer
        row = db.session.scalars(
            sa.select(BooklyMirror).where(BooklyMirror.bookly_appointment_id == again)
        ).one()
        assert (row.calendar_id, row.fingerprint) == (None, None)


@pytest.mark.parametrize("access_mode", ["free_busy", "no_calendar"])
def test_in_the_other_modes_the_instructor_is_mailed_an_invite(
    app: Flask, people: People, school: School, gateway: BooklyGateway, cronofy: CronofyClient,
    sandbox: RunningSandbox, access_mode: str,
) -> None:  # fmt: skip
    connect_instructor(app, people, access_mode)
    _poll(app, gateway)
    _bookly_appointment(school, "10:00", "11:00")
    _sync(app, cronofy, gateway)
    invites = [m for m in sandbox.control.mailbox()
               if m["method"] == "REQUEST"]  # fmt: skip
    assert len(invites) == 1
    assert "Driving lesson" in invites[0]["subject"]


def test_our_own_bookings_and_busy_blocks_are_not_echoed(
    app: Flask, people: People, school: School, gateway: BooklyGateway, cronofy: CronofyClient,
    sandbox: RunningSandbox,
) -> None:  # fmt: skip
    connect_instructor(app, people, "read_write")
    _poll(app, gateway)
    book(app, gateway, cronofy, request_for(school, at(9)))
    block = gateway.create_busy_block(school.staff_id, at(12), at(13)).id
    with app.app_context():
        connection_id = db.session.scalar(sa.select(CalendarConnection.id))
        from webapp.models import BusyBlock  # noqa: PLC0415 - only this test maps a block

        db.session.add(BusyBlock(connection_id=connection_id, starts_at=at(12), ends_at=at(13),
                                 bookly_appointment_id=block))  # fmt: skip
        db.session.commit()
    _sync(app, cronofy, gateway)
    assert _mirrored(sandbox, _calendar(app)) == []
    with app.app_context():
        assert set(db.session.scalars(sa.select(BooklyMirror.calendar_id))) <= {None}


def test_our_booking_cancelled_or_moved_in_wp_admin_is_followed(
    app: Flask, people: People, school: School, gateway: BooklyGateway, cronofy: CronofyClient,
    sandbox: RunningSandbox,
) -> None:  # fmt: skip
    connect_instructor(app, people, "read_write")
    _poll(app, gateway)
    moved = book(app, gateway, cronofy, request_for(school, at(9)), key="moved").booking
    gone = book(app, gateway, cronofy, request_for(school, at(13)), key="gone").booking
    _move(school, int(moved.bookly_appointment_id or 0), "16:00", "17:00")
    _set_status(school, int(gone.bookly_appointment_id or 0), "cancelled")
    _sync(app, cronofy, gateway)
    with app.app_context():
        rows = {b.public_id: b for b in db.session.scalars(sa.select(Booking))}
        assert rows[moved.public_id].starts_at == at(15)  # 16:00 Berlin
        assert rows[moved.public_id].status is BookingStatus.CONFIRMED
        assert rows[gone.public_id].status is BookingStatus.CANCELLED
        mirrors = db.session.scalars(sa.select(BooklyMirror.calendar_id))
        assert set(mirrors) <= {None}  # their own events are theirs, not mirrors


def test_reconciliation_finds_what_the_log_missed(
    app: Flask, people: People, school: School, gateway: BooklyGateway, cronofy: CronofyClient,
    sandbox: RunningSandbox,
) -> None:  # fmt: skip
    connect_instructor(app, people, "read_write")
    _poll(app, gateway)
    calendar = _calendar(app)
    logged = _bookly_appointment(school, "10:00", "11:00")
    _sync(app, cronofy, gateway)
    raw = _bookly_appointment(school, "15:00", "16:00", log=False)  # raw SQL: no log rows
    _move(school, logged, "12:00", "13:00", log=False)

    quiet = _poll(app, gateway, now=NOW + timedelta(minutes=1))
    assert (quiet.entries, quiet.queued, quiet.reconciled) == (0, 0, False)

    later = NOW + timedelta(minutes=16)
    run = _poll(app, gateway, now=later)
    assert (run.reconciled, run.repairs) == (True, 2)
    _mirror(app, cronofy, gateway, later)
    events = sorted((e["event_id"], e["start"][:16]) for e in _mirrored(sandbox, calendar))
    assert events == [
        (f"bridge-bookly-{logged}", "2030-01-07T11:00"),
        (f"bridge-bookly-{raw}", "2030-01-07T14:00"),
    ]
    with app.app_context():
        cursor = db.session.get(SyncCursor, bookly_sync.FEED)
        assert cursor is not None
        assert cursor.last_repairs == 2
    settled = _poll(app, gateway, now=later + timedelta(minutes=16))
    assert settled.repairs == 0  # repaired once, not every time


def test_a_failed_calendar_write_retries_and_never_duplicates(
    app: Flask, people: People, school: School, gateway: BooklyGateway, cronofy: CronofyClient,
    sandbox: RunningSandbox,
) -> None:  # fmt: skip
    connect_instructor(app, people, "read_write")
    _poll(app, gateway)
    _bookly_appointment(school, "10:00", "11:00")
    _poll(app, gateway)
    sandbox.control.fail_next(503, 10, path_prefix="/v1/calendars")
    run = _mirror(app, cronofy, gateway)
    assert (run.done, run.retried) == (0, 1)
    with app.app_context():
        job = db.session.scalars(sa.select(OutboxJob).where(OutboxJob.kind == MIRROR_JOB)).one()
        assert job.status is OutboxStatus.PENDING
        assert "calendar write failed" in str(job.last_error)
        job.next_attempt_at = NOW
        db.session.commit()
    sandbox.control.clear_faults()
    assert _mirror(app, cronofy, gateway).done == 1
    _poll(app, gateway)  # nothing new
    assert len(_mirrored(sandbox, _calendar(app))) == 1


def test_an_unlinked_staff_member_or_a_disconnected_instructor_gets_nothing(
    app: Flask, people: People, school: School, gateway: BooklyGateway, cronofy: CronofyClient,
    sandbox: RunningSandbox,
) -> None:  # fmt: skip
    _poll(app, gateway)  # Ada has not connected
    _bookly_appointment(school, "10:00", "11:00")
    other = school.site.add_staff("Someone Else")
    school.site.bookly_appointment(other, school.lesson, f"{MONDAY_LOCAL} 10:00",
                                   f"{MONDAY_LOCAL} 11:00")  # fmt: skip
    _poll(app, gateway)
    assert _mirror(app, cronofy, gateway).done == 2
    with app.app_context():
        rows = list(db.session.scalars(sa.select(BooklyMirror)))
        assert [r.calendar_id for r in rows] == [None, None]
    assert sandbox.control.requests() == [] or all(
        "/v1/calendars/" not in r.get("path", "") for r in sandbox.control.requests()
    )


def test_the_in_process_beat_of_make_run_mirrors_bookly_on_its_own(
    app: Flask, people: People, school: School, sandbox: RunningSandbox,
) -> None:  # fmt: skip
    connect_instructor(app, people, "read_write")
    clock = [1000.0]
    beat = InProcessBeat(app, clock=lambda: clock[0])
    ran = beat.run_due()  # at start-up every task runs once (the first poll starts the feed)
    assert {BOOKLY_POLL_TASK, BOOKLY_MIRROR_TASK} <= set(ran)
    appointment = _bookly_appointment(school, "10:00", "11:00")
    clock[0] += 5
    assert beat.run_due() == []  # not yet: the poll runs every BOOKLY_POLL_SECONDS (15)
    clock[0] += 10
    assert BOOKLY_POLL_TASK in beat.run_due()
    (event,) = _mirrored(sandbox, _calendar(app))
    assert event["event_id"] == f"bridge-bookly-{appointment}"


def test_the_in_process_beat_is_off_unless_asked_and_never_beside_a_broker(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert start_if_configured(app) is None  # tests and production: off
    monkeypatch.setitem(app.config, "IN_PROCESS_BEAT", True)
    monkeypatch.setitem(app.config, "CELERY_BROKER_URL", "redis://127.0.0.1:6379/14")
    assert start_if_configured(app) is None  # celery beat's job there
    monkeypatch.setitem(app.config, "CELERY_BROKER_URL", None)
    beat = start_if_configured(app)
    assert beat is not None
    beat.stop()


def test_a_mirrored_event_deleted_behind_our_back_is_written_again(
    app: Flask, people: People, school: School, gateway: BooklyGateway, cronofy: CronofyClient,
    sandbox: RunningSandbox, mailer: CapturingMailer,
) -> None:  # fmt: skip
    connect_instructor(app, people, "read_write")
    _poll(app, gateway)
    appointment = _bookly_appointment(school, "10:00", "11:00")
    _sync(app, cronofy, gateway)
    calendar = _calendar(app)
    (event,) = _mirrored(sandbox, calendar)
    sandbox.control.delete_event(event["event_uid"])
    assert _mirrored(sandbox, calendar) == []
    with app.app_context():
        connection_id = int(db.session.scalar(sa.select(CalendarConnection.id)) or 0)
        found = calendar_repair.check_booking_events(cronofy, gateway, mailer, connection_id,
                                                     now=NOW)  # fmt: skip
    assert found.rewritten == 1
    _mirror(app, cronofy, gateway)
    assert [e["event_id"] for e in _mirrored(sandbox, calendar)] == [f"bridge-bookly-{appointment}"]


def test_appointments_made_before_the_instructor_connected_reach_the_calendar_at_once(
    app: Flask, people: People, school: School, gateway: BooklyGateway, cronofy: CronofyClient,
    sandbox: RunningSandbox,
) -> None:  # fmt: skip
    """Real time here: the window reconciled is the one ahead of today."""
    from datetime import UTC
    from zoneinfo import ZoneInfo

    soon = (datetime.now(UTC) + timedelta(days=3)).astimezone(ZoneInfo("Europe/Berlin"))
    day = soon.strftime("%Y-%m-%d")
    appointment = school.site.bookly_appointment(
        school.staff_id, school.lesson, f"{day} 10:00", f"{day} 11:00"
    )
    with app.app_context():  # the first poll decides: Ada has no calendar, nothing to write
        bookly_sync.poll(gateway)
        bookly_sync.run_due(cronofy, gateway)
        assert db.session.scalars(sa.select(BooklyMirror.calendar_id)).all() == [None]
    connect_instructor(app, people, "read_write")
    with app.app_context():  # the next poll compares again at once, not in 15 minutes
        assert bookly_sync.poll(gateway).reconciled
        bookly_sync.run_due(cronofy, gateway)
    assert [e["event_id"] for e in _mirrored(sandbox, _calendar(app))] == [
        f"bridge-bookly-{appointment}"
    ]

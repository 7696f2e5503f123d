"""A booking's event moved or deleted by the instructor follows the school's policy, and the
reconciliation repairs what changed behind our back (Bookly blocks, missing events)."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from bookly_client import BooklyGateway
from cronofy_client import CronofyClient
from tests.sandbox_fixtures import RunningSandbox
from tests.webapp_fixtures import People, log_in
from webapp.extensions import db
from webapp.mail import CapturingMailer
from webapp.models import (
    AuditEvent,
    Booking,
    BookingEventPolicy,
    BookingStatus,
    BusyBlock,
    CalendarConnection,
    DeliveryState,
    Organisation,
)
from webapp.services import calendar_repair
from webapp.services.bookings import sync_jobs
from webapp.services.bookings.delivery import DeliveryContext
from webapp.services.bookings.links import ManageLinks

from .conftest import NOW, PUBLIC_BASE_URL, School, at, connect_instructor
from .test_service import book, request_for


@pytest.fixture
def context(cronofy: CronofyClient, gateway: BooklyGateway, mailer: CapturingMailer) -> Any:
    links = ManageLinks(PUBLIC_BASE_URL, "k" * 32)
    return DeliveryContext(cronofy, gateway, mailer, links, f"{PUBLIC_BASE_URL}/cb")


def _policy(app: Flask, policy: BookingEventPolicy) -> None:
    with app.app_context():
        for school in db.session.scalars(sa.select(Organisation)):
            school.booking_event_policy = policy
        db.session.commit()


def _delivered_booking(app: Flask, school: School, gateway: BooklyGateway,
                       cronofy: CronofyClient, context: DeliveryContext) -> str:  # fmt: skip
    made = book(app, gateway, cronofy, request_for(school, at(9)))
    with app.app_context():
        assert sync_jobs.run_due(context, now=NOW).done == 1
    return made.booking.public_id


def _calendar(app: Flask) -> str:
    with app.app_context():
        return str(db.session.scalar(sa.select(CalendarConnection.write_calendar_id)))


def _event(sandbox: RunningSandbox, app: Flask, public_id: str) -> dict[str, Any] | None:
    for event in sandbox.control.events(_calendar(app)):
        if event.get("event_id") == f"bridge-booking-{public_id}" and not event.get("deleted"):
            return event
    return None


def _check(app: Flask, cronofy: CronofyClient, gateway: BooklyGateway,
           mailer: CapturingMailer) -> calendar_repair.EventCheck:  # fmt: skip
    with app.app_context():
        connection_id = db.session.scalar(sa.select(CalendarConnection.id))
        return calendar_repair.check_booking_events(
            cronofy, gateway, mailer, int(connection_id or 0), now=NOW
        )


def _booking(app: Flask, public_id: str) -> Booking:
    with app.app_context():
        row = db.session.scalars(sa.select(Booking).where(Booking.public_id == public_id)).one()
        db.session.expunge(row)
        return row


def _actions(app: Flask) -> list[tuple[str, str]]:
    with app.app_context():
        return [(e.action, e.actor_label) for e in db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action.like("booking.%"))
            .order_by(AuditEvent.id))]  # fmt: skip


@pytest.mark.parametrize("change", ["moved", "deleted"])
def test_bookly_wins_puts_the_event_back_and_tells_the_instructor(
    app: Flask, people: People, school: School, gateway: BooklyGateway, cronofy: CronofyClient,
    sandbox: RunningSandbox, context: DeliveryContext, mailer: CapturingMailer, change: str,
) -> None:  # fmt: skip
    connect_instructor(app, people, "read_write")
    public_id = _delivered_booking(app, school, gateway, cronofy, context)
    event = _event(sandbox, app, public_id)
    assert event is not None
    if change == "moved":
        sandbox.control.move_event(event["event_uid"], at(13), at(14))
    else:
        sandbox.control.delete_event(event["event_uid"])

    found = _check(app, cronofy, gateway, mailer)
    assert (found.restored, found.followed) == (1, 0)
    assert _booking(app, public_id).delivery_state is DeliveryState.PENDING
    with app.app_context():
        assert sync_jobs.run_due(context, now=NOW).done == 1
    back = _event(sandbox, app, public_id)
    assert back is not None
    assert back["start"].startswith(at(9).strftime("%Y-%m-%dT%H:%M"))
    told = [m for m in mailer.outbox if m.to == people.instructor_email]
    assert len(told) == 1
    assert f"was {change} in your calendar" in told[0].body
    assert ("booking.event_restored", "system") in _actions(app)
    assert _booking(app, public_id).starts_at == at(9)  # Bookly and the customer keep it
    assert _check(app, cronofy, gateway, mailer).repairs == 0  # settled: nothing more to do


def test_calendar_wins_moves_the_booking_with_its_event(
    app: Flask, people: People, school: School, gateway: BooklyGateway, cronofy: CronofyClient,
    sandbox: RunningSandbox, context: DeliveryContext, mailer: CapturingMailer,
) -> None:  # fmt: skip
    connect_instructor(app, people, "read_write")
    _policy(app, BookingEventPolicy.CALENDAR_WINS)
    public_id = _delivered_booking(app, school, gateway, cronofy, context)
    event = _event(sandbox, app, public_id)
    assert event is not None
    sandbox.control.move_event(event["event_uid"], at(13), at(14))

    found = _check(app, cronofy, gateway, mailer)
    assert (found.restored, found.followed) == (0, 1)
    moved = _booking(app, public_id)
    assert (moved.starts_at, moved.ends_at) == (at(13), at(14))
    appointment = gateway.find_booking_by_reference(public_id)
    assert appointment is not None
    assert appointment.start == at(13)
    assert ("booking.rescheduled", calendar_repair.BY_CALENDAR) in _actions(app)
    with app.app_context():  # the customer gets the updated invitation
        assert sync_jobs.run_due(context, now=NOW).done == 1
    invites = [m for m in mailer.outbox if m.to == "kim@example.com" and m.calendar]
    assert [m.calendar.method for m in invites if m.calendar] == ["REQUEST", "REQUEST"]


def test_calendar_wins_cancels_the_booking_whose_event_was_deleted(
    app: Flask, people: People, school: School, gateway: BooklyGateway, cronofy: CronofyClient,
    sandbox: RunningSandbox, context: DeliveryContext, mailer: CapturingMailer,
) -> None:  # fmt: skip
    connect_instructor(app, people, "read_write")
    _policy(app, BookingEventPolicy.CALENDAR_WINS)
    public_id = _delivered_booking(app, school, gateway, cronofy, context)
    event = _event(sandbox, app, public_id)
    assert event is not None
    sandbox.control.delete_event(event["event_uid"])

    assert _check(app, cronofy, gateway, mailer).followed == 1
    assert _booking(app, public_id).status is BookingStatus.CANCELLED
    bookly_row = gateway.find_booking_by_reference(public_id)
    assert bookly_row is None or bookly_row.status == "cancelled"
    with app.app_context():
        assert sync_jobs.run_due(context, now=NOW).done == 1
    methods = [m.calendar.method for m in mailer.outbox if m.calendar]
    assert methods == ["REQUEST", "CANCEL"]
    assert ("booking.cancelled", calendar_repair.BY_CALENDAR) in _actions(app)


def test_calendar_wins_but_bookly_refuses_the_time_puts_the_event_back(
    app: Flask, people: People, school: School, gateway: BooklyGateway, cronofy: CronofyClient,
    sandbox: RunningSandbox, context: DeliveryContext, mailer: CapturingMailer,
) -> None:  # fmt: skip
    connect_instructor(app, people, "read_write")
    _policy(app, BookingEventPolicy.CALENDAR_WINS)
    public_id = _delivered_booking(app, school, gateway, cronofy, context)
    event = _event(sandbox, app, public_id)
    assert event is not None
    sandbox.control.move_event(event["event_uid"], at(13, 10), at(14, 10))  # off the grid

    assert _check(app, cronofy, gateway, mailer).restored == 1
    assert _booking(app, public_id).starts_at == at(9)
    told = [m for m in mailer.outbox if m.to == people.instructor_email]
    assert "not possible" in told[0].body


def test_reconciliation_repairs_a_bookly_block_deleted_behind_our_back(
    app: Flask, people: People, school: School, gateway: BooklyGateway, cronofy: CronofyClient,
    sandbox: RunningSandbox, mailer: CapturingMailer,
) -> None:  # fmt: skip
    connect_instructor(app, people, "read_write")
    with app.app_context():
        blocks = list(db.session.scalars(sa.select(BusyBlock)))
        assert blocks  # the sandbox's demo events were mirrored at connect
        victim = int(blocks[0].bookly_appointment_id or 0)
        connection_id = int(blocks[0].connection_id)
    table = school.site.tables.appointments
    school.site.execute(sa.delete(table).where(table.c.id == victim))  # raw SQL

    with app.app_context():
        done = calendar_repair.reconcile_connection(cronofy, gateway, mailer, connection_id)
        connection = db.session.get(CalendarConnection, connection_id)
        assert connection is not None
        assert (done.blocks, connection.last_repairs) == (1, 1)
        assert connection.reconciled_at is not None
        count = db.session.scalar(sa.select(sa.func.count()).select_from(BusyBlock))
        ids = list(db.session.scalars(sa.select(BusyBlock.bookly_appointment_id)))
    assert count == len(blocks)
    assert victim not in ids
    assert len(gateway.appointments_by_id([int(i or 0) for i in ids])) == len(blocks)
    admin = app.test_client()  # the repair is on the admins' health page
    assert log_in(admin, people.admin_email, people.password).status_code == 302
    row = admin.get("/sync").get_data(as_text=True).split(
        f'data-instructor="{people.instructor_id}"', 1)[1].split("</tr>", 1)[0]  # fmt: skip
    assert ": 1 repaired" in row
    with app.app_context():
        again = calendar_repair.reconcile_connection(cronofy, gateway, mailer, connection_id)
    assert again.repairs == 0

"""The booking service: Bookly rows + our row + a sync job, once per key, never overlapping."""

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
from webapp.extensions import db
from webapp.models import Booking, BookingStatus, Delivery, OutboxJob, User
from webapp.services import bookings
from webapp.services.availability.cache import AvailabilityCache, InProcessStore
from webapp.services.availability.finder import AvailabilityRequest, find_availability
from webapp.services.bookings import BookingRequest, Customer

from .conftest import NOW, School, at, connect_instructor, counts

KIM = Customer(name="Kim Doe", email="kim@example.com", phone="+49 30 1234")


def request_for(school: School, start: datetime, **kw: Any) -> BookingRequest:
    kw.setdefault("service_id", school.lesson)
    kw.setdefault("customer", KIM)
    return BookingRequest(instructor_id=school.instructor_id, start=start, **kw)


def book(app: Flask, gateway: BooklyGateway, cronofy: CronofyClient, request: BookingRequest,
         key: str = "key-1") -> bookings.BookResult:  # fmt: skip
    with app.app_context():
        result = bookings.book(gateway, cronofy, request, idempotency_key=key, now=NOW)
        db.session.expunge(result.booking)
        return result


@pytest.mark.requirement(17)
def test_a_booking_writes_bookly_rows_our_row_and_a_sync_job(
    app: Flask, school: School, gateway: BooklyGateway, cronofy: CronofyClient
) -> None:
    made = book(app, gateway, cronofy, request_for(school, at(9)))
    assert made.created
    found = gateway.find_booking_by_reference(made.booking.public_id)
    assert found is not None
    assert (found.appointment_id, found.start, found.end) == (
        made.booking.bookly_appointment_id, at(9), at(10)
    )  # fmt: skip
    appointment = school.site.row(school.site.tables.appointments, found.appointment_id)
    assert str(appointment.start_date) == "2030-01-07 10:00:00"  # Berlin wall time
    with app.app_context():
        job = db.session.scalars(sa.select(OutboxJob)).one()
    assert job.payload == {"booking": made.booking.public_id}
    assert made.booking.schedule_only  # Ada has no calendar connection
    assert made.booking.delivery is Delivery.EMAILED_INVITE


@pytest.mark.requirement(13)
def test_the_same_key_and_request_return_the_first_booking(
    app: Flask, school: School, gateway: BooklyGateway, cronofy: CronofyClient
) -> None:
    first = book(app, gateway, cronofy, request_for(school, at(9)))
    before = counts(app, school.site)
    again = book(app, gateway, cronofy, request_for(school, at(9)))
    assert (again.created, again.booking.id) == (False, first.booking.id)
    assert counts(app, school.site) == before


@pytest.mark.requirement(13)
def test_the_same_key_with_another_request_is_refused_and_writes_nothing(
    app: Flask, school: School, gateway: BooklyGateway, cronofy: CronofyClient
) -> None:
    book(app, gateway, cronofy, request_for(school, at(9)))
    before = counts(app, school.site)
    with pytest.raises(bookings.IdempotencyConflict):
        book(app, gateway, cronofy, request_for(school, at(11)))
    assert counts(app, school.site) == before


def test_an_overlapping_booking_is_taken_and_writes_nothing(
    app: Flask, school: School, gateway: BooklyGateway, cronofy: CronofyClient
) -> None:
    book(app, gateway, cronofy, request_for(school, at(9)))
    before = counts(app, school.site)
    with pytest.raises(bookings.SlotTaken):
        book(app, gateway, cronofy, request_for(school, at(9, 30)), key="key-2")
    assert counts(app, school.site) == before


@pytest.mark.requirement(12)
def test_adjacent_bookings_both_succeed(
    app: Flask, school: School, gateway: BooklyGateway, cronofy: CronofyClient
) -> None:
    book(app, gateway, cronofy, request_for(school, at(9)))
    book(app, gateway, cronofy, request_for(school, at(10)), key="key-2")
    book(app, gateway, cronofy, request_for(school, at(8, 30), service_id=school.theory), "k3")
    assert counts(app, school.site)["bookings"] == 3


@pytest.mark.requirement(12)
def test_cancelling_frees_the_slot_in_bookly_and_here(
    app: Flask, school: School, gateway: BooklyGateway, cronofy: CronofyClient
) -> None:
    first = book(app, gateway, cronofy, request_for(school, at(9)))
    with app.app_context():
        cancelled = bookings.cancel(gateway, first.booking.public_id)
        assert cancelled.status is BookingStatus.CANCELLED
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxJob)) == 2
    ca = school.site.row(
        school.site.tables.customer_appointments, first.booking.bookly_customer_appointment_id
    )
    assert ca.status == "cancelled"
    again = book(app, gateway, cronofy, request_for(school, at(9)), key="key-2")
    assert again.created


def test_rescheduling_moves_bookly_and_our_row(
    app: Flask, school: School, gateway: BooklyGateway, cronofy: CronofyClient
) -> None:
    first = book(app, gateway, cronofy, request_for(school, at(9)))
    with app.app_context():
        moved = bookings.reschedule(gateway, cronofy, first.booking.public_id, at(13), now=NOW)
        assert (moved.starts_at, moved.ends_at) == (at(13), at(14))
    appointment = school.site.row(
        school.site.tables.appointments, first.booking.bookly_appointment_id
    )
    assert str(appointment.start_date) == "2030-01-07 14:00:00"
    book(app, gateway, cronofy, request_for(school, at(9)), key="key-2")  # old time is free


def test_a_taken_slot_suggests_the_next_free_ones(
    app: Flask, school: School, gateway: BooklyGateway, cronofy: CronofyClient
) -> None:
    book(app, gateway, cronofy, request_for(school, at(9)))
    with app.app_context():
        with pytest.raises(bookings.SlotTaken) as caught:
            bookings.book(gateway, cronofy, request_for(school, at(9, 30)),
                          idempotency_key="key-2", now=NOW)  # fmt: skip
        slots = bookings.next_free_slots(cronofy, gateway, caught.value, count=3)
    assert [s.start for s in slots] == [at(10), at(10, 15), at(10, 30)]


def test_rescheduling_onto_a_taken_slot_changes_nothing(
    app: Flask, school: School, gateway: BooklyGateway, cronofy: CronofyClient
) -> None:
    first = book(app, gateway, cronofy, request_for(school, at(9)))
    book(app, gateway, cronofy, request_for(school, at(13)), key="key-2")
    with app.app_context(), pytest.raises(bookings.SlotTaken):
        bookings.reschedule(gateway, cronofy, first.booking.public_id, at(13, 30), now=NOW)
    with app.app_context():
        still = db.session.get(Booking, first.booking.id)
        assert still is not None
        assert still.starts_at == at(9)
    appointment = school.site.row(
        school.site.tables.appointments, first.booking.bookly_appointment_id
    )
    assert str(appointment.start_date) == "2030-01-07 10:00:00"


def test_our_table_refuses_what_bookly_no_longer_shows_and_bookly_is_put_back(
    app: Flask, school: School, gateway: BooklyGateway, cronofy: CronofyClient
) -> None:
    first = book(app, gateway, cronofy, request_for(school, at(9)))
    gateway.cancel_booking(first.booking.public_id)  # cancelled in Bookly's admin, not here
    with pytest.raises(bookings.SlotTaken):
        book(app, gateway, cronofy, request_for(school, at(9)), key="key-2")
    busy = [a for a in gateway.list_appointments(at(0), at(23)) if a.is_busy]
    assert busy == []  # the second Bookly booking was cancelled again


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"start": at(9).replace(tzinfo=None)}, "start"),
        ({"start": NOW - timedelta(hours=1)}, "start"),
        ({"customer": Customer("Kim", "not-an-address")}, "customer.email"),
        ({"customer": Customer("K" * 129, "kim@example.com")}, "customer.name"),
        ({"customer": Customer("", "kim@example.com")}, "customer.name"),
        ({"note": "n" * 1001}, "note"),
        ({"service_id": 999}, "service"),
        ({"instructor_id": 999}, "instructor"),
        ({"start": at(3)}, "start"),  # 04:00 in Berlin: outside working hours
        ({"start": at(9, 10)}, "start"),  # off Bookly's 15-minute grid
        ({"start": NOW + timedelta(days=400)}, "start"),  # beyond Bookly's 365-day horizon
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(
    app: Flask,
    school: School,
    gateway: BooklyGateway,
    cronofy: CronofyClient,
    change: dict[str, Any],
    field: str,
) -> None:
    before = counts(app, school.site)
    values: dict[str, Any] = {"start": at(9), "service_id": school.lesson, "customer": KIM}
    values.update(change)
    values.setdefault("instructor_id", school.instructor_id)
    with pytest.raises(bookings.InvalidBooking) as caught:
        book(app, gateway, cronofy, BookingRequest(**values))
    assert field in caught.value.fields
    assert counts(app, school.site) == before


@pytest.mark.parametrize("access_mode", ["read_write", "free_busy", "no_calendar"])
def test_a_calendar_event_made_after_viewing_takes_the_slot(
    app: Flask,
    people: People,
    school: School,
    gateway: BooklyGateway,
    cronofy: CronofyClient,
    sandbox: RunningSandbox,
    access_mode: str,
) -> None:
    connect_instructor(app, people, access_mode)
    calendar = _write_calendar(app, people)
    sandbox.control.add_event(calendar, "Dentist", at(9, 30), at(9, 45))
    before = counts(app, school.site)
    with pytest.raises(bookings.SlotTaken):
        book(app, gateway, cronofy, request_for(school, at(9)))
    assert counts(app, school.site) == before
    made = book(app, gateway, cronofy, request_for(school, at(10)), key="key-2")
    assert not made.booking.schedule_only
    expected = Delivery.CALENDAR_EVENT if access_mode == "read_write" else Delivery.EMAILED_INVITE
    assert made.booking.delivery is expected


def _write_calendar(app: Flask, people: People) -> str:
    from webapp.models import CalendarConnection

    with app.app_context():
        connection = db.session.scalars(
            sa.select(CalendarConnection).where(CalendarConnection.user_id == people.instructor_id)
        ).one()
        assert connection.write_calendar_id
        return connection.write_calendar_id


def test_a_booking_drops_the_instructor_s_cached_availability(
    app: Flask, school: School, gateway: BooklyGateway, cronofy: CronofyClient
) -> None:
    cache = AvailabilityCache(InProcessStore(), ttl_seconds=300)
    with app.app_context():
        ada = db.session.get(User, school.instructor_id)
        assert ada is not None
        view = AvailabilityRequest(school.lesson, (ada,), at(8), at(12))
        assert at(9) in [s.start for s in find_availability(cronofy, gateway, cache, view).slots]
        bookings.book(gateway, cronofy, request_for(school, at(9)), idempotency_key="k",
                      now=NOW, cache=cache)  # fmt: skip
        after = find_availability(cronofy, gateway, cache, view)
    assert at(9) not in [s.start for s in after.slots]


def test_a_start_within_bookly_s_minimum_notice_is_refused(
    app: Flask, school: School, gateway: BooklyGateway, cronofy: CronofyClient
) -> None:
    soon = NOW + timedelta(hours=1)  # Tuesday 14:00 in Berlin, on the grid
    school.site.set_option("bookly_gen_min_time_prior_booking", "24")
    fresh = school.site.gateway(clock=lambda: NOW)  # re-reads the site options
    with pytest.raises(bookings.InvalidBooking) as caught:
        book(app, fresh, cronofy, request_for(school, soon))
    assert "Too soon" in caught.value.fields["start"]
    school.site.set_option("bookly_gen_min_time_prior_booking", "0")
    assert book(app, school.site.gateway(clock=lambda: NOW), cronofy,
                request_for(school, soon)).created  # fmt: skip


def test_no_database_connection_is_held_while_bookly_and_cronofy_answer(
    app: Flask, school: School, gateway: BooklyGateway, cronofy: CronofyClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """A slow Bookly or Cronofy must not pin one of our pooled connections per request."""
    first = book(app, gateway, cronofy, request_for(school, at(9)))
    held: list[int] = []

    def watching(name: str, target: object) -> None:
        original = getattr(target, name)

        def call(*args: object, **kwargs: object) -> object:
            held.append(db.engine.pool.checkedout())
            return original(*args, **kwargs)

        monkeypatch.setattr(target, name, call)

    watching("reschedule_booking", gateway)
    watching("cancel_booking", gateway)
    watching("free_busy", cronofy)
    with app.app_context():
        bookings.reschedule(gateway, cronofy, first.booking.public_id, at(13), now=NOW)
        bookings.cancel(gateway, first.booking.public_id)
    assert len(held) >= 2
    assert held == [0] * len(held)

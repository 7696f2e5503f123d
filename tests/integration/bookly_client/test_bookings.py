"""create_booking writes every column Bookly expects, in one transaction, and finds it again."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from bookly_client import Booking, CustomerDetails, OffGrid, ReferenceConflict, SlotConflict
from bookly_client.gateway.context import AUTHOR, BOOKING_MARKER

from .conftest import KIM, School, utc

TUE_10 = utc("2026-11-24 09:00")  # 10:00 in Berlin


def book(school: School, start=TUE_10, reference: str = "booking-1", **kw):
    kw.setdefault("staff_id", school.ada)
    kw.setdefault("service_id", school.lesson)
    kw.setdefault("customer", KIM)
    return school.gateway.create_booking(reference=reference, start=start, **kw)


def assert_booked(school: School, booking: Booking, start: datetime) -> None:
    """The booking is new, at ``start``, and Bookly's tables now hold it under its reference."""
    assert booking.created
    assert booking.start == start
    found = school.gateway.find_booking_by_reference(booking.reference)
    assert found is not None
    assert (found.appointment_id, found.start) == (booking.appointment_id, start)


def test_booking_writes_appointment_as_bookly_admin_does(school: School) -> None:
    booking = book(school)
    t = school.db.tables
    row = school.db.row(t.appointments, booking.appointment_id)
    assert (row.staff_id, row.service_id, row.staff_any) == (school.ada, school.lesson, 0)
    assert str(row.start_date) == "2026-11-24 10:00:00"
    assert str(row.end_date) == "2026-11-24 11:00:00"
    assert row.extras_duration == 0
    assert row.created_from == "bookly"
    assert row.custom_service_name is None
    assert row.internal_note == BOOKING_MARKER
    assert str(row.created_at) == str(row.updated_at) == "2026-11-22 13:00:00"  # Berlin now


def test_booking_writes_customer_appointment_with_every_column(school: School) -> None:
    booking = book(school, notes="first lesson")
    ca = school.db.row(school.db.tables.customer_appointments, booking.customer_appointment_id)
    assert ca.appointment_id == booking.appointment_id
    assert ca.customer_id == booking.customer_id
    assert (ca.number_of_persons, ca.units, ca.extras_multiply_nop) == (1, 1, 1)
    assert (ca.extras, ca.custom_fields) == ("[]", "[]")
    assert ca.status == "approved"
    assert ca.created_from == "backend"
    assert ca.notes == "first lesson"
    assert len(ca.token) == 32
    assert int(ca.token, 16) >= 0
    assert ca.token == booking.token
    assert str(ca.status_changed_at) == "2026-11-22 13:00:00"
    assert ca.payment_id is None
    assert ca.order_id is None


def test_new_customer_gets_notes_and_created_at(school: School) -> None:
    booking = book(school)
    customer = school.db.row(school.db.tables.customers, booking.customer_id)
    assert (customer.email, customer.full_name) == ("kim@example.com", "Kim Doe")
    assert (customer.first_name, customer.last_name) == ("Kim", "Doe")
    assert customer.notes == ""
    assert customer.info_fields == "[]"
    assert str(customer.created_at) == "2026-11-22 13:00:00"


def test_existing_customer_is_found_by_email_case_insensitively(school: School) -> None:
    existing = school.db.add_customer("Kim@Example.com", "Kim Original")
    booking = book(school, customer=CustomerDetails("kim@example.com", "Kim Doe"))
    assert booking.customer_id == existing
    assert school.db.count(school.db.tables.customers) == 1


def test_returning_customer_gets_name_phone_and_email_as_bookly_form_writes_them(
    school: School,
) -> None:
    existing = school.db.add_customer("Kim@Example.com", "Kim Original")
    book(school, customer=CustomerDetails("kim@example.com", "Kim Van Doe", phone="+49 30 99"))
    row = school.db.row(school.db.tables.customers, existing)
    assert (row.full_name, row.first_name, row.last_name) == ("Kim Van Doe", "Kim", "Van Doe")
    assert (row.phone, row.email) == ("+49 30 99", "kim@example.com")
    assert row.notes == ""  # untouched


def test_returning_customer_keeps_the_stored_phone_when_none_is_given(school: School) -> None:
    book(school, customer=CustomerDetails("kim@example.com", "Kim Doe", phone="+49 30 1"))
    later = TUE_10 + timedelta(hours=3)
    booking = book(school, start=later, reference="b2",
                   customer=CustomerDetails("kim@example.com", "Kim Doe"))  # fmt: skip
    assert school.db.row(school.db.tables.customers, booking.customer_id).phone == "+49 30 1"


def test_returning_customer_update_is_logged_with_the_changed_fields(school: School) -> None:
    existing = school.db.add_customer("kim@example.com", "Kim Original")
    book(school, customer=CustomerDetails("kim@example.com", "Kim Doe"))
    t = school.db.tables
    with school.db.engine.connect() as conn:
        row = conn.execute(
            sa.select(t.log).where(t.log.c.target == t.customers.name, t.log.c.action == "update")
        ).one()
    assert row.target_id == existing
    assert json.loads(row.details) == {
        "full_name": "Kim Doe", "first_name": "Kim", "last_name": "Doe"
    }  # fmt: skip


def test_customer_time_zone_stored_with_javascript_offset_sign(school: School) -> None:
    who = CustomerDetails("kim@example.com", "Kim Doe", time_zone="Asia/Kolkata")
    booking = book(school, customer=who)
    ca = school.db.row(school.db.tables.customer_appointments, booking.customer_appointment_id)
    assert (ca.time_zone, ca.time_zone_offset) == ("Asia/Kolkata", -330)


def test_booking_writes_log_rows_by_our_author(school: School) -> None:
    booking = book(school)
    t = school.db.tables
    with school.db.engine.connect() as conn:
        rows = conn.execute(sa.select(t.log).order_by(t.log.c.id)).all()
    assert [(r.action, r.target, r.author) for r in rows] == [
        ("create", t.customers.name, AUTHOR),
        ("create", t.appointments.name, AUTHOR),
        ("create", t.customer_appointments.name, AUTHOR),
    ]
    assert rows[1].target_id == booking.appointment_id
    assert booking.token not in rows[2].details


def test_logging_can_be_switched_off(school: School) -> None:
    school.db.gateway(write_log=False).create_booking(
        reference="r", staff_id=school.ada, service_id=school.lesson, start=TUE_10, customer=KIM
    )
    assert school.db.count(school.db.tables.log) == 0


def test_booking_is_found_again_by_reference(school: School) -> None:
    booking = book(school, reference="our-booking-42")
    found = school.gateway.find_booking_by_reference("our-booking-42")
    assert found is not None
    assert found.appointment_id == booking.appointment_id
    assert found.start == TUE_10
    assert found.end == TUE_10 + timedelta(hours=1)
    assert school.gateway.find_booking_by_reference("another") is None


def test_token_depends_on_the_secret(school: School) -> None:
    book(school, reference="our-booking-42")
    other = school.db.gateway(token_secret="another secret")
    assert other.find_booking_by_reference("our-booking-42") is None


def test_same_reference_again_returns_the_existing_booking(school: School) -> None:
    first = book(school)
    again = book(school)
    assert again.appointment_id == first.appointment_id
    assert not again.created
    assert school.db.count(school.db.tables.appointments) == 1


def test_same_reference_for_another_slot_is_refused(school: School) -> None:
    book(school)
    before = school.db.counts()
    with pytest.raises(ReferenceConflict):
        book(school, start=TUE_10 + timedelta(hours=3))
    assert school.db.counts() == before


def test_a_cancelled_booking_booked_again_by_reference_is_reopened_not_duplicated(
    school: School,
) -> None:
    first = book(school)
    school.gateway.cancel_booking(first.reference)  # our own undo after a failed commit
    again = book(school)
    assert again.created  # this call wrote: a later undo of it is ours to make
    assert (again.appointment_id, again.status) == (first.appointment_id, "approved")
    ca = school.db.row(school.db.tables.customer_appointments, first.customer_appointment_id)
    assert ca.status == "approved"
    assert school.db.count(school.db.tables.appointments) == 1
    busy = [a for a in school.gateway.list_appointments(TUE_10, TUE_10 + timedelta(hours=1))
            if a.is_busy]  # fmt: skip
    assert [a.id for a in busy] == [first.appointment_id]


def test_a_cancelled_booking_is_not_reopened_over_a_booking_made_since(school: School) -> None:
    first = book(school)
    school.gateway.cancel_booking(first.reference)
    book(school, reference="booking-2", customer=CustomerDetails("ann@example.com", "Ann Lee"))
    with pytest.raises(SlotConflict):
        book(school)
    ca = school.db.row(school.db.tables.customer_appointments, first.customer_appointment_id)
    assert ca.status == "cancelled"


def test_pending_status_is_written(school: School) -> None:
    booking = book(school, status="pending")
    assert booking.status == "pending"
    assert school.gateway.list_appointments(TUE_10, TUE_10 + timedelta(hours=1))[0].is_busy


@pytest.mark.parametrize(
    ("offset_minutes", "conflict"),
    [(-60, False), (-59, True), (0, True), (59, True), (60, False)],
)
def test_overlap_with_existing_booking(school: School, offset_minutes: int, conflict: bool) -> None:
    book(school, reference="first")
    start = TUE_10 + timedelta(minutes=offset_minutes)
    loose = {"enforce_working_hours": False}  # minute offsets are off Bookly's grid
    if conflict:
        with pytest.raises(SlotConflict):
            book(school, reference="second", start=start, **loose)
    else:
        assert_booked(school, book(school, reference="second", start=start, **loose), start)


@pytest.mark.requirement(15)
def test_bookly_rows_written_by_bookly_block_the_slot(school: School) -> None:
    school.db.bookly_appointment(school.ada, school.lesson, "2026-11-24 10:30", "2026-11-24 11:30")
    with pytest.raises(SlotConflict):
        book(school)


@pytest.mark.parametrize("status", ["cancelled", "rejected", "done", "waitlisted"])
def test_free_statuses_do_not_block(school: School, status: str) -> None:
    school.db.bookly_appointment(
        school.ada, school.lesson, "2026-11-24 10:00", "2026-11-24 11:00", statuses=(status,)
    )
    assert_booked(school, book(school), TUE_10)


def test_waitlisted_blocks_with_the_waiting_list_addon(school: School) -> None:
    school.db.set_option("active_plugins", '["bookly-addon-waiting-list/main.php"]')
    school.db.bookly_appointment(
        school.ada, school.lesson, "2026-11-24 10:00", "2026-11-24 11:00", statuses=("waitlisted",)
    )
    with pytest.raises(SlotConflict):
        school.db.gateway().create_booking(
            reference="x", staff_id=school.ada, service_id=school.lesson, start=TUE_10, customer=KIM
        )


def test_extras_duration_extends_the_busy_time(school: School) -> None:
    school.db.bookly_appointment(
        school.ada, school.lesson, "2026-11-24 09:00", "2026-11-24 10:00", extras_duration=900
    )
    with pytest.raises(SlotConflict):
        book(school)
    later = TUE_10 + timedelta(minutes=15)
    assert_booked(school, book(school, start=later), later)


def test_padding_counts_with_pro(school: School) -> None:
    book(school, reference="lesson")  # 10:00-11:00 Berlin
    with pytest.raises(SlotConflict):  # 11:00 theory has 15 min padding before it
        book(
            school, reference="theory", service_id=school.padded, start=TUE_10 + timedelta(hours=1)
        )
    later = TUE_10 + timedelta(minutes=75)
    assert_booked(
        school, book(school, reference="theory", service_id=school.padded, start=later), later
    )


def test_padding_is_ignored_without_pro(school: School) -> None:
    school.db.set_option("active_plugins", "a:0:{}")
    gateway = school.db.gateway()
    for reference, service, start in (
        ("lesson", school.lesson, TUE_10),
        ("theory", school.padded, TUE_10 + timedelta(hours=1)),  # padding would overlap
    ):
        booking = gateway.create_booking(
            reference=reference, staff_id=school.ada, service_id=service, start=start, customer=KIM
        )
        assert_booked(school, booking, start)
    assert school.db.count(school.db.tables.appointments) == 2


def test_archived_staff_cannot_be_booked(school: School) -> None:
    from bookly_client import UnknownStaff

    school.db.execute(
        sa.update(school.db.tables.staff)
        .where(school.db.tables.staff.c.id == school.ada)
        .values(visibility="archive")
    )
    with pytest.raises(UnknownStaff):
        book(school)


def test_holiday_blocks_when_strict_but_not_when_relaxed(school: School) -> None:
    from bookly_client import OutsideWorkingHours

    school.db.add_holiday(school.ada, date(2020, 11, 24), repeat=True)
    with pytest.raises(OutsideWorkingHours):
        book(school)
    assert_booked(school, book(school, enforce_working_hours=False), TUE_10)


def test_other_prefix_for_multisite(bookly_db, request) -> None:
    from tests.bookly_fixtures import make_bookly_db

    url = bookly_db.url
    db = make_bookly_db(bookly_db.backend, url, prefix="wp_2_")
    try:
        staff = db.add_staff()
        service = db.add_service(staff=(staff,))
        booking = db.gateway().create_booking(
            reference="site-2", staff_id=staff, service_id=service, start=TUE_10, customer=KIM
        )
        assert db.row(db.tables.appointments, booking.appointment_id).staff_id == staff
        assert bookly_db.count(bookly_db.tables.appointments) == 0
    finally:
        db.engine.dispose()


def test_a_start_off_bookly_s_slot_grid_is_refused(school: School) -> None:
    off_grid = utc("2026-11-24 13:10")  # 14:10 in Berlin; Bookly offers 14:00, 14:15, ...
    with pytest.raises(OffGrid):
        book(school, start=off_grid)
    assert school.db.count(school.db.tables.appointments) == 0
    assert book(school, start=utc("2026-11-24 13:15")).created


def test_the_grid_restarts_after_a_break_and_follows_the_site_slot_length(school: School) -> None:
    school.db.set_option("bookly_gen_time_slot_length", "30")
    gateway = school.db.gateway()  # fresh settings cache
    with pytest.raises(OffGrid):
        gateway.create_booking(reference="a", staff_id=school.ada, service_id=school.lesson,
                               start=utc("2026-11-24 08:15"), customer=KIM)  # fmt: skip
    # Ada's Tuesday: 08:00-12:00 and 13:00-18:00 Berlin; 13:30 is on the second range's grid.
    made = gateway.create_booking(reference="b", staff_id=school.ada, service_id=school.lesson,
                                  start=utc("2026-11-24 12:30"), customer=KIM)  # fmt: skip
    assert made.created


def test_rescheduling_off_the_grid_is_refused(school: School) -> None:
    booking = book(school)
    with pytest.raises(OffGrid):
        school.gateway.reschedule_booking(booking.reference, TUE_10 + timedelta(minutes=40))

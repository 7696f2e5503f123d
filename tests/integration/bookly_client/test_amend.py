"""Cancel and reschedule: ours by reference, others only when named explicitly."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from bookly_client import (
    NaiveDatetime,
    OutsideWorkingHours,
    SlotConflict,
    UnknownAppointment,
    ValidationError,
)

from .conftest import KIM, School, utc

TUE_10 = utc("2026-11-24 09:00")


def book(school: School, reference: str = "ours", start=TUE_10):
    return school.gateway.create_booking(
        reference=reference, staff_id=school.ada, service_id=school.lesson, start=start,
        customer=KIM,
    )  # fmt: skip


def test_cancel_sets_status_and_timestamps(school: School) -> None:
    booking = book(school)
    later = school.db.gateway(clock=lambda: utc("2026-11-23 08:00"))
    result = later.cancel_booking("ours")
    assert not result.is_busy
    ca = school.db.row(school.db.tables.customer_appointments, booking.customer_appointment_id)
    assert ca.status == "cancelled"
    assert str(ca.status_changed_at) == str(ca.updated_at) == "2026-11-23 09:00:00"
    appointment = school.db.row(school.db.tables.appointments, booking.appointment_id)
    assert str(appointment.updated_at) == "2026-11-23 09:00:00"


def test_cancelled_slot_can_be_booked_again(school: School) -> None:
    first = book(school)
    school.gateway.cancel_booking("ours")
    again = book(school, reference="next")
    assert again.created
    assert again.appointment_id != first.appointment_id
    busy = [a for a in school.gateway.list_appointments(TUE_10, TUE_10 + timedelta(hours=1))
            if a.is_busy]  # fmt: skip
    assert [a.id for a in busy] == [again.appointment_id]


def test_cancel_twice_is_harmless(school: School) -> None:
    book(school)
    school.gateway.cancel_booking("ours")
    before = school.db.counts()
    assert not school.gateway.cancel_booking("ours").is_busy
    assert school.db.counts() == before


def test_cancel_unknown_reference(school: School) -> None:
    with pytest.raises(UnknownAppointment):
        school.gateway.cancel_booking("nope")


def test_cancel_by_reference_touches_only_our_customer_row(school: School) -> None:
    booking = book(school)
    t = school.db.tables
    other_customer = school.db.add_customer("other@example.com")
    other = school.db.insert(
        t.customer_appointments, customer_id=other_customer,
        appointment_id=booking.appointment_id, status="approved",
        created_at=school.db.stamp, updated_at=school.db.stamp,
    )  # fmt: skip
    school.gateway.cancel_booking("ours")
    assert school.db.row(t.customer_appointments, other).status == "approved"


def test_cancel_foreign_appointment_when_named_explicitly(school: School) -> None:
    foreign = school.db.bookly_appointment(
        school.ada, school.lesson, "2026-11-24 10:00", "2026-11-24 11:00",
        statuses=("approved", "pending", "rejected"),
    )  # fmt: skip
    result = school.gateway.cancel_appointment(foreign)
    assert [c.status for c in result.customers] == ["cancelled", "cancelled", "rejected"]


def test_cancel_refuses_busy_blocks(school: School) -> None:
    block = school.gateway.create_busy_block(school.ada, TUE_10, TUE_10 + timedelta(hours=1))
    before = school.db.counts()
    with pytest.raises(ValidationError):
        school.gateway.cancel_appointment(block.id)
    assert school.db.counts() == before
    assert school.gateway.list_appointments(TUE_10, TUE_10 + timedelta(hours=1))[0].is_busy


def test_reschedule_keeps_duration_and_updates_rows(school: School) -> None:
    booking = book(school)
    moved = school.gateway.reschedule_booking("ours", TUE_10 + timedelta(days=1, hours=2))
    assert moved.start == utc("2026-11-25 11:00")
    assert moved.end == utc("2026-11-25 12:00")
    row = school.db.row(school.db.tables.appointments, booking.appointment_id)
    assert (str(row.start_date), str(row.end_date)) == (
        "2026-11-25 12:00:00",
        "2026-11-25 13:00:00",
    )
    found = school.gateway.find_booking_by_reference("ours")
    assert found is not None
    assert found.start == moved.start


def test_reschedule_resets_reminder_markers_like_bookly(school: School) -> None:
    booking = book(school)
    t = school.db.tables
    reminder = school.db.insert(t.notifications, type="appointment_reminder", active=1)
    last = school.db.insert(t.notifications, type="last_appointment", active=1)
    new_booking = school.db.insert(t.notifications, type="new_booking", active=1)
    for notification in (reminder, last, new_booking):
        school.db.insert(
            t.sent_notifications, ref_id=booking.customer_appointment_id,
            notification_id=notification, created_at=school.db.stamp,
        )  # fmt: skip
    school.gateway.reschedule_booking("ours", TUE_10 + timedelta(hours=5))
    with school.db.engine.connect() as conn:
        left = conn.execute(sa.select(t.sent_notifications.c.notification_id)).scalars().all()
    assert left == [new_booking]


def test_reschedule_into_conflict_changes_nothing(school: School) -> None:
    booking = book(school)
    school.db.bookly_appointment(school.ada, school.lesson, "2026-11-24 15:00", "2026-11-24 16:00")
    before = school.db.row(school.db.tables.appointments, booking.appointment_id)
    with pytest.raises(SlotConflict):
        school.gateway.reschedule_booking("ours", utc("2026-11-24 14:30"))
    assert school.db.row(school.db.tables.appointments, booking.appointment_id) == before


def test_reschedule_overlapping_itself_is_fine(school: School) -> None:
    book(school)
    moved = school.gateway.reschedule_booking("ours", TUE_10 + timedelta(minutes=30))
    assert moved.start == TUE_10 + timedelta(minutes=30)


def test_reschedule_outside_hours_when_strict(school: School) -> None:
    book(school)
    with pytest.raises(OutsideWorkingHours):
        school.gateway.reschedule_booking("ours", utc("2026-11-24 20:00"))
    relaxed = school.gateway.reschedule_booking(
        "ours", utc("2026-11-24 20:00"), enforce_working_hours=False
    )
    assert relaxed.start == utc("2026-11-24 20:00")


def test_reschedule_naive_datetime(school: School) -> None:
    from datetime import datetime

    book(school)
    with pytest.raises(NaiveDatetime):
        school.gateway.reschedule_booking("ours", datetime(2026, 11, 24, 12))  # noqa: DTZ001
    found = school.gateway.find_booking_by_reference("ours")
    assert found is not None
    assert found.start == TUE_10


def test_reschedule_foreign_appointment_by_id_keeps_extras(school: School) -> None:
    foreign = school.db.bookly_appointment(
        school.ada, school.lesson, "2026-11-24 10:00", "2026-11-24 11:00", extras_duration=600
    )
    moved = school.gateway.reschedule_appointment(foreign, utc("2026-11-25 09:00"))
    assert moved.end - moved.start == timedelta(minutes=70)

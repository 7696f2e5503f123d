"""Busy blocks: Bookly's block shape, only our rows unless explicitly allowed."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bookly_client import ForeignRow, SlotConflict, UnknownStaff, ValidationError
from bookly_client.gateway.context import BLOCK_MARKER

from .conftest import KIM, School, utc

TUE_10 = utc("2026-11-24 09:00")


def test_block_row_has_bookly_block_shape(school: School) -> None:
    block = school.gateway.create_busy_block(school.ada, TUE_10, TUE_10 + timedelta(hours=2))
    row = school.db.row(school.db.tables.appointments, block.id)
    assert row.service_id is None
    assert row.custom_service_name == "Busy"
    assert row.created_from == "bookly"
    assert row.internal_note == BLOCK_MARKER
    assert (str(row.start_date), str(row.end_date)) == (
        "2026-11-24 10:00:00",
        "2026-11-24 12:00:00",
    )
    assert school.db.count(school.db.tables.customer_appointments) == 0
    assert block.is_ours


def test_block_makes_the_slot_busy_for_bookings(school: School) -> None:
    school.gateway.create_busy_block(school.ada, TUE_10, TUE_10 + timedelta(hours=2))
    with pytest.raises(SlotConflict):
        school.gateway.create_booking(
            reference="r", staff_id=school.ada, service_id=school.lesson,
            start=TUE_10 + timedelta(hours=1), customer=KIM,
        )  # fmt: skip
    [appointment] = school.gateway.list_appointments(TUE_10, TUE_10 + timedelta(hours=1))
    assert appointment.is_block
    assert appointment.is_busy


def test_move_and_delete_our_block(school: School) -> None:
    block = school.gateway.create_busy_block(school.ada, TUE_10, TUE_10 + timedelta(hours=1))
    moved = school.gateway.move_busy_block(
        block.id, TUE_10 + timedelta(hours=3), TUE_10 + timedelta(hours=4)
    )
    assert (moved.start, moved.end) == (TUE_10 + timedelta(hours=3), TUE_10 + timedelta(hours=4))
    assert school.gateway.delete_busy_block(block.id) is True
    assert school.gateway.delete_busy_block(block.id) is False
    assert school.db.count(school.db.tables.appointments) == 0


def test_foreign_blocks_are_refused_unless_allowed(school: School) -> None:
    foreign = school.db.bookly_appointment(
        school.ada, None, "2026-11-24 10:00", "2026-11-24 11:00", statuses=(), label="Dentist"
    )
    before = school.db.counts()
    with pytest.raises(ForeignRow):
        school.gateway.move_busy_block(foreign, TUE_10, TUE_10 + timedelta(hours=3))
    with pytest.raises(ForeignRow):
        school.gateway.delete_busy_block(foreign)
    assert school.db.counts() == before
    school.gateway.move_busy_block(foreign, TUE_10, TUE_10 + timedelta(hours=3), allow_foreign=True)
    assert school.gateway.delete_busy_block(foreign, allow_foreign=True)


def test_google_imported_rows_are_foreign(school: School) -> None:
    google = school.db.bookly_appointment(
        school.ada, None, "2026-11-24 10:00", "2026-11-24 11:00", statuses=(),
        created_from="google", label=BLOCK_MARKER,
    )  # fmt: skip
    with pytest.raises(ForeignRow):
        school.gateway.delete_busy_block(google)


def test_bookings_are_never_treated_as_blocks(school: School) -> None:
    booking = school.db.bookly_appointment(
        school.ada, school.lesson, "2026-11-24 10:00", "2026-11-24 11:00"
    )
    with pytest.raises(ValidationError):
        school.gateway.delete_busy_block(booking, allow_foreign=True)
    assert school.db.count(school.db.tables.appointments) == 1


def test_list_blocks_ours_or_all(school: School) -> None:
    ours = school.gateway.create_busy_block(school.ada, TUE_10, TUE_10 + timedelta(hours=1))
    school.db.bookly_appointment(
        school.ada, None, "2026-11-24 13:00", "2026-11-24 14:00", statuses=(), label="Dentist"
    )
    day = (TUE_10 - timedelta(hours=9), TUE_10 + timedelta(hours=12))
    assert [b.id for b in school.gateway.list_busy_blocks(*day)] == [ours.id]
    labels = [b.label for b in school.gateway.list_busy_blocks(*day, only_ours=False)]
    assert labels == ["Busy", "Dentist"]


@pytest.mark.parametrize(
    ("start", "end", "error"),
    [
        (TUE_10, TUE_10, ValidationError),
        (TUE_10 + timedelta(hours=1), TUE_10, ValidationError),
    ],
)
def test_bad_block_input(school: School, start, end, error) -> None:
    before = school.db.counts()
    with pytest.raises(error):
        school.gateway.create_busy_block(school.ada, start, end)
    with pytest.raises(ValidationError):
        school.gateway.create_busy_block(school.ada, TUE_10, TUE_10 + timedelta(hours=1), label="")
    with pytest.raises(UnknownStaff):
        school.gateway.create_busy_block(999, TUE_10, TUE_10 + timedelta(hours=1))
    assert school.db.counts() == before

"""Reads: staff, services with offers, schedules, appointments classified like Bookly."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from bookly_client import Occupancy, UnknownStaff

from .conftest import School, utc

TUE = (utc("2026-11-24 00:00"), utc("2026-11-25 00:00"))


def test_list_staff_skips_archived(school: School) -> None:
    school.db.add_staff("Old Timer", visibility="archive")
    names = [s.full_name for s in school.gateway.list_staff()]
    assert names == ["Ada Lovelace", "Grace Hopper"]
    assert len(school.gateway.list_staff(include_archived=True)) == 3
    ada = school.gateway.list_staff()[0]
    assert (ada.id, ada.email, ada.time_zone, ada.visibility, ada.wp_user_id) == (
        school.ada, "ada@school.example", None, "public", None,
    )  # fmt: skip


def test_list_services_with_offers(school: School) -> None:
    services = {s.title: s for s in school.gateway.list_services()}
    theory = services["Theory"]
    assert theory.duration == timedelta(minutes=30)
    assert (theory.padding_left, theory.padding_right) == (timedelta(minutes=15),) * 2
    assert theory.staff_ids == (school.ada,)
    assert services["Driving lesson"].staff_ids == (school.ada, school.grace)
    assert services["Driving lesson"].offers[0].price == Decimal("40.00")
    grace_offers = [s.title for s in school.gateway.list_services(staff_id=school.grace)]
    assert grace_offers == ["Driving lesson", "Exam"]


def test_schedule_uses_sunday_as_day_one(school: School) -> None:
    schedule = school.gateway.get_schedule(school.ada)
    assert [d.day_index for d in schedule.days] == [1, 2, 3, 4, 5, 6, 7]
    assert schedule.days[0].is_day_off  # Sunday
    assert schedule.days[1].start == timedelta(hours=8)  # Monday
    assert schedule.day(date(2026, 11, 24)).breaks[0].start == timedelta(hours=12)  # Tuesday
    assert schedule.time_zone == "Europe/Berlin"


def test_repeating_holiday_matches_every_year(school: School) -> None:
    school.db.add_holiday(school.ada, date(2019, 12, 25), repeat=True)
    school.db.add_holiday(school.ada, date(2026, 12, 28))
    schedule = school.gateway.get_schedule(school.ada)
    assert schedule.is_day_off(date(2030, 12, 25))
    assert schedule.is_day_off(date(2026, 12, 28))
    assert not schedule.is_day_off(date(2027, 12, 28))


def test_working_periods_remove_breaks_and_holidays(school: School) -> None:
    school.db.add_holiday(school.ada, date(2026, 11, 25))
    periods = school.gateway.working_periods(
        school.ada, utc("2026-11-24 00:00"), utc("2026-11-26 00:00")
    )
    assert [(p.start, p.end) for p in periods] == [
        (utc("2026-11-24 07:00"), utc("2026-11-24 11:00")),
        (utc("2026-11-24 12:00"), utc("2026-11-24 17:00")),
    ]


def test_unknown_staff_schedule(school: School) -> None:
    with pytest.raises(UnknownStaff):
        school.gateway.get_schedule(999)


@pytest.mark.parametrize(
    ("statuses", "occupancy"),
    [
        (("approved",), Occupancy.BUSY),
        (("pending",), Occupancy.BUSY),
        (("cancelled",), Occupancy.FREE),
        (("rejected",), Occupancy.FREE),
        (("done",), Occupancy.FREE),
        (("waitlisted",), Occupancy.FREE),
        (("cancelled", "approved"), Occupancy.BUSY),
        ((), Occupancy.BUSY),
    ],
)
def test_classification_like_bookly(school: School, statuses, occupancy) -> None:
    school.db.bookly_appointment(
        school.ada, school.lesson, "2026-11-24 10:00", "2026-11-24 11:00", statuses=statuses
    )
    [appointment] = school.gateway.list_appointments(*TUE)
    assert appointment.occupancy is occupancy
    assert [c.status for c in appointment.customers] == list(statuses)


def test_appointment_details_in_utc(school: School) -> None:
    school.db.bookly_appointment(
        school.ada, school.lesson, "2026-11-24 10:00", "2026-11-24 11:00", extras_duration=600
    )
    [appointment] = school.gateway.list_appointments(*TUE)
    assert (appointment.start, appointment.end) == (
        utc("2026-11-24 09:00"),
        utc("2026-11-24 10:10"),
    )
    assert appointment.title == "Driving lesson"
    assert appointment.customers[0].customer_email.endswith("@customers.example")
    assert not appointment.is_ours


def test_window_edges_are_half_open(school: School) -> None:
    school.db.bookly_appointment(school.ada, school.lesson, "2026-11-24 10:00", "2026-11-24 11:00")
    assert school.gateway.list_appointments(utc("2026-11-24 10:00"), utc("2026-11-24 12:00")) == []
    assert school.gateway.list_appointments(utc("2026-11-24 07:00"), utc("2026-11-24 09:00")) == []
    assert (
        len(school.gateway.list_appointments(utc("2026-11-24 09:59"), utc("2026-11-24 12:00"))) == 1
    )


def test_extras_reach_into_the_window(school: School) -> None:
    school.db.bookly_appointment(
        school.ada, school.lesson, "2026-11-24 10:00", "2026-11-24 11:00", extras_duration=1800
    )
    assert (
        len(school.gateway.list_appointments(utc("2026-11-24 10:15"), utc("2026-11-24 12:00"))) == 1
    )


def test_filter_by_staff(school: School) -> None:
    school.db.bookly_appointment(school.ada, school.lesson, "2026-11-24 10:00", "2026-11-24 11:00")
    school.db.bookly_appointment(
        school.grace, school.lesson, "2026-11-24 10:00", "2026-11-24 11:00"
    )
    assert [
        a.staff_id for a in school.gateway.list_appointments(*TUE, staff_ids=[school.grace])
    ] == [school.grace]

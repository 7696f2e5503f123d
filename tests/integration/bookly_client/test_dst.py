"""DST edges: Europe/Berlin, America/New_York and a site with only gmt_offset."""

from __future__ import annotations

import pytest

from bookly_client import UnrepresentableTime

from .conftest import KIM, School, utc

ALL_DAY = dict.fromkeys(range(1, 8), ("00:00", "24:00"))


@pytest.fixture
def night_school(school: School) -> School:
    """Ada works around the clock, so DST nights are inside working hours."""
    school.ada = school.db.add_staff("Night Owl", hours=ALL_DAY)
    school.db.insert(school.db.tables.staff_services, staff_id=school.ada, service_id=school.lesson)
    return school


def book(school: School, start, reference="dst"):
    return school.gateway.create_booking(
        reference=reference, staff_id=school.ada, service_id=school.lesson, start=start,
        customer=KIM,
    )  # fmt: skip


def stored(school: School, appointment_id: int) -> tuple[str, str]:
    row = school.db.row(school.db.tables.appointments, appointment_id)
    return str(row.start_date), str(row.end_date)


@pytest.mark.requirement(15)
def test_berlin_booking_across_spring_forward(night_school: School) -> None:
    booking = book(night_school, utc("2027-03-28 00:30"))  # 01:30 CET, ends 03:30 CEST
    assert stored(night_school, booking.appointment_id) == (
        "2027-03-28 01:30:00",
        "2027-03-28 03:30:00",
    )
    [appointment] = night_school.gateway.list_appointments(
        utc("2027-03-28 00:00"), utc("2027-03-28 03:00")
    )
    assert (appointment.start, appointment.end) == (
        utc("2027-03-28 00:30"),
        utc("2027-03-28 01:30"),
    )


def test_berlin_fall_back_first_pass_is_stored_and_read_back(night_school: School) -> None:
    first = book(night_school, utc("2026-10-24 23:30"), "first")  # 01:30 CEST -> 02:30 CEST
    assert stored(night_school, first.appointment_id) == (
        "2026-10-25 01:30:00",
        "2026-10-25 02:30:00",
    )


def test_berlin_second_pass_of_repeated_hour_is_refused_for_bookings(night_school: School) -> None:
    before = night_school.db.counts()
    with pytest.raises(UnrepresentableTime):
        book(night_school, utc("2026-10-25 01:15"))  # 02:15 CET, the repeated hour's 2nd pass
    with pytest.raises(UnrepresentableTime):
        book(night_school, utc("2026-10-25 00:30"))  # ends 02:30 CET (second pass)
    assert night_school.db.counts() == before


def test_berlin_booking_after_fall_back_is_exact(night_school: School) -> None:
    booking = book(night_school, utc("2026-10-25 02:00"))  # 03:00 CET
    assert stored(night_school, booking.appointment_id) == (
        "2026-10-25 03:00:00",
        "2026-10-25 04:00:00",
    )


def test_block_in_repeated_hour_is_widened_to_cover(night_school: School) -> None:
    block = night_school.gateway.create_busy_block(
        night_school.ada, utc("2026-10-25 01:10"), utc("2026-10-25 01:40")
    )  # 02:10-02:40 CET, second pass
    assert block.start <= utc("2026-10-25 01:10")
    assert block.end >= utc("2026-10-25 01:40")
    assert stored(night_school, block.id) == ("2026-10-25 02:10:00", "2026-10-25 03:00:00")


@pytest.mark.requirement(15)
def test_new_york_spring_forward_and_fall_back(night_school: School) -> None:
    night_school.db.set_option("timezone_string", "America/New_York")
    gateway = night_school.db.gateway()
    spring = gateway.create_booking(
        reference="ny-spring", staff_id=night_school.ada, service_id=night_school.lesson,
        start=utc("2027-03-14 06:30"), customer=KIM,  # 01:30 EST, ends 03:30 EDT
    )  # fmt: skip
    assert stored(night_school, spring.appointment_id) == (
        "2027-03-14 01:30:00",
        "2027-03-14 03:30:00",
    )
    fall = gateway.create_booking(
        reference="ny-fall", staff_id=night_school.ada, service_id=night_school.lesson,
        start=utc("2026-11-01 07:00"), customer=KIM,  # 02:00 EST after the repeat
    )  # fmt: skip
    assert stored(night_school, fall.appointment_id) == (
        "2026-11-01 02:00:00",
        "2026-11-01 03:00:00",
    )
    with pytest.raises(UnrepresentableTime):
        gateway.create_booking(
            reference="ny-repeat", staff_id=night_school.ada, service_id=night_school.lesson,
            start=utc("2026-11-01 06:10"), customer=KIM,  # 01:10 EST, second pass
        )  # fmt: skip


def test_bookly_row_in_spring_gap_reads_shifted_forward(night_school: School) -> None:
    night_school.db.bookly_appointment(
        night_school.ada, night_school.lesson, "2027-03-28 02:30", "2027-03-28 03:30"
    )
    [appointment] = night_school.gateway.list_appointments(
        utc("2027-03-27 12:00"), utc("2027-03-28 12:00")
    )
    assert appointment.start == utc("2027-03-28 01:30")  # 02:30 does not exist: read as 03:30 CEST


def test_site_with_only_gmt_offset_has_no_dst(night_school: School) -> None:
    night_school.db.set_option("timezone_string", "")
    night_school.db.set_option("gmt_offset", "5.5")
    gateway = night_school.db.gateway()
    booking = gateway.create_booking(
        reference="offset", staff_id=night_school.ada, service_id=night_school.lesson,
        start=utc("2026-10-25 00:30"), customer=KIM,
    )  # fmt: skip
    assert stored(night_school, booking.appointment_id) == (
        "2026-10-25 06:00:00",
        "2026-10-25 07:00:00",
    )
    report = gateway.check_compatibility()
    assert report.site_time_zone == "UTC+05:30"
    assert any("fixed offset" in w for w in report.warnings)


def test_staff_hours_follow_staff_zone_with_pro(school: School) -> None:
    """Grace in New York works 08-18 New York time when Pro is active."""
    grace = school.db.add_staff("Grace NY", time_zone="America/New_York")
    school.db.insert(school.db.tables.staff_services, staff_id=grace, service_id=school.lesson)
    periods = school.gateway.working_periods(
        grace, utc("2026-11-24 00:00"), utc("2026-11-25 00:00")
    )
    assert [(p.start, p.end) for p in periods] == [
        (utc("2026-11-24 13:00"), utc("2026-11-24 23:00"))
    ]
    school.db.set_option("active_plugins", "a:0:{}")
    free = school.db.gateway().working_periods(
        grace, utc("2026-11-24 00:00"), utc("2026-11-25 00:00")
    )
    assert [(p.start, p.end) for p in free] == [(utc("2026-11-24 07:00"), utc("2026-11-24 17:00"))]


def test_working_hours_on_dst_day_are_wall_clock(school: School) -> None:
    periods = school.gateway.working_periods(
        school.grace, utc("2027-03-29 00:00"), utc("2027-03-30 00:00")
    )
    assert [(p.start, p.end) for p in periods] == [
        (utc("2027-03-29 06:00"), utc("2027-03-29 16:00"))
    ]

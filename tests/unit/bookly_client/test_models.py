"""Pure rules: busy/free classification, schedules, working windows, validation, tokens."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bookly_client import CustomerDetails, InvalidCustomer, Occupancy
from bookly_client.gateway.appointments import classify
from bookly_client.models import Break, DayOff, StaffSchedule, TimeWindow, WorkingDay
from bookly_client.schedule import working_windows
from bookly_client.site import BUSY_STATUSES
from bookly_client.timezone import LocalZone
from bookly_client.validation import clean_customer, split_name

H = timedelta(hours=1)


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([], Occupancy.BUSY),
        (["approved"], Occupancy.BUSY),
        (["pending"], Occupancy.BUSY),
        (["cancelled", "rejected", "done", "waitlisted"], Occupancy.FREE),
        (["custom-slug"], Occupancy.FREE),
        (["cancelled", "pending"], Occupancy.BUSY),
    ],
)
def test_classify(statuses: list[str], expected: Occupancy) -> None:
    assert classify(statuses, BUSY_STATUSES) is expected


def test_waitlisted_busy_with_addon() -> None:
    assert classify(["waitlisted"], BUSY_STATUSES | {"waitlisted"}) is Occupancy.BUSY


def schedule(**days: tuple[timedelta, timedelta]) -> StaffSchedule:
    items = tuple(
        WorkingDay(i, *days.get(f"d{i}", (None, None)), breaks=(Break(12 * H, 13 * H),))
        for i in range(1, 8)
    )
    return StaffSchedule(1, "Europe/Berlin", items, (DayOff(date(2000, 1, 6), True),))


def test_day_index_one_is_sunday() -> None:
    plan = schedule(d1=(9 * H, 10 * H))
    assert plan.day(date(2026, 11, 22)).day_index == 1  # a Sunday
    assert plan.day(date(2026, 11, 28)).day_index == 7  # a Saturday
    assert not plan.is_day_off(date(2026, 11, 22))
    assert plan.is_day_off(date(2026, 11, 23))


def test_working_windows_cut_breaks_and_join_midnight() -> None:
    plan = schedule(d3=(8 * H, 24 * H), d4=(0 * H, 2 * H))
    window = TimeWindow(datetime(2026, 11, 24, tzinfo=UTC), datetime(2026, 11, 26, tzinfo=UTC))
    found = working_windows(plan, LocalZone.named("Europe/Berlin"), window)
    assert [(w.start.hour, w.end.hour, w.end.day) for w in found] == [(7, 11, 24), (12, 1, 25)]


def test_repeating_day_off() -> None:
    assert DayOff(date(2000, 1, 6), True).matches(date(2031, 1, 6))
    assert not DayOff(date(2000, 1, 6), False).matches(date(2031, 1, 6))


def test_customer_validation_normalises() -> None:
    clean = clean_customer(CustomerDetails(" Kim@Example.COM", "  Kim  Doe ", " 123 "))
    assert (clean.email, clean.full_name, clean.phone) == ("Kim@example.com", "Kim  Doe", "123")
    assert split_name("Ada King Lovelace") == ("Ada", "King Lovelace")


@pytest.mark.parametrize("email", ["", "plain", "a@b", "two@@example.com", "sp ace@example.com"])
def test_bad_emails(email: str) -> None:
    with pytest.raises(InvalidCustomer):
        clean_customer(CustomerDetails(email, "Kim"))


def test_bad_customer_time_zone() -> None:
    with pytest.raises(InvalidCustomer):
        clean_customer(CustomerDetails("k@example.com", "Kim", time_zone="Mars/Base"))

"""Bookly's slot options and Pro settings, read from the database (SQLite and MariaDB).

The fixture's site runs Bookly Pro unless a test switches it off (FREE).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bookly_client import TimeWindow
from tests.bookly_fixtures import FIXED_NOW, BooklyDb
from webapp.services.availability.slots import offered_starts

FREE = 'a:1:{i:0;s:51:"bookly-responsive-appointment-booking-tool/main.php";}'
BERLIN = ZoneInfo("Europe/Berlin")
UTC = ZoneInfo("UTC")
TUESDAY = TimeWindow(
    datetime(2026, 11, 24, tzinfo=BERLIN).astimezone(UTC),
    datetime(2026, 11, 25, tzinfo=BERLIN).astimezone(UTC),
)
HOURS = dict.fromkeys(range(2, 7), ("09:00", "12:00"))


def _starts(db: BooklyDb, staff: int, service: int, now: datetime = FIXED_NOW,
            zone: ZoneInfo = BERLIN) -> list[str]:  # fmt: skip
    data = db.gateway().availability_data(service, TUESDAY.start, TUESDAY.end + timedelta(hours=12),
                                          staff_ids=[staff])  # fmt: skip
    window = TimeWindow(TUESDAY.start, TUESDAY.end + timedelta(hours=12))
    labels = [s.astimezone(zone).strftime("%a %H:%M")
              for s in offered_starts(data.staff[0], data.rules, window, now)]  # fmt: skip
    return [label for label in labels if label.startswith("Tue")]


def test_the_site_grid_option_sets_the_step(bookly_db: BooklyDb) -> None:
    bookly_db.set_option("bookly_gen_time_slot_length", "20")
    staff = bookly_db.add_staff(hours=HOURS)
    service = bookly_db.add_service("Lesson", 60, staff=(staff,))
    assert _starts(bookly_db, staff, service) == [
        "Tue 09:00", "Tue 09:20", "Tue 09:40", "Tue 10:00", "Tue 10:20", "Tue 10:40", "Tue 11:00",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("slot_length", "expected"),
    [("as_service_duration", ["Tue 09:00", "Tue 10:00", "Tue 11:00"]),
     ("1800", ["Tue 09:00", "Tue 09:30", "Tue 10:00", "Tue 10:30", "Tue 11:00"])],
)  # fmt: skip
def test_a_service_may_set_its_own_step(bookly_db: BooklyDb, slot_length: str, expected) -> None:
    staff = bookly_db.add_staff(hours=HOURS)
    service = bookly_db.add_service("Lesson", 60, staff=(staff,), slot_length=slot_length)
    assert _starts(bookly_db, staff, service) == expected


def test_notice_and_horizon_options_count(bookly_db: BooklyDb) -> None:
    staff = bookly_db.add_staff(hours=HOURS)
    service = bookly_db.add_service("Lesson", 60, staff=(staff,))
    now = datetime(2026, 11, 24, 8, 20, tzinfo=UTC)  # 09:20 in Berlin
    bookly_db.set_option("bookly_gen_min_time_prior_booking", "1")  # hours
    assert _starts(bookly_db, staff, service, now)[0] == "Tue 10:30"
    bookly_db.set_option("bookly_gen_max_days_for_booking", "0")
    assert _starts(bookly_db, staff, service, now) == []


def test_with_pro_the_service_notice_overrides_the_site_option(bookly_db: BooklyDb) -> None:
    staff = bookly_db.add_staff(hours=HOURS)
    service = bookly_db.add_service("Lesson", 60, staff=(staff,), min_time_prior_booking=7200)
    now = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)  # 09:00 in Berlin
    assert _starts(bookly_db, staff, service, now)[0] == "Tue 11:00"


def test_padding_counts_only_with_pro(bookly_db: BooklyDb) -> None:
    staff = bookly_db.add_staff(hours=HOURS)
    padded = bookly_db.add_service("Padded", 60, staff=(staff,), padding_left=900,
                                   padding_right=900)  # fmt: skip
    bookly_db.bookly_appointment(staff, padded, "2026-11-24 10:00", "2026-11-24 10:30", log=False)
    # Pro: the booking's own padding (15 after) plus ours (15 before) keep 10:30-11:00 free.
    assert _starts(bookly_db, staff, padded) == ["Tue 11:00"]
    bookly_db.set_option("active_plugins", FREE)
    assert _starts(bookly_db, staff, padded) == ["Tue 09:00", "Tue 10:30", "Tue 10:45", "Tue 11:00"]


def test_with_pro_a_staff_zone_places_the_hours(bookly_db: BooklyDb) -> None:
    ny = ZoneInfo("America/New_York")
    staff = bookly_db.add_staff(time_zone="America/New_York", hours=HOURS)
    service = bookly_db.add_service("Lesson", 60, staff=(staff,), slot_length="as_service_duration")
    assert _starts(bookly_db, staff, service, zone=ny) == ["Tue 09:00", "Tue 10:00", "Tue 11:00"]
    bookly_db.set_option("active_plugins", FREE)  # the free finder ignores staff zones
    assert _starts(bookly_db, staff, service) == ["Tue 09:00", "Tue 10:00", "Tue 11:00"]


def test_a_yearly_holiday_repeats(bookly_db: BooklyDb) -> None:
    staff = bookly_db.add_staff(hours=HOURS)
    service = bookly_db.add_service("Lesson", 60, staff=(staff,))
    bookly_db.add_holiday(staff, date(2019, 11, 24), repeat=True)
    assert _starts(bookly_db, staff, service) == []

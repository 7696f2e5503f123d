"""The DST rules of bookly_client.timezone (reading like PHP, writing exactly or widened)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bookly_client import NaiveDatetime, SiteTimeZoneError, UnrepresentableTime
from bookly_client.timezone import LocalEpochs, LocalZone, require_aware

BERLIN = LocalZone.named("Europe/Berlin")
NEW_YORK = LocalZone.named("America/New_York")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def naive(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.mark.parametrize(
    ("zone", "local", "expected"),
    [
        (BERLIN, "2026-07-01 10:00", "2026-07-01 08:00"),
        (BERLIN, "2026-12-01 10:00", "2026-12-01 09:00"),
        (BERLIN, "2027-03-28 02:30", "2027-03-28 01:30"),  # gap: shifted forward to 03:30 CEST
        (BERLIN, "2026-10-25 02:30", "2026-10-25 00:30"),  # repeated: first pass (CEST)
        (NEW_YORK, "2027-03-14 02:30", "2027-03-14 07:30"),  # gap -> 03:30 EDT
        (NEW_YORK, "2026-11-01 01:30", "2026-11-01 05:30"),  # repeated: first pass (EDT)
    ],
)
def test_reading_naive_local_times(zone: LocalZone, local: str, expected: str) -> None:
    assert zone.to_utc(naive(local)) == utc(expected)


@pytest.mark.parametrize(
    ("moment", "representable"),
    [
        ("2026-10-25 00:30", True),  # 02:30 CEST
        ("2026-10-25 01:00", False),  # 02:00 CET, second pass
        ("2026-10-25 01:59", False),
        ("2026-10-25 02:00", True),  # 03:00 CET
        ("2027-03-28 01:00", True),  # 03:00 CEST
    ],
)
def test_exact_writes_refuse_second_pass(moment: str, representable: bool) -> None:
    assert BERLIN.is_representable(utc(moment)) is representable
    if representable:
        assert BERLIN.to_utc(BERLIN.to_local_exact(utc(moment))) == utc(moment)
    else:
        with pytest.raises(UnrepresentableTime):
            BERLIN.to_local_exact(utc(moment))


def test_ceiling_covers_second_pass() -> None:
    assert BERLIN.to_local_ceil(utc("2026-10-25 01:20")) == naive("2026-10-25 03:00")
    assert BERLIN.to_local_ceil(utc("2026-10-25 03:20")) == naive("2026-10-25 04:20")
    assert BERLIN.to_utc(BERLIN.to_local_floor(utc("2026-10-25 01:20"))) <= utc("2026-10-25 01:20")


def test_aware_input_in_other_zone_is_converted() -> None:
    eastern = timezone(timedelta(hours=-5))
    moment = datetime(2026, 12, 1, 5, 0, tzinfo=eastern)
    assert BERLIN.to_local(moment) == naive("2026-12-01 11:00")


def test_naive_input_is_rejected() -> None:
    with pytest.raises(NaiveDatetime):
        require_aware(naive("2026-12-01 10:00"))
    with pytest.raises(NaiveDatetime):
        BERLIN.to_local(naive("2026-12-01 10:00"))


@pytest.mark.parametrize(
    ("timezone_string", "gmt_offset", "name", "has_dst"),
    [
        ("Europe/Berlin", "1", "Europe/Berlin", True),
        ("", "0", "UTC+00:00", False),
        (None, "-3.5", "UTC-03:30", False),
        ("", "5.75", "UTC+05:45", False),
    ],
)
def test_wordpress_zone(timezone_string, gmt_offset, name: str, has_dst: bool) -> None:
    zone = LocalZone.from_wordpress(timezone_string, gmt_offset)
    assert (zone.name, zone.has_dst) == (name, has_dst)


@pytest.mark.parametrize(
    ("timezone_string", "gmt_offset"),
    [(None, None), ("", ""), ("Nowhere/Atlantis", "1"), ("", "abc"), ("", "99"), ("", "nan")],
)
def test_unusable_wordpress_zone(timezone_string, gmt_offset) -> None:
    with pytest.raises(SiteTimeZoneError):
        LocalZone.from_wordpress(timezone_string, gmt_offset)


def test_fixed_offset_has_no_dst() -> None:
    zone = LocalZone.from_wordpress("", "2")
    assert zone.to_local(utc("2026-07-01 10:00")) == naive("2026-07-01 12:00")
    assert zone.to_local(utc("2026-12-01 10:00")) == naive("2026-12-01 12:00")


# Days around each zone's two DST changes in 2026 (Berlin, New York, Lord Howe's 30 minutes).
CHANGE_DAYS = [
    datetime(2026, m, d)  # noqa: DTZ001 - naive: Bookly's local wall times
    for m, d in ((3, 29), (10, 25), (3, 8), (11, 1), (4, 5), (10, 4))
]


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from(["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "fixed"]),
    st.sampled_from(CHANGE_DAYS),
    st.integers(-24 * 3600, 48 * 3600 - 1),
)
def test_local_epochs_read_naive_times_like_to_utc(name, day, seconds):
    zone = LocalZone.fixed(330) if name == "fixed" else LocalZone.named(name)
    epochs = LocalEpochs(zone)
    naive = day + timedelta(seconds=seconds)
    assert epochs(naive) == int(zone.to_utc(naive).timestamp())
    assert epochs(naive) == int(zone.to_utc(naive).timestamp())  # memoised hour, same answer

"""Bookly's slot rules (webapp.services.availability.slots) against a brute-force oracle.

The oracle walks a one-minute grid: for every minute of the window it asks, directly from the
rules, whether Bookly's form would offer a slot starting then. It builds working time from a
per-minute bitmap of each day (hours minus breaks), checks days off by comparing dates,
reads wall times through ``zoneinfo`` (first occurrence, gaps forward: PHP's reading) and
tests every busy appointment for overlap one by one. The implementation under test shares
none of that code path (interval arithmetic on epoch seconds with bisect).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookly_client import (
    Break,
    BusyInterval,
    DayOff,
    SlotRules,
    StaffAvailability,
    StaffSchedule,
    TimeWindow,
    WorkingDay,
)
from bookly_client.timezone import LocalZone
from webapp.services.availability.slots import offered_starts, periods
from webapp.services.availability.why_not import bookly_reasons

MIN = timedelta(minutes=1)

# Zone, and its two DST changes in 2026 (the fixed-offset site has none: any dates do).
ZONES: dict[str, tuple[LocalZone, tuple[date, date]]] = {
    "Europe/Berlin": (LocalZone.named("Europe/Berlin"), (date(2026, 3, 29), date(2026, 10, 25))),
    "America/New_York": (
        LocalZone.named("America/New_York"),
        (date(2026, 3, 8), date(2026, 11, 1)),
    ),
    "Australia/Lord_Howe": (
        LocalZone.named("Australia/Lord_Howe"),
        (date(2026, 4, 5), date(2026, 10, 4)),
    ),
    "gmt_offset 5.5": (LocalZone.fixed(330), (date(2026, 3, 29), date(2026, 10, 25))),
}


def wall_to_utc(tz: tzinfo, day: date, minute: int) -> datetime:
    """PHP's reading of a wall time: fold=0 (first occurrence; a skipped time moves on)."""
    naive = datetime.combine(day, time()) + timedelta(minutes=minute)
    return naive.replace(tzinfo=tz, fold=0).astimezone(UTC)


def oracle(staff, rules, window, now, holidays):
    """Every offered start, found minute by minute."""
    tz = staff.zone.tz
    site_today = now.astimezone(rules.site_zone.tz).date()
    horizon = site_today + timedelta(days=rules.max_days)
    duration = int(rules.duration / MIN)
    step = int(rules.slot_length / MIN)
    found = set()
    local_first = window.start.astimezone(tz).date() - timedelta(days=2)
    local_last = window.end.astimezone(tz).date()
    day = local_first
    while day <= local_last:
        index = day.isoweekday() % 7 + 1
        hours = next((d for d in staff.schedule.days if d.day_index == index), None)
        off = any(
            h.date == day
            or (h.repeats_yearly and (h.date.month, h.date.day) == (day.month, day.day))
            for h in holidays
        )
        if hours is not None and hours.start is not None and not off and day < horizon:
            bitmap = [False] * (48 * 60)
            for m in range(int(hours.start / MIN), int(hours.end / MIN)):
                bitmap[m] = True
            for brk in hours.breaks:
                for m in range(int(brk.start / MIN), int(brk.end / MIN)):
                    bitmap[m] = False
            m = 0
            while m < len(bitmap):
                if not bitmap[m]:
                    m += 1
                    continue
                run_start = m
                while m < len(bitmap) and bitmap[m]:
                    m += 1
                a, b = wall_to_utc(tz, day, run_start), wall_to_utc(tz, day, m)
                t = a
                while t + duration * MIN <= b:
                    if (t - a) % (step * MIN) == timedelta(0) and _ok(t, staff, rules, window, now):
                        found.add(t)
                    t += MIN
        day += timedelta(days=1)
    return sorted(found)


def _ok(t, staff, rules, window, now):
    if not window.start <= t < window.end or t < now + rules.min_notice:
        return False
    lo, hi = t - rules.padding_before, t + rules.duration + rules.padding_after
    return all(not (lo < b.padded.end and hi > b.padded.start) for b in staff.busy)


@st.composite
def working_day(draw, day_index):
    if draw(st.integers(0, 5)) == 0:
        return WorkingDay(day_index, None, None)
    start = draw(st.integers(0, 20 * 12)) * 5
    end = draw(st.integers(start // 5 + 1, 24 * 12)) * 5
    breaks = []
    for _ in range(draw(st.integers(0, 2))):
        b_start = draw(st.integers(start // 5, end // 5)) * 5
        b_end = draw(st.integers(b_start // 5, end // 5)) * 5
        if b_start < b_end:
            breaks.append(Break(timedelta(minutes=b_start), timedelta(minutes=b_end)))
    return WorkingDay(day_index, timedelta(minutes=start), timedelta(minutes=end), tuple(breaks))


@st.composite
def scenarios(draw):
    zone_name = draw(st.sampled_from(sorted(ZONES)))
    zone, changes = ZONES[zone_name]
    change = draw(st.sampled_from(changes))
    first = change - timedelta(days=draw(st.integers(0, 3)))
    start = wall_to_utc(zone.tz, first, draw(st.integers(0, 23)) * 60)
    window = TimeWindow(start, start + timedelta(hours=draw(st.integers(6, 5 * 24))))
    days = tuple(draw(working_day(i)) for i in range(1, 8))
    holidays = tuple(
        DayOff(
            change + timedelta(days=draw(st.integers(-3, 4))) - timedelta(days=365 * r),
            bool(r),
        )
        for r in draw(st.lists(st.integers(0, 1), max_size=2))
    )
    busy = tuple(
        BusyInterval.of(
            start + timedelta(minutes=5 * offset),
            start + timedelta(minutes=5 * offset + length),
            timedelta(minutes=draw(st.sampled_from([0, 5, 15]))),
            timedelta(minutes=draw(st.sampled_from([0, 10]))),
        )
        for offset, length in draw(
            st.lists(
                st.tuples(st.integers(-24 * 12, 5 * 24 * 12), st.integers(5, 240)), max_size=12
            )
        )
    )
    rules = SlotRules(
        service_id=1,
        duration=timedelta(minutes=draw(st.sampled_from([15, 30, 45, 50, 60, 90]))),
        slot_length=timedelta(minutes=draw(st.sampled_from([5, 10, 15, 20, 30, 60]))),
        padding_before=timedelta(minutes=draw(st.sampled_from([0, 5, 15]))),
        padding_after=timedelta(minutes=draw(st.sampled_from([0, 10, 15]))),
        min_notice=timedelta(minutes=draw(st.sampled_from([0, 30, 60, 330, 24 * 60]))),
        max_days=draw(st.integers(0, 8)),
        site_zone=zone,
    )
    now = start - timedelta(minutes=draw(st.integers(-12 * 60, 3 * 24 * 60)))
    staff = StaffAvailability(7, zone, StaffSchedule(7, zone.name, days, holidays), busy)
    return staff, rules, window, now, holidays


@pytest.mark.requirement(16)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_offered_starts_match_the_minute_grid_oracle(scenario):
    staff, rules, window, now, holidays = scenario
    assert offered_starts(staff, rules, window, now) == oracle(staff, rules, window, now, holidays)


@pytest.mark.requirement(16)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(), st.randoms(use_true_random=False), st.integers(0, 3))
def test_busy_time_order_and_duplicates_do_not_change_the_offer(scenario, random, copies):
    staff, rules, window, now, _ = scenario
    busy = list(staff.busy) + [b for b in staff.busy for _ in range(copies)]
    random.shuffle(busy)
    shuffled = StaffAvailability(staff.staff_id, staff.zone, staff.schedule, tuple(busy))
    assert offered_starts(shuffled, rules, window, now) == offered_starts(staff, rules, window, now)


def _berlin_staff(hours, busy=(), holidays=()):
    zone = ZONES["Europe/Berlin"][0]
    days = tuple(WorkingDay(i, *hours) if i in range(2, 7) else WorkingDay(i, None, None)
                 for i in range(1, 8))  # fmt: skip
    return StaffAvailability(1, zone, StaffSchedule(1, zone.name, days, holidays), busy)


def _rules(**kw):
    values = {
        "service_id": 1, "duration": timedelta(hours=1), "slot_length": timedelta(minutes=15),
        "padding_before": timedelta(0), "padding_after": timedelta(0),
        "min_notice": timedelta(0), "max_days": 365, "site_zone": ZONES["Europe/Berlin"][0],
    }  # fmt: skip
    values.update(kw)
    return SlotRules(**values)


def berlin(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo("Europe/Berlin")).astimezone(UTC)


NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
TUESDAY = TimeWindow(berlin("2026-11-24 00:00"), berlin("2026-11-25 00:00"))


def test_grid_restarts_after_a_booking_that_ends_off_grid():
    staff = _berlin_staff(
        (timedelta(hours=9), timedelta(hours=13)),
        busy=(BusyInterval.of(berlin("2026-11-24 10:00"), berlin("2026-11-24 10:10")),),
    )
    starts = offered_starts(staff, _rules(), TUESDAY, NOW)
    # 10:10 is not on the 09:00 grid: the next start is 10:15, as Bookly aligns the removal.
    assert [s.astimezone(ZoneInfo("Europe/Berlin")).strftime("%H:%M") for s in starts] == [
        "09:00", "10:15", "10:30", "10:45", "11:00", "11:15", "11:30", "11:45", "12:00",
    ]  # fmt: skip


def test_a_fall_back_day_keeps_wall_clock_hours():
    sunday_hours = tuple(WorkingDay(i, timedelta(hours=1), timedelta(hours=4)) for i in range(1, 8))
    zone = ZONES["Europe/Berlin"][0]
    staff = StaffAvailability(1, zone, StaffSchedule(1, zone.name, sunday_hours, ()), ())
    day = TimeWindow(berlin("2026-10-25 00:00"), berlin("2026-10-26 00:00"))
    starts = offered_starts(staff, _rules(), day, datetime(2026, 10, 1, tzinfo=UTC))
    # 01:00 CEST .. 04:00 CET is four hours of elapsed time: starts every 15 min for 3 hours.
    assert starts[0] == datetime(2026, 10, 24, 23, 0, tzinfo=UTC)
    assert starts[-1] == datetime(2026, 10, 25, 2, 0, tzinfo=UTC)
    assert len(starts) == 13


def test_notice_and_horizon_cut_the_offer():
    staff = _berlin_staff((timedelta(hours=9), timedelta(hours=17)))
    now = berlin("2026-11-24 10:20")
    starts = offered_starts(staff, _rules(min_notice=timedelta(hours=2)), TUESDAY, now)
    assert starts[0] == berlin("2026-11-24 12:30")
    assert offered_starts(staff, _rules(max_days=0), TUESDAY, now) == []


def test_periods_merge_overlapping_slots():
    starts = [berlin("2026-11-24 09:00"), berlin("2026-11-24 09:15"), berlin("2026-11-24 12:00")]
    assert periods(starts, timedelta(hours=1)) == [
        TimeWindow(berlin("2026-11-24 09:00"), berlin("2026-11-24 10:15")),
        TimeWindow(berlin("2026-11-24 12:00"), berlin("2026-11-24 13:00")),
    ]


@pytest.mark.parametrize("zone_name", sorted(ZONES))
def test_every_zone_offers_a_plain_weekday(zone_name):
    zone, _ = ZONES[zone_name]
    days = tuple(WorkingDay(i, timedelta(hours=9), timedelta(hours=10)) for i in range(1, 8))
    staff = StaffAvailability(1, zone, StaffSchedule(1, zone.name, days, ()), ())
    start = wall_to_utc(zone.tz, date(2026, 12, 9), 0)
    starts = offered_starts(
        staff, _rules(site_zone=zone), TimeWindow(start, start + timedelta(days=1)), NOW
    )
    assert starts == [wall_to_utc(zone.tz, date(2026, 12, 9), 9 * 60)]


def test_fixed_offset_zone_is_a_timezone():
    assert isinstance(ZONES["gmt_offset 5.5"][0].tz, timezone)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(), st.integers(0, 10_000))
def test_why_not_finds_a_reason_exactly_for_the_starts_not_offered(scenario, pick):
    staff, rules, window, now, _ = scenario
    offered = set(offered_starts(staff, rules, window, now))
    span = int((window.end - window.start) / MIN) // 5
    candidate = window.start + timedelta(minutes=5 * (pick % max(span, 1)))
    reasons = bookly_reasons(staff, rules, candidate, now)
    assert (candidate in offered) == (reasons == []), reasons


def test_why_not_names_each_kind_of_reason():
    staff = _berlin_staff(
        (timedelta(hours=9), timedelta(hours=17)),
        busy=(
            BusyInterval.of(
                berlin("2026-11-24 14:00"),
                berlin("2026-11-24 15:00"),
                timedelta(0),
                timedelta(minutes=15),
            ),
        ),  # fmt: skip
        holidays=(DayOff(date(2026, 11, 26), repeats_yearly=False),),
    )
    rules = _rules(padding_before=timedelta(minutes=10))

    def codes(when: str, now: datetime = NOW) -> list[str]:
        return [r.code.value for r in bookly_reasons(staff, rules, berlin(when), now)]

    assert codes("2026-11-24 09:00") == []
    assert codes("2026-11-24 14:30") == ["bookly_appointment"]
    assert codes("2026-11-24 15:00") == ["padding"]  # 15 min after + 10 min before
    assert codes("2026-11-24 09:05") == ["not_on_grid"]
    assert codes("2026-11-24 16:30") == ["outside_hours"]
    assert codes("2026-11-26 10:00") == ["day_off"]
    assert codes("2026-11-29 10:00") == ["day_off"]  # a Sunday
    assert codes("2026-11-24 09:00", berlin("2026-11-24 10:00")) == ["past"]
    assert codes("2026-11-24 11:00", berlin("2026-11-24 10:00")) == []
    assert codes("2027-12-01 10:00") == ["horizon"]


def test_why_not_sees_breaks():
    zone = ZONES["Europe/Berlin"][0]
    days = tuple(
        WorkingDay(i, timedelta(hours=9), timedelta(hours=17),
                   (Break(timedelta(hours=12, minutes=30), timedelta(hours=13)),))
        for i in range(1, 8)
    )  # fmt: skip
    staff = StaffAvailability(1, zone, StaffSchedule(1, zone.name, days, ()), ())
    found = bookly_reasons(staff, _rules(), berlin("2026-11-24 12:00"), NOW)
    assert [r.code.value for r in found] == ["break"]

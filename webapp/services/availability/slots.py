"""Bookly's slot finder, pure: hours, days off, busy time, grid, notice, horizon -> starts.

The rules, as Bookly's booking form applies them (lib/slots of Bookly 27.4; see
shared/reference/bookly.md):

* Each local day that is not a day off (no weekly hours, or a holiday, yearly repeats
  included) gives working ranges: its hours minus its breaks, as wall times in the staff
  member's zone (the site's unless Bookly Pro sets one), converted to instants the way PHP
  reads them (a repeated wall time means its first occurrence; a skipped one moves forward).
* A slot start lies on a grid of ``slot_length`` counted from the start of its working
  range, and the whole slot ``[s, s + duration)`` lies inside the range. Elapsed time, so a
  range across a DST change keeps its grid.
* The slot, widened by the service's padding (``[s - before, s + d + after)``), must not
  overlap any busy appointment widened by that appointment's own padding.
* ``s >= now + min_notice`` and the generating day is before the site's local today plus
  ``max_days`` (the finder stops at that midnight).

Everything is computed on integer epoch seconds for speed; results are aware UTC.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

from bookly_client import BusyInterval, SlotRules, StaffAvailability, StaffSchedule, TimeWindow
from bookly_client.schedule import day_segments
from bookly_client.timezone import LocalZone, local_epochs

DAY = timedelta(days=1)
Range = tuple[int, int]


@dataclass(frozen=True, slots=True)
class WorkingRange:
    """One working range: a day's hours between breaks, as UTC instants."""

    day: date
    start: datetime
    end: datetime


def epoch(moment: datetime) -> int:
    """Whole epoch seconds of an aware instant, rounded up."""
    seconds = moment.timestamp()
    whole = int(seconds)
    return whole + 1 if seconds > whole else whole


def instant(seconds: int) -> datetime:
    """Aware UTC datetime of epoch seconds."""
    return datetime.fromtimestamp(seconds, UTC)


def horizon_day(rules: SlotRules, now: datetime) -> date:
    """The first site-local day Bookly no longer offers (today + max_days)."""
    return rules.site_zone.to_local(now).date() + timedelta(days=rules.max_days)


def horizon_instant(rules: SlotRules, now: datetime) -> datetime:
    """The site-local midnight that starts the horizon day, in UTC."""
    return rules.site_zone.to_utc(datetime.combine(horizon_day(rules, now), datetime.min.time()))


def working_ranges(staff: StaffAvailability, first: date, last: date) -> list[WorkingRange]:
    """Working ranges of the local days ``first`` .. ``last`` (inclusive), in time order."""
    return [
        WorkingRange(day, instant(start), instant(end))
        for day, start, end in range_bounds(staff.schedule, staff.zone, first, last)
    ]


@lru_cache(maxsize=256)
def range_bounds(
    schedule: StaffSchedule, zone: LocalZone, first: date, last: date
) -> tuple[tuple[date, int, int], ...]:
    """``working_ranges`` as (day, start, end) epoch seconds; shared by staff members with the
    same hours (the cache key ignores nothing that matters: hours, breaks, days off, zone)."""
    epochs = local_epochs(zone)
    found: list[tuple[date, int, int]] = []
    day = first
    while day <= last:
        hours = schedule.day(day)
        if hours and hours.start is not None and hours.end and not schedule.is_day_off(day):
            for seg_start, seg_end in day_segments(day, hours.start, hours.end, hours):
                start, end = epochs(seg_start), epochs(seg_end)
                if start < end:
                    found.append((day, start, end))
        day += DAY
    return tuple(found)


def blocked_ranges(busy: Iterable[BusyInterval], rules: SlotRules) -> list[Range]:
    """Where a slot may not overlap: padded appointments grown by the service's padding.

    A slot ``[s, s + d)`` clashes with an appointment when ``[s - before, s + d + after)``
    overlaps its padded time, i.e. when ``[s, s + d)`` overlaps the padded time grown by
    ``after`` on the left and ``before`` on the right. Merged, sorted.
    """
    before = int(rules.padding_before.total_seconds())
    after = int(rules.padding_after.total_seconds())
    raw = [(b.start - b.padding_before - after, b.end + b.padding_after + before) for b in busy]
    raw.sort()  # nearly sorted already (the gateway sorts by start): cheap
    merged: list[Range] = []
    for lo, hi in raw:
        if merged and lo <= merged[-1][1]:
            if hi > merged[-1][1]:
                merged[-1] = (merged[-1][0], hi)
        elif lo < hi:
            merged.append((lo, hi))
    return merged


def _grid_starts(anchor: int, lo: int, hi: int, step: int) -> range:
    """Grid points ``anchor + k * step`` in ``[lo, hi]``."""
    first = anchor + -(-(lo - anchor) // step) * step
    last = anchor + ((hi - anchor) // step) * step
    return range(first, last + 1, step) if first <= last else range(0)


def _range_starts(
    rng: Range, blocked: Sequence[Range], ends: Sequence[int], duration: int, step: int,
    earliest: int, latest: int,
) -> list[int]:  # fmt: skip
    """Valid starts in one working range: on its grid, in free gaps, within the bounds."""
    anchor, range_end = rng
    found: list[int] = []
    cursor = anchor
    index = bisect.bisect_right(ends, anchor)
    while cursor < range_end:
        gap_end = range_end
        next_cursor = range_end
        if index < len(blocked) and blocked[index][0] < range_end:
            gap_end = min(range_end, blocked[index][0])
            next_cursor = blocked[index][1]
            index += 1
        lo, hi = max(cursor, earliest), min(gap_end - duration, latest)
        if lo <= hi:
            found.extend(_grid_starts(anchor, lo, hi, step))
        cursor = max(cursor, next_cursor)
    return found


def offered_starts(
    staff: StaffAvailability, rules: SlotRules, window: TimeWindow, now: datetime
) -> list[datetime]:
    """Every start Bookly's form offers for this staff member in ``[window.start, window.end)``."""
    return [instant(s) for s in offered_epochs(staff, rules, window, now)]


def offered_epochs(
    staff: StaffAvailability, rules: SlotRules, window: TimeWindow, now: datetime
) -> list[int]:
    """``offered_starts`` as sorted epoch seconds (the fast path used by the service)."""
    duration = int(rules.duration.total_seconds())
    step = int(rules.slot_length.total_seconds())
    if duration <= 0 or step <= 0 or window.end <= window.start:
        return []
    earliest = max(epoch(window.start), epoch(now + rules.min_notice))
    latest = epoch(window.end) - 1
    last_day = min(
        staff.zone.to_local(window.end).date(), horizon_day(rules, now) - DAY
    )  # the finder stops at the horizon day
    first_day = staff.zone.to_local(window.start - rules.duration).date() - DAY
    blocked = blocked_ranges(staff.busy, rules)
    ends = [hi for _, hi in blocked]
    starts: set[int] = set()
    for _, start, end in range_bounds(_unowned(staff.schedule), staff.zone, first_day, last_day):
        starts.update(_range_starts((start, end), blocked, ends, duration, step, earliest, latest))
    return sorted(starts)


def _unowned(schedule: StaffSchedule) -> StaffSchedule:
    """The schedule without its staff id, so identical hours share one cache entry."""
    return StaffSchedule(0, schedule.time_zone, schedule.days, schedule.days_off)


def periods(starts: Iterable[datetime], duration: timedelta) -> list[TimeWindow]:
    """The merged time covered by slots at ``starts``: the Bookly periods for Cronofy."""
    merged: list[TimeWindow] = []
    for start in sorted(starts):
        end = start + duration
        if merged and start <= merged[-1].end:
            if end > merged[-1].end:
                merged[-1] = TimeWindow(merged[-1].start, end)
        else:
            merged.append(TimeWindow(start, end))
    return merged

"""One Cronofy Availability query per view, and reading its answer back onto Bookly's grid.

Cronofy gets the Bookly periods (merged time covered by the starts Bookly would offer) as
``query_periods``, ``required_duration`` = the service's duration, ``buffer`` = the
service's padding and ``start_interval`` = the slot grid. Its answer is then cut back onto
exactly Bookly's starts: a start stays when Cronofy says its member is free for the whole
slot at that time. So nothing Bookly would not offer is ever shown, whatever grid Cronofy
aligns to.

``start_interval`` is the largest whole-minute step that divides the grid and every start's
epoch second (normally the grid itself: 15 minutes on a 09:00 day). Cronofy aligns slot
starts to it, so every Bookly start is one of Cronofy's candidate starts.

One instructor: ``response_format=periods`` (a month of starts fits in a few periods).
Several ("any instructor"): every connected instructor is a member of one group with
``required: 1``, each with their own Bookly periods as the member's ``available_periods``
(Cronofy lets periods differ per member that way; ``query_periods`` is their union), and
``response_format=overlapping_slots`` so each start lists who is free.
"""

from __future__ import annotations

import bisect
import heapq
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from bookly_client import SlotRules
from cronofy_client import AvailabilityMember, AvailabilityQuery, AvailableInterval, Period
from webapp.services.availability.slots import epoch, instant

MAX_RESULTS = 512  # Cronofy's upper bound (reference §7.1, unverified)


@dataclass(frozen=True, slots=True)
class CalendarMember:
    """A connected instructor in the query: their Cronofy sub, conflict calendars, starts."""

    instructor_id: int
    sub: str
    calendar_ids: tuple[str, ...]
    starts: tuple[int, ...]  # Bookly's starts, epoch seconds, sorted


def covered_spans(starts: Iterable[int], duration: int) -> list[tuple[int, int]]:
    """The merged time the slots at (sorted) ``starts`` cover, as epoch-second spans."""
    merged: list[tuple[int, int]] = []
    lo = hi = None
    for start in starts:
        if hi is not None and start <= hi:
            hi = start + duration if start + duration > hi else hi
            continue
        if lo is not None and hi is not None:
            merged.append((lo, hi))
        lo, hi = start, start + duration
    if lo is not None and hi is not None:
        merged.append((lo, hi))
    return merged


def as_periods(spans: Iterable[tuple[int, int]]) -> tuple[Period, ...]:
    """Cronofy periods of epoch-second spans."""
    return tuple(Period(instant(lo), instant(hi)) for lo, hi in spans)


def covered_periods(starts: Iterable[int], duration: int) -> tuple[Period, ...]:
    """The merged time the slots at (sorted) ``starts`` cover, as Cronofy periods."""
    return as_periods(covered_spans(starts, duration))


def _union(spans: Iterable[list[tuple[int, int]]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for lo, hi in heapq.merge(*spans):
        if merged and lo <= merged[-1][1]:
            if hi > merged[-1][1]:
                merged[-1] = (merged[-1][0], hi)
        else:
            merged.append((lo, hi))
    return merged


def start_interval(members: Sequence[CalendarMember], rules: SlotRules) -> timedelta | None:
    """Whole minutes dividing the grid and every start, or None when there is no such step."""
    divisor = int(rules.slot_length.total_seconds())
    for member in members:
        for start in member.starts:
            if start % divisor:
                divisor = math.gcd(divisor, start)
    if divisor < 60 or divisor % 60:
        return None
    return timedelta(seconds=divisor)


def build_query(members: Sequence[CalendarMember], rules: SlotRules) -> AvailabilityQuery:
    """The one query for these members (each must have at least one start)."""
    duration = int(rules.duration.total_seconds())
    common = {
        "required_duration": rules.duration,
        "buffer_before": rules.padding_before,
        "buffer_after": rules.padding_after,
        "start_interval": start_interval(members, rules),
        "max_results": MAX_RESULTS,
    }
    if len(members) == 1:
        only = members[0]
        return AvailabilityQuery(
            members=(AvailabilityMember(only.sub, only.calendar_ids),),
            query_periods=covered_periods(only.starts, duration),
            response_format="periods",
            **common,  # type: ignore[arg-type]
        )
    spans = [covered_spans(m.starts, duration) for m in members]
    return AvailabilityQuery(
        members=tuple(
            AvailabilityMember(m.sub, m.calendar_ids, available_periods=as_periods(own))
            for m, own in zip(members, spans, strict=True)
        ),
        required=1,
        query_periods=as_periods(_union(spans)),
        response_format="overlapping_slots",
        **common,  # type: ignore[arg-type]
    )


def free_starts(
    members: Sequence[CalendarMember],
    answer: Iterable[AvailableInterval],
    duration: timedelta,
) -> dict[int, set[int]]:
    """Instructor id -> the Bookly starts Cronofy confirmed free."""
    if len(members) == 1:
        only = members[0]
        spans = sorted((epoch(a.start), int(a.end.timestamp())) for a in answer)
        span_starts = [lo for lo, _ in spans]
        length = int(duration.total_seconds())
        confirmed = set()
        for s in only.starts:
            index = bisect.bisect_right(span_starts, s) - 1
            if index >= 0 and s + length <= spans[index][1]:
                confirmed.add(s)
        return {only.instructor_id: confirmed}
    offered = {m.sub: (m.instructor_id, frozenset(m.starts)) for m in members}
    found: dict[int, set[int]] = {m.instructor_id: set() for m in members}
    for slot in answer:
        start = epoch(slot.start)
        for sub in slot.participants:
            instructor_id, starts = offered.get(sub, (None, frozenset()))
            if instructor_id is not None and start in starts:
                found[instructor_id].add(start)
    return found

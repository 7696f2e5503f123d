"""The Availability algorithm (§7.1), pure: integer epoch seconds in, intervals out.

Definitions the sandbox uses (Cronofy documents the inputs, not the exact arithmetic):
- a member can take a slot [s, s+d) when it lies inside one of their free intervals (query
  periods intersected with their own available_periods) and [s - before, s + d + after) does
  not overlap their busy time (buffers only have to be clear of busy time, not inside periods);
- a group is satisfied at s when all (or `required` N) of its members can take the slot; the
  query is satisfied when every group is;
- slot formats align starts to `start_interval` counted from the Unix epoch (so 15 minutes gives
  :00/:15/:30/:45); `slots` are back-to-back (greedy, never overlapping), `overlapping_slots` are
  every aligned start; `periods` are the maximal ranges of valid starts, each extended by the
  duration, so every slot of the required duration inside a period is available.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

Range = tuple[int, int]  # half-open [start, end)


@dataclass(frozen=True, slots=True)
class Member:
    """One participant: free intervals and busy intervals, both half-open."""

    sub: str
    free: tuple[Range, ...]
    busy: tuple[Range, ...]


@dataclass(frozen=True, slots=True)
class Group:
    """Members of whom `required` (None = all) must be available."""

    members: tuple[Member, ...]
    required: int | None = None


@dataclass(frozen=True, slots=True)
class Query:
    """Everything but the participants' data."""

    duration: int
    before: int = 0
    after: int = 0
    interval: int | None = None
    response_format: str = "periods"
    max_results: int = 256


@dataclass(frozen=True, slots=True)
class Available:
    """One available period or slot."""

    start: int
    end: int
    subs: tuple[str, ...]


def merge(ranges: Iterable[Range]) -> list[Range]:
    """Sort and merge overlapping or touching half-open ranges; drop empty ones."""
    merged: list[Range] = []
    for start, end in sorted(r for r in ranges if r[0] < r[1]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def intersect(a: Sequence[Range], b: Sequence[Range]) -> list[Range]:
    """Intersection of two merged range lists."""
    out, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if lo < hi:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def valid_starts(member: Member, q: Query) -> list[Range]:
    """Starts s (as half-open integer ranges) at which the member can take the slot."""
    starts: list[Range] = []
    for lo, hi in merge(member.free):
        if hi - lo >= q.duration:
            starts.append((lo, hi - q.duration + 1))
    for busy_lo, busy_hi in merge(member.busy):
        # s is blocked when (s - before, s + d + after) overlaps [busy_lo, busy_hi).
        blocked = (busy_lo - q.duration - q.after + 1, busy_hi + q.before)
        starts = [piece for r in starts for piece in _minus(r, blocked)]
    return starts


def _minus(r: Range, cut: Range) -> list[Range]:
    pieces = [(r[0], min(r[1], cut[0])), (max(r[0], cut[1]), r[1])]
    return [p for p in pieces if p[0] < p[1]]


def at_least(lists: Sequence[Sequence[Range]], needed: int) -> list[Range]:
    """Points covered by at least `needed` of the range lists."""
    edges = sorted(
        [(lo, 1) for rs in lists for lo, _ in rs] + [(hi, -1) for rs in lists for _, hi in rs]
    )
    out: list[Range] = []
    count, opened = 0, 0
    for point, step in edges:
        before = count
        count += step
        if before < needed <= count:
            opened = point
        elif count < needed <= before and point > opened:
            out.append((opened, point))
    return merge(out)


def solve(groups: Sequence[Group], q: Query) -> list[Available]:
    """Available periods or slots for the query."""
    per_member = {m.sub: valid_starts(m, q) for g in groups for m in g.members}
    overall: list[Range] | None = None
    for group in groups:
        lists = [per_member[m.sub] for m in group.members]
        needed = len(lists) if group.required is None else group.required
        ok = at_least(lists, needed)
        overall = ok if overall is None else intersect(overall, ok)
    starts = overall or []

    def subs_at(s: int) -> tuple[str, ...]:
        return tuple(sub for sub, rs in per_member.items() if any(lo <= s < hi for lo, hi in rs))

    if q.response_format == "periods":
        found = [
            Available(lo, hi - 1 + q.duration, subs_at(lo))
            for lo, hi in _aligned(starts, q.interval)
        ]
    else:
        found = [Available(s, s + q.duration, subs_at(s)) for s in _slot_starts(starts, q)]
    return found[: q.max_results]


def _align_up(value: int, interval: int | None) -> int:
    if not interval:
        return value
    return -(-value // interval) * interval


def _aligned(starts: Sequence[Range], interval: int | None) -> list[Range]:
    out = []
    for lo, hi in starts:
        first = _align_up(lo, interval)
        last = hi - 1 if not interval else (hi - 1) // interval * interval
        if first <= last:
            out.append((first, last + 1))
    return out


def _slot_starts(starts: Sequence[Range], q: Query) -> list[int]:
    interval = q.interval or 15 * 60
    found: list[int] = []
    last_end = None
    for lo, hi in starts:
        s = _align_up(
            lo
            if last_end is None or q.response_format == "overlapping_slots"
            else max(lo, last_end),
            interval,
        )
        while s < hi:
            found.append(s)
            if q.response_format == "slots":
                last_end = s + q.duration
                s = _align_up(last_end, interval)
            else:
                s += interval
    return found

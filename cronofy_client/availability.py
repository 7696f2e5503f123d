"""Availability queries: split long query windows into several requests, merge the answers.

Cronofy's limits on query periods are NOT confirmed (reference §7.1 gives them from memory:
1-50 periods spanning at most ~35 days). We stay inside those guesses: each request carries at
most ``MAX_PERIODS_PER_REQUEST`` periods whose overall span is at most ``MAX_REQUEST_SPAN``.
Adjacent pieces of a split period overlap by ``required_duration`` so a slot straddling a
split point is still found; duplicates are removed and touching periods merged afterwards.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import timedelta

from cronofy_client.scheduling import AvailabilityQuery, AvailableInterval, Period
from cronofy_client.wire import JsonObject

log = logging.getLogger(__name__)

MAX_REQUEST_SPAN = timedelta(days=35)  # unverified, see module docstring
MAX_PERIODS_PER_REQUEST = 50  # unverified, see module docstring


def split_period(period: Period, span: timedelta, overlap: timedelta) -> list[Period]:
    """Cut a period into pieces of at most ``span``, each overlapping the next by ``overlap``."""
    if period.end - period.start <= span:
        return [period]
    step = span - overlap
    if step <= timedelta(0):
        raise ValueError("required_duration is too long to split the query period")
    pieces: list[Period] = []
    start = period.start
    while True:
        end = min(start + span, period.end)
        pieces.append(Period(start, end))
        if end >= period.end:
            return pieces
        start += step


def plan_requests(
    query: AvailabilityQuery,
    *,
    span: timedelta = MAX_REQUEST_SPAN,
    max_periods: int = MAX_PERIODS_PER_REQUEST,
) -> list[tuple[Period, ...]]:
    """Group the (split) query periods, in time order, into batches Cronofy should accept."""
    pieces = sorted(
        (
            piece
            for period in query.query_periods
            for piece in split_period(period, span, query.required_duration)
        ),
        key=lambda p: (p.start, p.end),
    )
    batches: list[list[Period]] = []
    for piece in pieces:
        current = batches[-1] if batches else None
        fits = (
            current is not None
            and len(current) < max_periods
            and piece.end - current[0].start <= span
        )
        if fits and current is not None:
            current.append(piece)
        else:
            batches.append([piece])
    return [tuple(batch) for batch in batches]


def merge_intervals(
    intervals: Iterable[AvailableInterval], *, join_touching: bool
) -> list[AvailableInterval]:
    """Sort and dedupe; with ``join_touching`` also join overlapping/touching same-party periods."""
    ordered = sorted(set(intervals), key=lambda i: (i.start, i.end, i.participants))
    if not join_touching:
        return ordered
    merged: list[AvailableInterval] = []
    for item in ordered:
        open_item = next((m for m in reversed(merged) if m.participants == item.participants), None)
        if open_item is not None and item.start <= open_item.end:
            if item.end > open_item.end:
                index = merged.index(open_item)
                merged[index] = AvailableInterval(open_item.start, item.end, item.participants)
            continue
        merged.append(item)
    return sorted(merged, key=lambda i: (i.start, i.end, i.participants))


def parse_response(query: AvailabilityQuery, data: JsonObject) -> list[AvailableInterval]:
    """Read ``available_periods`` (periods format) or ``available_slots`` (slot formats)."""
    key = "available_periods" if query.response_format == "periods" else "available_slots"
    return [AvailableInterval.from_json(item) for item in data.get(key) or ()]


def run_query(
    query: AvailabilityQuery, post: Callable[[JsonObject], JsonObject]
) -> list[AvailableInterval]:
    """Send one request per batch through ``post`` and merge the results in time order."""
    join = query.response_format == "periods"
    batches = plan_requests(query)
    if len(batches) > 1:
        log.info("Availability query split into %d requests", len(batches))
    merged: list[AvailableInterval] = []
    for batch in batches:
        body = query.to_json(batch)
        if body is None:  # no member can be free in this part of the window
            continue
        found = parse_response(query, post(body))
        merged = merge_intervals([*merged, *found], join_touching=join)
        # Batches are in time order, so once more than max_results are held the first
        # max_results can no longer change (a later period could only extend the last one).
        if query.max_results is not None and len(merged) > query.max_results:
            break
    return merged[: query.max_results] if query.max_results is not None else merged

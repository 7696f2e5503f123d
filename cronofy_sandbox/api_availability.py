"""POST /v1/availability: parse the request, gather busy time, run the algorithm."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from cronofy_sandbox import availability, calendar_events, directory
from cronofy_sandbox.errors import FieldErrors, forbidden
from cronofy_sandbox.gatekeeper import caller, is_api_key
from cronofy_sandbox.request_body import json_object
from cronofy_sandbox.state import get_sandbox
from cronofy_sandbox.store import Store
from cronofy_sandbox.timefmt import (
    TimeFormatError,
    format_time,
    minutes,
    parse_time,
    stored_to_instant,
)

bp = Blueprint("api_availability", __name__, url_prefix="/v1")
FORMATS = ("periods", "slots", "overlapping_slots")


def _epoch(value: datetime) -> int:
    return int(value.timestamp())


def _periods(raw: object, field: str, errors: FieldErrors) -> list[tuple[int, int]]:
    if not isinstance(raw, list) or not raw:
        errors.add(field, "required", f"{field} must be a non-empty list")
        return []
    if len(raw) > 50:
        errors.add(field, "too_many", f"{field} may contain at most 50 periods")
    out = []
    for item in raw:
        try:
            start, end = parse_time(item.get("start")), parse_time(item.get("end"))
        except (TimeFormatError, AttributeError):
            errors.add(field, "invalid", "each period needs a start and end Time")
            continue
        if end <= start:
            errors.add(field, "invalid", "each period must end after it starts")
        out.append((_epoch(start), _epoch(end)))
    return out


def _seconds(raw: object, field: str, errors: FieldErrors, *, positive: bool) -> int:
    try:
        value = int(minutes(raw).total_seconds())
    except TimeFormatError:
        errors.add(field, "invalid", f'{field} must be a duration like {{"minutes": 30}}')
        return 0
    if positive and value <= 0:
        errors.add(field, "invalid", f"{field} must be positive")
    return value


def _query(body: dict[str, Any], errors: FieldErrors) -> availability.Query:
    fmt = body.get("response_format", "periods")
    if fmt not in FORMATS:
        errors.add(
            "response_format",
            "invalid",
            "response_format must be periods, slots or overlapping_slots",
        )
    max_results = body.get("max_results", 256)  # default and bound 512 are [INF] (§7.1)
    if not isinstance(max_results, int) or not 1 <= max_results <= 512:
        errors.add("max_results", "invalid", "max_results must be between 1 and 512")
        max_results = 256
    buffer = body.get("buffer") or {}
    if not isinstance(buffer, dict):
        errors.add("buffer", "invalid", 'buffer must be an object like {"before": {"minutes": 5}}')
        buffer = {}
    interval = body.get("start_interval")
    return availability.Query(
        duration=_seconds(
            body.get("required_duration"), "required_duration", errors, positive=True
        ),
        before=_seconds(buffer.get("before", {}), "buffer", errors, positive=False),
        after=_seconds(buffer.get("after", {}), "buffer", errors, positive=False),
        # Any positive interval is accepted: the allowed set is unverified [INF].
        interval=_seconds(interval, "start_interval", errors, positive=True) if interval else None,
        response_format=fmt if fmt in FORMATS else "periods",
        max_results=max_results,
    )


def _busy(store: Store, sub: str, calendar_ids: list[str] | None) -> list[tuple[int, int]]:
    person = directory.person_by_sub(store, sub)
    tzid = person["tzid"] if person else "Etc/UTC"
    owned = [c["calendar_id"] for _, c in directory.account_calendars(store, sub)]
    rows = calendar_events.in_calendars(store, calendar_ids if calendar_ids else owned)
    return [
        (_epoch(stored_to_instant(r["start"], tzid)), _epoch(stored_to_instant(r["end"], tzid)))
        for r in rows
        if not r["deleted"] and r["transparency"] != "transparent" and r["status"] != "cancelled"
    ]


def _member(
    store: Store,
    raw: Any,
    query_periods: list[tuple[int, int]],
    errors: FieldErrors,
    allowed_sub: str | None,
) -> availability.Member | None:
    sub = raw.get("sub") if isinstance(raw, dict) else raw
    if not isinstance(sub, str) or directory.person_by_sub(store, sub) is None:
        errors.add("participants", "unknown_sub", f"unknown member sub {sub!r}")
        return None
    if allowed_sub is not None and sub != allowed_sub:
        raise forbidden("read_free_busy")
    owned = {c["calendar_id"] for _, c in directory.account_calendars(store, sub)}
    calendar_ids = raw.get("calendar_ids") if isinstance(raw, dict) else None
    if calendar_ids is not None and not (
        isinstance(calendar_ids, list)
        and all(isinstance(cal, str) and cal in owned for cal in calendar_ids)
    ):
        errors.add("participants", "unknown_calendar", "calendar_ids must belong to the member")
        calendar_ids = None
    free = availability.merge(query_periods)
    if isinstance(raw, dict) and raw.get("available_periods") is not None:
        own = _periods(raw["available_periods"], "participants", errors)
        free = availability.intersect(free, availability.merge(own))
    # managed_availability / availability_rule_ids are accepted but the sandbox has no
    # availability rules, so they add no restriction.
    return availability.Member(sub, tuple(free), tuple(_busy(store, sub, calendar_ids)))


def _groups(
    store: Store,
    body: dict[str, Any],
    query_periods: list[tuple[int, int]],
    errors: FieldErrors,
    allowed_sub: str | None,
) -> list[availability.Group]:
    raw_groups = body.get("participants")
    if not isinstance(raw_groups, list) or not raw_groups:
        errors.add("participants", "required", "participants must be a non-empty list")
        return []
    groups = []
    for raw in raw_groups:
        members_raw = raw.get("members") if isinstance(raw, dict) else None
        if not isinstance(members_raw, list) or not members_raw:
            errors.add("participants", "required", "each group needs members")
            continue
        members = [_member(store, m, query_periods, errors, allowed_sub) for m in members_raw]
        required = raw.get("required", "all")
        if required != "all" and (
            not isinstance(required, int) or not 1 <= required <= len(members)
        ):
            errors.add("participants", "invalid", 'required must be "all" or 1..number of members')
            continue
        present = tuple(m for m in members if m is not None)
        groups.append(availability.Group(present, None if required == "all" else required))
    return groups


@bp.post("/availability")
def availability_view() -> ResponseReturnValue:
    """Availability with the API key (any sub) or a member's own access token."""
    allowed_sub = None if is_api_key() else caller("read_free_busy").sub
    body = json_object()
    errors = FieldErrors()
    key = "query_periods" if "query_periods" in body else "available_periods"
    query_periods = _periods(body.get(key), key, errors)
    q = _query(body, errors)
    groups = _groups(get_sandbox().store, body, query_periods, errors, allowed_sub)
    errors.raise_if_any()
    found = availability.solve(groups, q)
    out = [
        {"start": _time(a.start), "end": _time(a.end), "participants": [{"sub": s} for s in a.subs]}
        for a in found
    ]
    return jsonify(
        {"available_periods" if q.response_format == "periods" else "available_slots": out}
    )


def _time(epoch: int) -> str:
    return format_time(datetime.fromtimestamp(epoch, UTC))

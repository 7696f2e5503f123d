"""Read Events and Free/Busy: the query, the filters and the JSON shapes (§5.1, §6)."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cronofy_sandbox import calendar_events, directory, query_params
from cronofy_sandbox.errors import FieldErrors, not_found
from cronofy_sandbox.store import Store
from cronofy_sandbox.timefmt import (
    day_start,
    format_time,
    now,
    parse_time,
    stored_to_instant,
    zone,
)

UTC_ZONES = frozenset({"UTC", "Etc/UTC", "Etc/Universal", "Universal", "Etc/Zulu", "Zulu"})

# Documented for Free/Busy and assumed for Read Events (§5.1): 42 days back, 201 ahead.
PAST_DAYS, FUTURE_DAYS = 42, 201


@dataclass(frozen=True, slots=True)
class EventQuery:
    """A resolved read: what the first page and every later page select."""

    sub: str
    tzid: str
    window_from: str | None
    window_to: str | None
    calendar_ids: list[str] = field(default_factory=list)
    last_modified: str | None = None
    include_deleted: bool = False
    include_moved: bool = False
    include_managed: bool = False
    only_managed: bool = False
    localized_times: bool = False

    def dumps(self) -> str:
        """Serialise for the pages table."""
        return json.dumps(asdict(self))

    @classmethod
    def loads(cls, text: str) -> EventQuery:
        """Inverse of dumps."""
        return cls(**json.loads(text))


def parse_query(store: Store, sub: str, *, free_busy: bool) -> EventQuery:
    """Read the query string; 422 on bad parameters, 404 on a calendar the account lacks."""
    errors = FieldErrors()
    tzid = query_params.required_tzid(errors)
    day_from = query_params.optional_date("from", errors)
    day_to = query_params.optional_date("to", errors)
    last_modified = query_params.optional_time("last_modified", errors)
    if day_from and day_to and day_from > day_to:
        errors.add("to", "invalid", "to must not be before from")
    only_managed = False if free_busy else query_params.flag("only_managed", False, errors)
    q = {
        "include_deleted": query_params.flag("include_deleted", False, errors),
        "include_moved": query_params.flag("include_moved", False, errors),
        "include_managed": query_params.flag("include_managed", False, errors),
        "localized_times": query_params.flag("localized_times", False, errors),
    }
    errors.raise_if_any()
    owned = {cal["calendar_id"] for _, cal in directory.account_calendars(store, sub)}
    wanted = query_params.calendar_ids()
    if any(cal not in owned for cal in wanted):
        raise not_found()
    today = now().date()
    # Managed events ignore the default window when only_managed is set (§5.1).
    unbounded = only_managed and day_from is None and day_to is None
    start = day_start(day_from or today - timedelta(days=PAST_DAYS), tzid)
    end = day_start(day_to or today + timedelta(days=FUTURE_DAYS), tzid)
    return EventQuery(
        sub,
        tzid,
        None if unbounded else format_time(start),
        None if unbounded else format_time(end),
        wanted,
        format_time(last_modified) if last_modified else None,
        only_managed=only_managed,
        **q,
    )


def _overlaps(start: datetime, end: datetime, q: EventQuery) -> bool:
    if q.window_from is None or q.window_to is None:
        return True
    # "Returned events start before `to` and end on/after `from`" (§5.1).
    return start < parse_time(q.window_to) and end >= parse_time(q.window_from)


def _in_window(row: sqlite3.Row, q: EventQuery) -> bool:
    spans = [(row["start"], row["end"])]
    if q.include_moved:
        spans += [tuple(span) for span in json.loads(row["previous_spans"])]
    return any(
        _overlaps(stored_to_instant(s, q.tzid), stored_to_instant(e, q.tzid), q) for s, e in spans
    )


def select(
    store: Store, q: EventQuery, *, free_busy: bool
) -> list[tuple[sqlite3.Row, sqlite3.Row]]:
    """(event, profile) pairs matching the query, ordered by start."""
    pairs = directory.account_calendars(store, q.sub)
    profiles = {cal["calendar_id"]: profile for profile, cal in pairs}
    ids = q.calendar_ids or list(profiles)
    last_modified = parse_time(q.last_modified) if q.last_modified else None
    chosen = []
    for row in calendar_events.in_calendars(store, ids):
        profile = profiles[row["calendar_id"]]
        if q.only_managed and not row["managed"]:
            continue
        if not q.only_managed and row["managed"] and not q.include_managed:
            continue
        # Free/busy mode hides external events from Read Events entirely: the app sees its
        # own (managed) events and learns about the rest only through Free/Busy (§9.2).
        if not free_busy and not row["managed"] and profile["access_mode"] == "free_busy":
            continue
        if row["deleted"] and (free_busy or not q.include_deleted):
            continue
        if last_modified and datetime.fromisoformat(row["updated"]) < last_modified:
            continue
        if _in_window(row, q):
            chosen.append((row, profile))
    chosen.sort(key=lambda pair: (stored_to_instant(pair[0]["start"], q.tzid), pair[0]["id"]))
    return chosen


def _time_value(text: str, q: EventQuery, row_tzid: str | None) -> Any:
    """A stored Time/Date as Read Events shows it; localized_times → {"time", "tzid"}.

    Localized times carry the local offset of their zone, as Cronofy's fixtures do
    (`"2014-09-13T23:00:00+02:00"` for Europe/Paris). UTC zones get `Z`, as a Rails app
    formats a time in UTC ([INF]); Dates stay Dates.
    """
    if not q.localized_times:
        return text
    tzid = row_tzid or q.tzid
    if "T" not in text:
        return {"time": text, "tzid": tzid}
    local = parse_time(text).astimezone(zone(tzid))
    if tzid in UTC_ZONES:
        return {"time": format_time(local), "tzid": tzid}
    return {"time": local.isoformat(timespec="seconds"), "tzid": tzid}


def event_json(
    row: sqlite3.Row, profile: sqlite3.Row, q: EventQuery, *, unrestricted: bool = False
) -> dict[str, Any]:
    """One event as Read Events returns it (`unrestricted`: the calendar's permission, §2.7)."""
    editable = bool(row["managed"]) or unrestricted
    owner = profile["profile_name"]
    body: dict[str, Any] = {
        "calendar_id": row["calendar_id"],
        "event_uid": row["event_uid"],
        "summary": row["summary"],
        "description": row["description"],
        "start": _time_value(row["start"], q, row["tzid"]),
        "end": _time_value(row["end"], q, row["end_tzid"] or row["tzid"]),
        "deleted": bool(row["deleted"]),
        "created": format_time(datetime.fromisoformat(row["created"])),
        "updated": format_time(datetime.fromisoformat(row["updated"])),
        "participation_status": "accepted",
        "attendees": json.loads(row["attendees"]),
        "organizer": {"email": owner, "display_name": owner},
        "transparency": row["transparency"],
        "status": row["status"],
        "categories": [],
        "recurring": False,
        "event_private": False,
        "options": {
            "delete": editable,
            "update": editable,
            "change_participation_status": False,
        },
    }
    if row["location"] and json.loads(row["location"]):
        body["location"] = json.loads(row["location"])
    if row["managed"]:
        body["event_id"] = row["event_id"]
    return body


def free_busy_json(row: sqlite3.Row, q: EventQuery) -> dict[str, Any] | None:
    """One free/busy block, or None for cancelled events."""
    if row["status"] == "cancelled":
        return None
    status = (
        "free"
        if row["transparency"] == "transparent"
        else ("tentative" if row["status"] == "tentative" else "busy")
    )
    return {
        "calendar_id": row["calendar_id"],
        "start": _time_value(row["start"], q, row["tzid"]),
        "end": _time_value(row["end"], q, row["end_tzid"] or row["tzid"]),
        "free_busy_status": status,
    }

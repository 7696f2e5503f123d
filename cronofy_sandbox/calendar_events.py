"""Events in sandbox calendars: external ones (the person's own) and managed ones (the app's)."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from typing import Any

from cronofy_sandbox.ids import random_chars
from cronofy_sandbox.store import Store
from cronofy_sandbox.timefmt import EventTime, format_time, now


def _stamp() -> str:
    # Full precision so `last_modified` (seconds) compares correctly with a same-second change.
    return now().isoformat()


def add_external(
    store: Store,
    calendar_id: str,
    *,
    summary: str,
    start: datetime,
    end: datetime,
    description: str = "",
    transparency: str = "opaque",
    status: str = "confirmed",
) -> str:
    """Add an event the person made in their own calendar; return its event_uid."""
    uid = f"evt_external_{random_chars(20)}"
    stamp = _stamp()
    store.execute(
        "INSERT INTO events (calendar_id, event_uid, managed, summary, description, start, end,"
        " transparency, status, created, updated) VALUES (?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            calendar_id,
            uid,
            summary,
            description,
            format_time(start),
            format_time(end),
            transparency,
            status,
            stamp,
            stamp,
        ),
    )
    return uid


def by_uid(store: Store, event_uid: str) -> sqlite3.Row | None:
    """One event by its event_uid."""
    return store.one("SELECT * FROM events WHERE event_uid = ?", (event_uid,))


def move(store: Store, event_uid: str, start: datetime, end: datetime) -> None:
    """Move an event, remembering where it was (for include_moved)."""
    with store.transaction() as conn:
        row = conn.execute("SELECT * FROM events WHERE event_uid = ?", (event_uid,)).fetchone()
        spans = json.loads(row["previous_spans"]) + [[row["start"], row["end"]]]
        conn.execute(
            "UPDATE events SET start = ?, end = ?, all_day = 0, previous_spans = ?, updated = ?"
            " WHERE event_uid = ?",
            (format_time(start), format_time(end), json.dumps(spans), _stamp(), event_uid),
        )


def mark_deleted(store: Store, event_uid: str) -> None:
    """Delete an event; it stays readable with include_deleted."""
    store.execute(
        "UPDATE events SET deleted = 1, updated = ? WHERE event_uid = ?", (_stamp(), event_uid)
    )


def managed(store: Store, calendar_id: str, event_id: str) -> sqlite3.Row | None:
    """The managed event (calendar_id, event_id), deleted or not."""
    return store.one(
        "SELECT * FROM events WHERE calendar_id = ? AND event_id = ?", (calendar_id, event_id)
    )


def upsert_managed(
    store: Store,
    calendar_id: str,
    fields: dict[str, Any],
    start: EventTime,
    end: EventTime,
    delivery: str,
) -> tuple[str, bool]:
    """Create or update the app's event; return (event_uid, created)."""
    existing = managed(store, calendar_id, fields["event_id"])
    stamp = _stamp()
    values = (
        fields["summary"],
        fields.get("description") or "",
        start.stored(),
        end.stored(),
        int(start.all_day),
        start.tzid or fields.get("tzid"),
        end.tzid or fields.get("tzid"),
        json.dumps(fields.get("location")),
        fields.get("transparency", "opaque"),
        json.dumps(fields.get("attendees", [])),
        delivery,
    )
    if existing is None:
        uid = f"evt_managed_{random_chars(20)}"
        store.execute(
            "INSERT INTO events (calendar_id, event_uid, event_id, managed, summary, description,"
            " start, end, all_day, tzid, end_tzid, location, transparency, attendees, delivery,"
            " created, updated) VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (calendar_id, uid, fields["event_id"], *values, stamp, stamp),
        )
        return uid, True
    spans = json.loads(existing["previous_spans"])
    if (existing["start"], existing["end"]) != (start.stored(), end.stored()):
        spans.append([existing["start"], existing["end"]])
    store.execute(
        "UPDATE events SET summary = ?, description = ?, start = ?, end = ?, all_day = ?, tzid = ?,"
        " end_tzid = ?, location = ?, transparency = ?, attendees = ?, delivery = ?, deleted = 0,"
        " previous_spans = ?, updated = ? WHERE event_uid = ?",
        (*values, json.dumps(spans), stamp, existing["event_uid"]),
    )
    return str(existing["event_uid"]), existing["deleted"] == 1


def update_external(
    store: Store, event: sqlite3.Row, fields: dict[str, Any], start: EventTime, end: EventTime
) -> None:
    """Apply an app's edit to one of the person's own events (kept external, not managed)."""
    spans = json.loads(event["previous_spans"])
    if (event["start"], event["end"]) != (start.stored(), end.stored()):
        spans.append([event["start"], event["end"]])
    store.execute(
        "UPDATE events SET summary = ?, description = ?, start = ?, end = ?, all_day = ?,"
        " tzid = ?, end_tzid = ?, location = ?, transparency = ?,"
        " previous_spans = ?, updated = ? WHERE event_uid = ?",
        (
            fields["summary"],
            fields.get("description") or "",
            start.stored(),
            end.stored(),
            int(start.all_day),
            start.tzid or fields.get("tzid"),
            end.tzid or fields.get("tzid"),
            json.dumps(fields.get("location")),
            fields.get("transparency", "opaque"),
            json.dumps(spans),
            _stamp(),
            event["event_uid"],
        ),
    )


def delete_managed_in(store: Store, calendar_ids: list[str]) -> int:
    """Mark every live managed event in these calendars deleted; return how many."""
    if not calendar_ids:
        return 0
    marks = ",".join("?" * len(calendar_ids))
    with store.transaction() as conn:
        cur = conn.execute(
            f"UPDATE events SET deleted = 1, updated = ? WHERE managed = 1 AND deleted = 0"  # noqa: S608
            f" AND calendar_id IN ({marks})",
            (_stamp(), *calendar_ids),
        )
        return cur.rowcount


def in_calendars(store: Store, calendar_ids: list[str]) -> list[sqlite3.Row]:
    """Every event (any state) in these calendars, oldest start first."""
    if not calendar_ids:
        return []
    marks = ",".join("?" * len(calendar_ids))
    return store.query(
        f"SELECT * FROM events WHERE calendar_id IN ({marks}) ORDER BY start, id",  # noqa: S608
        calendar_ids,
    )

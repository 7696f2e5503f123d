"""Upsert and delete of managed events (§5.2–5.4), honouring the profile's access mode.

Every write that changes something notifies the account's push channels (push.py).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from cronofy_sandbox import calendar_events, invites, push
from cronofy_sandbox.errors import ApiError, FieldErrors, forbidden, invalid
from cronofy_sandbox.state import Sandbox
from cronofy_sandbox.timefmt import (
    EventTime,
    TimeFormatError,
    now,
    parse_event_time,
    stored_to_instant,
    zone,
)


def _text(
    body: dict[str, Any], name: str, limit: int, errors: FieldErrors, *, required: bool
) -> None:
    value = body.get(name)
    if value is None:
        if required:
            errors.add(name, "required", f"{name} must be specified")
        return
    if not isinstance(value, str):
        errors.add(name, "invalid", f"{name} must be a string")
    elif len(value) > limit:
        errors.add(name, "too_long", f"{name} must be at most {limit} characters")
    elif required and not value.strip():
        errors.add(name, "required", f"{name} must be specified")


def _time(body: dict[str, Any], name: str, errors: FieldErrors) -> EventTime | None:
    if body.get(name) is None:
        errors.add(name, "required", f"{name} must be specified")
        return None
    try:
        return parse_event_time(body[name])
    except TimeFormatError:
        errors.add(name, "invalid", f"{name} must be a Time, a Date or a time object")
        return None


def _check_location(body: dict[str, Any], errors: FieldErrors) -> None:
    location = body.get("location")
    if location is None:
        return
    # An object with string fields (§5.2: lat/long are strings too); a bare string is refused.
    if not isinstance(location, dict) or not all(
        isinstance(location.get(key, ""), str) for key in ("description", "lat", "long")
    ):
        errors.add(
            "location", "invalid", 'location must be an object like {"description": "Room 2"}'
        )


def _check_attendees(body: dict[str, Any], errors: FieldErrors) -> None:
    attendees = body.get("attendees")
    if attendees is None:
        return
    if not isinstance(attendees, dict):
        errors.add("attendees", "invalid", 'attendees must be an object like {"invite": [...]}')
        return
    for key in ("invite", "remove"):
        people = attendees.get(key, [])
        if not isinstance(people, list) or not all(_is_attendee(a) for a in people):
            errors.add(
                f"attendees.{key}",
                "invalid",
                f'attendees.{key} must be a list of objects like {{"email": "kim@example.org"}}',
            )


def _is_attendee(value: object) -> bool:
    if not isinstance(value, dict):
        return False
    email, name = value.get("email"), value.get("display_name", "")
    return isinstance(email, str) and "@" in email and isinstance(name, str | None)


def validate_upsert(body: dict[str, Any], key: str = "event_id") -> tuple[EventTime, EventTime]:
    """Check an upsert body (identified by `key`); raise 422 listing every bad field."""
    errors = FieldErrors()
    if body.get(key) is None:
        errors.add(key, "required", f"{key} must be specified")
    elif not isinstance(body[key], str) or not body[key]:
        errors.add(key, "invalid", f"{key} must be a non-empty string")
    _text(body, "summary", 1024, errors, required=True)
    _text(body, "description", 4096, errors, required=False)
    start, end = _time(body, "start", errors), _time(body, "end", errors)
    if body.get("tzid") is not None:
        try:
            zone(body["tzid"])
        except TimeFormatError:
            errors.add("tzid", "invalid", "tzid must be a known IANA time zone")
    if body.get("transparency", "opaque") not in ("opaque", "transparent"):
        errors.add("transparency", "invalid", "transparency must be opaque or transparent")
    _check_location(body, errors)
    _check_attendees(body, errors)
    if start and end:
        if start.all_day != end.all_day:
            errors.add("end", "invalid", "start and end must both be dates or both be times")
        elif stored_to_instant(end.stored()) <= stored_to_instant(start.stored()):
            errors.add("end", "invalid", "end must be after start")
    errors.raise_if_any()
    if start is None or end is None:
        raise AssertionError("validated above")
    return start, end


def _attendees(body: dict[str, Any]) -> list[dict[str, str]]:
    """The invited attendees of a validated body, minus any it asks to remove."""
    attendees = body.get("attendees") or {}
    removed = {a["email"].lower() for a in attendees.get("remove", [])}
    return [
        {
            "email": a["email"],
            "display_name": a.get("display_name") or a["email"],
            "status": "needs_action",
        }
        for a in attendees.get("invite", [])
        if a["email"].lower() not in removed
    ]


def check_writable(profile: sqlite3.Row, cal: sqlite3.Row) -> None:
    """Refuse writes to read-only/deleted calendars (422) and disconnected profiles (423).

    The reference only says "only write to calendars with calendar_readonly=false"; the
    status Cronofy returns is not documented, so the sandbox reports it as a 422 on the
    calendar_id ([INF]).
    """
    if cal["readonly"] or cal["deleted"]:
        raise invalid("calendar_id", "calendar_readonly", "The calendar is read-only")
    if not profile["connected"]:
        raise ApiError(423)


def upsert(sandbox: Sandbox, profile: sqlite3.Row, cal: sqlite3.Row, body: dict[str, Any]) -> None:
    """Create or update the app's event and notify; free/busy and no-calendar modes mail it."""
    if "event_uid" in body and "event_id" not in body:
        update_external(sandbox, profile, cal, body)
        return
    start, end = validate_upsert(body)
    check_writable(profile, cal)
    store = sandbox.store
    mode = profile["access_mode"]
    fields: dict[str, Any] = {**body, "attendees": _attendees(body)}
    delivery = "calendar" if mode == "read_write" else "invite"
    changed_at = now()
    uid, _ = calendar_events.upsert_managed(store, cal["calendar_id"], fields, start, end, delivery)
    if delivery == "invite":
        event = store.one_or_fail("SELECT * FROM events WHERE event_uid = ?", (uid,))
        invites.mail_event(store, event, profile["profile_name"], cancel=False)
    push.notify_change(sandbox, [cal["calendar_id"]], changed_at, managed=True)


def delete(sandbox: Sandbox, profile: sqlite3.Row, cal: sqlite3.Row, body: dict[str, Any]) -> None:
    """Delete the app's event by event_id and notify (unknown ids: accepted silently, 202)."""
    if body.get("event_uid") and not body.get("event_id"):
        delete_external(sandbox, profile, cal, body)
        return
    if not isinstance(body.get("event_id"), str) or not body["event_id"]:
        raise invalid("event_id", "required", "event_id must be specified")
    check_writable(profile, cal)
    store = sandbox.store
    event = calendar_events.managed(store, cal["calendar_id"], body["event_id"])
    if event is None or event["deleted"]:
        return
    changed_at = now()
    calendar_events.mark_deleted(store, event["event_uid"])
    if event["delivery"] == "invite":
        invites.mail_event(store, event, profile["profile_name"], cancel=True)
    push.notify_change(sandbox, [cal["calendar_id"]], changed_at, managed=True)


def delete_all(sandbox: Sandbox, calendar_ids: list[str]) -> None:
    """Bulk delete the app's events in these calendars; one notification per channel."""
    changed_at = now()
    touched = [
        calendar_id
        for calendar_id in calendar_ids
        if calendar_events.delete_managed_in(sandbox.store, [calendar_id])
    ]
    push.notify_change(sandbox, touched, changed_at, managed=True)


def _external_event(
    sandbox: Sandbox, profile: sqlite3.Row, cal: sqlite3.Row, event_uid: object
) -> sqlite3.Row:
    """The person's own live event, once the app holds unrestricted permission (§2.7)."""
    if cal["permission_level"] != "unrestricted":
        # Cronofy's events then carry options.update/delete = false ([INF]: status code).
        raise forbidden("unrestricted")
    check_writable(profile, cal)
    event = calendar_events.by_uid(sandbox.store, str(event_uid))
    if event is None or event["managed"] or event["calendar_id"] != cal["calendar_id"]:
        raise invalid("event_uid", "not_found", "event_uid is not an event of this calendar")
    return event


def update_external(
    sandbox: Sandbox, profile: sqlite3.Row, cal: sqlite3.Row, body: dict[str, Any]
) -> None:
    """Edit one of the person's own events (needs unrestricted permission) and notify."""
    start, end = validate_upsert(body, key="event_uid")
    event = _external_event(sandbox, profile, cal, body["event_uid"])
    if event["deleted"]:
        raise invalid("event_uid", "not_found", "the event has been deleted")
    changed_at = now()
    calendar_events.update_external(sandbox.store, event, body, start, end)
    push.notify_change(sandbox, [cal["calendar_id"]], changed_at, managed=False)


def delete_external(
    sandbox: Sandbox, profile: sqlite3.Row, cal: sqlite3.Row, body: dict[str, Any]
) -> None:
    """Delete one of the person's own events (needs unrestricted permission) and notify."""
    event = _external_event(sandbox, profile, cal, body["event_uid"])
    if event["deleted"]:
        return
    changed_at = now()
    calendar_events.mark_deleted(sandbox.store, event["event_uid"])
    push.notify_change(sandbox, [cal["calendar_id"]], changed_at, managed=False)

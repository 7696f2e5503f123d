"""Changes a person makes in their own calendar (sandbox UI, control API): they notify.

A person may also move or delete an event an app wrote into their calendar (Google and
Outlook let them); the app learns of it like any change, and reading events shows the
managed event with its new times, or deleted. [INF] The reference does not say what
Cronofy reports for such an edit beyond the change notification; this sandbox keeps the
event's ``event_id`` and marks a deletion as ``deleted``.
"""

from __future__ import annotations

from datetime import datetime

from cronofy_sandbox import calendar_events, push
from cronofy_sandbox.state import Sandbox
from cronofy_sandbox.timefmt import now


class UnknownEvent(LookupError):
    """No event with that uid in a person's calendar."""


class UnknownCalendar(LookupError):
    """No calendar with that id."""


def add(
    sandbox: Sandbox,
    calendar_id: str,
    *,
    summary: str,
    start: datetime,
    end: datetime,
    description: str = "",
    transparency: str = "opaque",
    status: str = "confirmed",
    notify: bool = True,
) -> str:
    """Add an external event and notify; return its event_uid."""
    if sandbox.store.one("SELECT 1 FROM calendars WHERE calendar_id = ?", (calendar_id,)) is None:
        raise UnknownCalendar(calendar_id)
    changed_at = now()
    uid = calendar_events.add_external(
        sandbox.store,
        calendar_id,
        summary=summary,
        start=start,
        end=end,
        description=description,
        transparency=transparency,
        status=status,
    )
    if notify:
        push.notify_change(sandbox, [calendar_id], changed_at, managed=False)
    return uid


def _editable(sandbox: Sandbox, event_uid: str) -> tuple[str, bool]:
    """The event's calendar and whether an app manages it."""
    row = calendar_events.by_uid(sandbox.store, event_uid)
    if row is None or row["deleted"]:
        raise UnknownEvent(event_uid)
    return str(row["calendar_id"]), bool(row["managed"])


def move(sandbox: Sandbox, event_uid: str, start: datetime, end: datetime) -> None:
    """Move an event as the person would in their calendar, and notify."""
    calendar_id, managed = _editable(sandbox, event_uid)
    changed_at = now()
    calendar_events.move(sandbox.store, event_uid, start, end)
    push.notify_change(sandbox, [calendar_id], changed_at, managed=managed)


def delete(sandbox: Sandbox, event_uid: str) -> None:
    """Delete an event as the person would in their calendar, and notify."""
    calendar_id, managed = _editable(sandbox, event_uid)
    changed_at = now()
    calendar_events.mark_deleted(sandbox.store, event_uid)
    push.notify_change(sandbox, [calendar_id], changed_at, managed=managed)

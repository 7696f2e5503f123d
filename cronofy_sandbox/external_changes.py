"""Changes a person makes in their own calendar (sandbox UI, control API): they notify."""

from __future__ import annotations

from datetime import datetime

from cronofy_sandbox import calendar_events, push
from cronofy_sandbox.state import Sandbox
from cronofy_sandbox.timefmt import now


class UnknownEvent(LookupError):
    """No external event with that uid (managed events are the app's to change)."""


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


def _external(sandbox: Sandbox, event_uid: str) -> str:
    row = calendar_events.by_uid(sandbox.store, event_uid)
    if row is None or row["managed"] or row["deleted"]:
        raise UnknownEvent(event_uid)
    return str(row["calendar_id"])


def move(sandbox: Sandbox, event_uid: str, start: datetime, end: datetime) -> None:
    """Move an external event and notify."""
    calendar_id = _external(sandbox, event_uid)
    changed_at = now()
    calendar_events.move(sandbox.store, event_uid, start, end)
    push.notify_change(sandbox, [calendar_id], changed_at, managed=False)


def delete(sandbox: Sandbox, event_uid: str) -> None:
    """Delete an external event and notify."""
    calendar_id = _external(sandbox, event_uid)
    changed_at = now()
    calendar_events.mark_deleted(sandbox.store, event_uid)
    push.notify_change(sandbox, [calendar_id], changed_at, managed=False)

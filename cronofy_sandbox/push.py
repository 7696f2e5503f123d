"""Push notifications (§8.2): verification, change and profile_disconnected."""

from __future__ import annotations

import json
import logging
import sqlite3
from datetime import datetime
from typing import Any

from cronofy_sandbox.delivery import Callback
from cronofy_sandbox.state import Sandbox
from cronofy_sandbox.timefmt import format_time

log = logging.getLogger(__name__)


def channel_json(row: sqlite3.Row) -> dict[str, Any]:
    """A channel as the API and its notifications show it (§8.1, §8.2).

    `calendar_ids` appears only when the channel filters on calendars; `only_managed` always
    appears, false included, as in the documented notification example.
    """
    filters: dict[str, Any] = {}
    calendar_ids = json.loads(row["calendar_ids"])
    if calendar_ids:
        filters["calendar_ids"] = calendar_ids
    filters["only_managed"] = bool(row["only_managed"])
    return {
        "channel_id": row["channel_id"],
        "callback_url": row["callback_url"],
        "filters": filters,
    }


def _send(sandbox: Sandbox, channel: sqlite3.Row, notification: dict[str, Any]) -> None:
    payload = {"notification": notification, "channel": channel_json(channel)}
    sandbox.deliverer.send(
        Callback(notification["type"], channel["callback_url"], payload, channel["channel_id"])
    )


def send_verification(sandbox: Sandbox, channel: sqlite3.Row) -> None:
    """The notification sent right after a channel is created."""
    _send(sandbox, channel, {"type": "verification"})


def _open_channels(sandbox: Sandbox, sub: str) -> list[sqlite3.Row]:
    return sandbox.store.query(
        "SELECT * FROM channels WHERE sub = ? AND closed = 0 ORDER BY channel_id", (sub,)
    )


def notify_change(
    sandbox: Sandbox, calendar_id: str, changed_at: datetime, *, managed: bool
) -> int:
    """Tell every matching channel of the calendar's account that something changed."""
    owner = sandbox.store.one(
        "SELECT p.sub FROM calendars c JOIN profiles p USING (profile_id) WHERE c.calendar_id = ?",
        (calendar_id,),
    )
    if owner is None:
        return 0
    sent = 0
    # Floor to whole seconds: reading with last_modified=changes_since must include the change.
    since = format_time(changed_at.replace(microsecond=0))
    for channel in _open_channels(sandbox, owner["sub"]):
        wanted = json.loads(channel["calendar_ids"])
        if wanted and calendar_id not in wanted:
            continue
        if channel["only_managed"] and not managed:
            continue
        _send(sandbox, channel, {"type": "change", "changes_since": since})
        sent += 1
    log.info("change on %s notified %d channel(s)", calendar_id, sent)
    return sent


def notify_profile_disconnected(sandbox: Sandbox, sub: str) -> int:
    """Send profile_disconnected to every open channel of the account."""
    channels = _open_channels(sandbox, sub)
    for channel in channels:
        _send(sandbox, channel, {"type": "profile_disconnected"})
    return len(channels)

"""Push notifications (§8.2): verification, change and profile_disconnected.

Changes notify whoever made them: the person in their calendar (sandbox UI, control API) or
the app through the API. Cronofy's push guide says so ("whether they are the events your app
creates or the user created in their calendar"), and `only_managed` channels exist to hear
about exactly the app's own events. (The reference's §5.7 reads the opposite from the
delete-external-event page; the sandbox follows the push-notification docs.)
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Collection
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


def _send(
    sandbox: Sandbox, channel: sqlite3.Row, notification: dict[str, Any], *, batch: bool = False
) -> None:
    payload = {"notification": notification, "channel": channel_json(channel)}
    channel_id = channel["channel_id"]
    sandbox.deliverer.send(
        Callback(
            notification["type"],
            channel["callback_url"],
            payload,
            channel_id,
            # Like a provider sync, changes close together reach a channel as one notification.
            batch_key=f"change:{channel_id}" if batch else None,
        )
    )


def send_verification(sandbox: Sandbox, channel: sqlite3.Row) -> None:
    """The notification sent right after a channel is created."""
    _send(sandbox, channel, {"type": "verification"})


def _open_channels(sandbox: Sandbox, sub: str) -> list[sqlite3.Row]:
    return sandbox.store.query(
        "SELECT * FROM channels WHERE sub = ? AND closed = 0 ORDER BY channel_id", (sub,)
    )


def notify_change(
    sandbox: Sandbox, calendar_ids: Collection[str], changed_at: datetime, *, managed: bool
) -> int:
    """Tell each matching channel of the calendars' account, once, that something changed.

    `managed` says whose events changed: the app's own reach `only_managed` channels too.
    """
    if not calendar_ids:
        return 0
    marks = ",".join("?" * len(calendar_ids))
    owners = sandbox.store.query(
        f"SELECT DISTINCT p.sub FROM calendars c JOIN profiles p USING (profile_id) WHERE c.calendar_id IN ({marks})",  # noqa: E501, S608 - placeholders only
        list(calendar_ids),
    )
    sent = 0
    # Floor to whole seconds: reading with last_modified=changes_since must include the change.
    since = format_time(changed_at.replace(microsecond=0))
    for owner in owners:
        for channel in _open_channels(sandbox, owner["sub"]):
            wanted = json.loads(channel["calendar_ids"])
            if wanted and not set(wanted) & set(calendar_ids):
                continue
            if channel["only_managed"] and not managed:
                continue
            _send(sandbox, channel, {"type": "change", "changes_since": since}, batch=True)
            sent += 1
    log.info("change on %d calendar(s) notified %d channel(s)", len(calendar_ids), sent)
    return sent


def notify_profile_disconnected(sandbox: Sandbox, sub: str) -> int:
    """Send profile_disconnected to every open channel of the account."""
    channels = _open_channels(sandbox, sub)
    for channel in channels:
        _send(sandbox, channel, {"type": "profile_disconnected"})
    return len(channels)

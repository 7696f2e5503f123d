"""Parsing of the callbacks Cronofy POSTs: push notifications, Enterprise Connect, Smart Invites.

Verify the HMAC (``WebhookVerifier``) on the raw bytes before calling ``parse_callback``.
Unknown notification types parse into ``UnknownNotification``; only bodies that are not a
JSON object, or known types missing their required fields, raise ``MalformedCallback``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from cronofy_client.wire import optional_time, parse_date_or_time, tuple_of_str

# Push-notification types Cronofy documents (more may be added; others parse as unknown).
PUSH_TYPES = frozenset(
    {
        "verification",
        "change",
        "profile_disconnected",
        "profile_initial_sync_completed",
        "gdpr_requested",
        "conferencing_profile_disconnected",
    }
)


class MalformedCallback(ValueError):
    """The callback body is not JSON, not an object, or lacks fields its type requires."""


@dataclass(frozen=True, slots=True)
class PushNotification:
    """A push notification on a channel (``changes_since`` is set for ``change``)."""

    type: str
    changes_since: datetime | None
    channel_id: str
    callback_url: str
    calendar_ids: tuple[str, ...] = ()
    only_managed: bool = False


@dataclass(frozen=True, slots=True)
class EnterpriseConnectCallback:
    """Outcome of a service-account authorization: a ``code`` to exchange, or an error."""

    code: str | None = field(repr=False)
    error: str | None
    error_key: str | None
    error_description: str | None
    state: str | None

    @property
    def succeeded(self) -> bool:
        """True when Cronofy sent a code."""
        return self.code is not None and self.error is None


@dataclass(frozen=True, slots=True)
class SmartInviteCallback:
    """A Smart Invite recipient replied (``proposal_*`` set when they proposed a new time)."""

    smart_invite_id: str
    callback_url: str | None
    recipient_email: str
    status: str | None
    comment: str | None
    proposal_start: datetime | date | None = None
    proposal_end: datetime | date | None = None


@dataclass(frozen=True, slots=True)
class UnknownNotification:
    """A callback of a type this client does not know; acknowledge it and move on."""

    type: str | None
    channel_id: str | None = None
    payload: dict[str, Any] = field(default_factory=dict, repr=False, compare=False, hash=False)


Callback = PushNotification | EnterpriseConnectCallback | SmartInviteCallback | UnknownNotification


def parse_callback(raw_body: bytes) -> Callback:
    """Parse a verified callback body into a typed value (never fails on unknown types)."""
    try:
        data = json.loads(raw_body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise MalformedCallback("callback body is not valid JSON") from exc
    if not isinstance(data, dict):
        raise MalformedCallback("callback body is not a JSON object")
    try:
        return _dispatch(data)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise MalformedCallback("callback body lacks required fields") from exc


def _dispatch(data: dict[str, Any]) -> Callback:
    if isinstance(data.get("authorization"), Mapping):
        return _enterprise_connect(data["authorization"])
    notification = data.get("notification")
    kind = notification.get("type") if isinstance(notification, Mapping) else None
    channel = data.get("channel")
    if kind == "smart_invite" and isinstance(data.get("smart_invite"), Mapping):
        return _smart_invite(data["smart_invite"])
    if kind in PUSH_TYPES and isinstance(notification, Mapping):
        return _push(str(kind), notification, channel)
    channel_id = channel.get("channel_id") if isinstance(channel, Mapping) else None
    return UnknownNotification(
        type=str(kind) if kind is not None else None, channel_id=channel_id, payload=data
    )


def _push(kind: str, notification: Mapping[str, Any], channel: Any) -> PushNotification:
    filters = channel.get("filters") or {}
    return PushNotification(
        type=kind,
        changes_since=optional_time(notification.get("changes_since")),
        channel_id=str(channel["channel_id"]),
        callback_url=str(channel["callback_url"]),
        calendar_ids=tuple_of_str(filters.get("calendar_ids")),
        only_managed=bool(filters.get("only_managed", False)),
    )


def _enterprise_connect(auth: Mapping[str, Any]) -> EnterpriseConnectCallback:
    return EnterpriseConnectCallback(
        code=auth.get("code"),
        error=auth.get("error"),
        error_key=auth.get("error_key"),
        error_description=auth.get("error_description"),
        state=auth.get("state"),
    )


def _smart_invite(invite: Mapping[str, Any]) -> SmartInviteCallback:
    recipient = invite.get("recipient") or invite["reply"]
    proposal = recipient.get("proposal") or {}
    return SmartInviteCallback(
        smart_invite_id=str(invite["smart_invite_id"]),
        callback_url=invite.get("callback_url"),
        recipient_email=str(recipient["email"]),
        status=recipient.get("status"),
        comment=recipient.get("comment"),
        proposal_start=parse_date_or_time(proposal["start"]) if proposal.get("start") else None,
        proposal_end=parse_date_or_time(proposal["end"]) if proposal.get("end") else None,
    )

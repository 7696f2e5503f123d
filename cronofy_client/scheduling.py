"""Typed values for availability queries, Smart Invites and service-account authorizations."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any, Literal

from cronofy_client.wire import (
    JsonObject,
    format_date_or_time,
    format_time,
    minutes,
    parse_date_or_time,
    parse_time,
    require_aware,
)

ResponseFormat = Literal["periods", "slots", "overlapping_slots"]
PeriodsKey = Literal["query_periods", "available_periods"]
Required = int | Literal["all"]


@dataclass(frozen=True, slots=True)
class Period:
    """A half-open UTC time range ``[start, end)``."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", require_aware(self.start, "start"))
        object.__setattr__(self, "end", require_aware(self.end, "end"))
        if self.end <= self.start:
            raise ValueError("period end must be after start")

    def to_json(self) -> JsonObject:
        """Wire form ``{"start", "end"}``."""
        return {"start": format_time(self.start), "end": format_time(self.end)}


@dataclass(frozen=True, slots=True)
class AvailabilityMember:
    """One participant account (``sub``) in an availability query."""

    sub: str
    calendar_ids: tuple[str, ...] = ()
    managed_availability: bool = False
    availability_rule_ids: tuple[str, ...] = ()
    available_periods: tuple[Period, ...] = ()

    def within(self, span: Period) -> AvailabilityMember | None:
        """This member for one request covering ``span``: its own available periods clipped
        to the span (None when it has periods but none there, so it cannot be free)."""
        if not self.available_periods:
            return self
        clipped = tuple(
            Period(max(p.start, span.start), min(p.end, span.end))
            for p in self.available_periods
            if p.start < span.end and span.start < p.end
        )
        if not clipped:
            return None
        return replace(self, available_periods=clipped)

    def to_json(self) -> JsonObject:
        """Wire form of a member."""
        body: JsonObject = {"sub": self.sub}
        if self.calendar_ids:
            body["calendar_ids"] = list(self.calendar_ids)
        if self.managed_availability:
            body["managed_availability"] = True
        if self.availability_rule_ids:
            body["availability_rule_ids"] = list(self.availability_rule_ids)
        if self.available_periods:
            body["available_periods"] = [p.to_json() for p in self.available_periods]
        return body


@dataclass(frozen=True, slots=True)
class ParticipantGroup:
    """A group of members of which ``required`` ("all" or a count) must be free."""

    members: tuple[AvailabilityMember, ...]
    required: Required = "all"

    def within(self, span: Period) -> ParticipantGroup | None:
        """The group for one request covering ``span``; None when it cannot be satisfied."""
        members = tuple(m for m in (m.within(span) for m in self.members) if m is not None)
        needed = len(self.members) if self.required == "all" else self.required
        if len(members) < needed:
            return None
        required: Required = "all" if self.required == "all" else min(self.required, len(members))
        return ParticipantGroup(members, required)

    def to_json(self) -> JsonObject:
        """Wire form of a participant group."""
        return {"members": [m.to_json() for m in self.members], "required": self.required}


@dataclass(frozen=True, slots=True)
class AvailabilityQuery:
    """``POST /v1/availability`` request; give ``members`` (one group) or ``groups``."""

    required_duration: timedelta
    query_periods: tuple[Period, ...]
    members: tuple[AvailabilityMember, ...] = ()
    required: Required = "all"
    groups: tuple[ParticipantGroup, ...] = ()
    buffer_before: timedelta | None = None
    buffer_after: timedelta | None = None
    start_interval: timedelta | None = None
    response_format: ResponseFormat = "periods"
    max_results: int | None = None
    periods_key: PeriodsKey = "query_periods"  # "available_periods" is the legacy name

    def __post_init__(self) -> None:
        if bool(self.members) == bool(self.groups):
            raise ValueError("give exactly one of members or groups")
        if not self.query_periods:
            raise ValueError("at least one query period is required")
        if self.response_format not in ("periods", "slots", "overlapping_slots"):
            raise ValueError(f"unknown response_format {self.response_format!r}")
        if self.max_results is not None and self.max_results < 1:
            raise ValueError("max_results must be positive")
        minutes(self.required_duration)

    @property
    def participant_groups(self) -> tuple[ParticipantGroup, ...]:
        """Every participant group, whichever way they were given."""
        return self.groups or (ParticipantGroup(self.members, self.required),)

    def to_json(self, periods: tuple[Period, ...]) -> JsonObject | None:
        """Request body for the given (already split) query periods.

        Members' own ``available_periods`` are clipped to these periods' span (a long query
        is split into several requests, each within Cronofy's period limits); None when some
        group can have nobody free in that span, so the request need not be sent.
        """
        span = Period(min(p.start for p in periods), max(p.end for p in periods))
        groups = [g.within(span) for g in self.participant_groups]
        if any(g is None for g in groups):
            return None
        body: JsonObject = {
            "participants": [g.to_json() for g in groups if g is not None],
            "required_duration": minutes(self.required_duration),
            self.periods_key: [p.to_json() for p in periods],
            "response_format": self.response_format,
        }
        buffer = {
            edge: minutes(value)
            for edge, value in (("before", self.buffer_before), ("after", self.buffer_after))
            if value is not None
        }
        if buffer:
            body["buffer"] = buffer
        if self.start_interval is not None:
            body["start_interval"] = minutes(self.start_interval)
        if self.max_results is not None:
            body["max_results"] = self.max_results
        return body


@dataclass(frozen=True, slots=True)
class AvailableInterval:
    """An available period or slot and the subs that are free in it."""

    start: datetime
    end: datetime
    participants: tuple[str, ...]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AvailableInterval:
        """Build from an ``available_periods[]`` / ``available_slots[]`` item."""
        subs = sorted(str(p["sub"]) for p in data.get("participants") or ())
        return cls(parse_time(data["start"]), parse_time(data["end"]), tuple(subs))


@dataclass(frozen=True, slots=True)
class ServiceAccountAuthorizationRequest:
    """Ask Cronofy to authorize one user through an Enterprise Connect service account."""

    email: str
    callback_url: str
    scope: str
    state: str | None = None

    def to_json(self) -> JsonObject:
        """Wire form of one authorization."""
        body: JsonObject = {"email": self.email, "callback_url": self.callback_url}
        body["scope"] = self.scope
        if self.state is not None:
            body["state"] = self.state
        return body


@dataclass(frozen=True, slots=True)
class SmartInviteEvent:
    """The event a Smart Invite describes."""

    summary: str
    start: datetime | date
    end: datetime | date
    tzid: str = "Etc/UTC"
    description: str | None = None
    location: str | None = None
    url: str | None = None

    def to_json(self) -> JsonObject:
        """Wire form of the invite's ``event``."""
        body: JsonObject = {
            "summary": self.summary,
            "start": format_date_or_time(self.start, "start"),
            "end": format_date_or_time(self.end, "end"),
            "tzid": self.tzid,
        }
        if self.description:
            body["description"] = self.description
        if self.location:
            body["location"] = {"description": self.location}
        if self.url:
            body["url"] = self.url
        return body


@dataclass(frozen=True, slots=True)
class SmartInviteRecipient:
    """A Smart Invite recipient and their reply status."""

    email: str
    status: str | None = None
    comment: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SmartInviteRecipient:
        """Build from a ``recipient`` / ``reply`` object."""
        return cls(str(data["email"]), data.get("status"), data.get("comment"))


@dataclass(frozen=True, slots=True)
class SmartInvite:
    """A Smart Invite as Cronofy holds it; ``icalendar`` is the .ics your app must send."""

    smart_invite_id: str
    callback_url: str | None
    recipients: tuple[SmartInviteRecipient, ...]
    replies: tuple[SmartInviteRecipient, ...]
    icalendar: str | None
    event_start: datetime | date | None = None
    event_end: datetime | date | None = None

    @property
    def recipient_status(self) -> str | None:
        """Status of the first (usually only) recipient."""
        return self.recipients[0].status if self.recipients else None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SmartInvite:
        """Build from a Smart Invite response."""
        raw = data.get("recipients") or ([data["recipient"]] if data.get("recipient") else [])
        event = data.get("event") or {}
        attachments = data.get("attachments") or {}
        return cls(
            smart_invite_id=str(data["smart_invite_id"]),
            callback_url=data.get("callback_url"),
            recipients=tuple(SmartInviteRecipient.from_json(r) for r in raw),
            replies=tuple(SmartInviteRecipient.from_json(r) for r in data.get("replies") or ()),
            icalendar=attachments.get("icalendar"),
            event_start=parse_date_or_time(event["start"]) if event.get("start") else None,
            event_end=parse_date_or_time(event["end"]) if event.get("end") else None,
        )

"""Typed, frozen values for tokens, accounts, calendars, events, free/busy and channels."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, Literal

from cronofy_client.enums import AccessMode
from cronofy_client.wire import (
    JsonObject,
    format_date_or_time,
    optional_time,
    parse_date_or_time,
    require_aware,
    tuple_of_str,
)

Transparency = Literal["opaque", "transparent"]


@dataclass(frozen=True, slots=True)
class LinkingProfile:
    """The calendar profile an authorization was linked to (reveals the access mode)."""

    provider_name: str
    provider_service: str | None
    profile_id: str | None
    profile_name: str | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LinkingProfile:
        """Build from the ``linking_profile`` object."""
        return cls(
            provider_name=str(data["provider_name"]),
            provider_service=data.get("provider_service"),
            profile_id=data.get("profile_id"),
            profile_name=data.get("profile_name"),
        )


@dataclass(frozen=True, slots=True)
class TokenGrant:
    """The full token response of ``/oauth/token`` (tokens hidden from ``repr``)."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at: datetime
    scope: str
    sub: str | None = None
    account_id: str | None = None
    service_account_id: str | None = None
    linking_profile: LinkingProfile | None = None
    access_mode: AccessMode | None = None

    @classmethod
    def from_json(
        cls, data: Mapping[str, Any], *, now: datetime, refresh_token: str | None = None
    ) -> TokenGrant:
        """Build from a token response; ``refresh_token`` is kept if Cronofy omits it."""
        raw_profile = data.get("linking_profile")
        profile = (
            LinkingProfile.from_json(raw_profile) if isinstance(raw_profile, Mapping) else None
        )
        new_refresh = data.get("refresh_token") or refresh_token
        if not new_refresh:
            raise ValueError("token response without refresh_token")
        return cls(
            access_token=str(data["access_token"]),
            refresh_token=str(new_refresh),
            expires_at=require_aware(now, "now") + timedelta(seconds=int(data["expires_in"])),
            scope=str(data.get("scope", "")),
            sub=data.get("sub"),
            account_id=data.get("account_id"),
            service_account_id=data.get("service_account_id"),
            linking_profile=profile,
            access_mode=AccessMode.from_provider_name(profile.provider_name) if profile else None,
        )


@dataclass(frozen=True, slots=True)
class Calendar:
    """One calendar of a connected profile."""

    calendar_id: str
    name: str
    profile_id: str | None
    profile_name: str | None
    provider_name: str | None
    readonly: bool
    deleted: bool
    primary: bool
    permission_level: str | None

    @property
    def writable(self) -> bool:
        """True when events may be written to this calendar."""
        return not self.readonly and not self.deleted

    @classmethod
    def from_json(cls, data: Mapping[str, Any], profile: Profile | None = None) -> Calendar:
        """Build from a calendar object (userinfo ``profile_calendars`` or ``/v1/calendars``)."""
        return cls(
            calendar_id=str(data["calendar_id"]),
            name=str(data.get("calendar_name", "")),
            profile_id=data.get("profile_id") or (profile.profile_id if profile else None),
            profile_name=data.get("profile_name") or (profile.profile_name if profile else None),
            provider_name=data.get("provider_name") or (profile.provider_name if profile else None),
            readonly=bool(data.get("calendar_readonly", False)),
            deleted=bool(data.get("calendar_deleted", False)),
            primary=bool(data.get("calendar_primary", False)),
            permission_level=data.get("permission_level"),
        )


@dataclass(frozen=True, slots=True)
class Profile:
    """A calendar provider profile (a Google or Microsoft account, ...) of a Cronofy account."""

    provider_name: str
    provider_service: str | None
    profile_id: str
    profile_name: str
    connected: bool
    relink_url: str | None
    initial_sync_required: bool
    calendars: tuple[Calendar, ...] = ()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Profile:
        """Build from a userinfo or ``/v1/profiles`` profile object."""
        shell = cls(
            provider_name=str(data["provider_name"]),
            provider_service=data.get("provider_service"),
            profile_id=str(data["profile_id"]),
            profile_name=str(data.get("profile_name", "")),
            connected=bool(data.get("profile_connected", True)),
            relink_url=data.get("profile_relink_url"),
            initial_sync_required=bool(data.get("profile_initial_sync_required", False)),
        )
        calendars = tuple(Calendar.from_json(c, shell) for c in data.get("profile_calendars") or ())
        return replace(shell, calendars=calendars)


@dataclass(frozen=True, slots=True)
class UserInfo:
    """``GET /v1/userinfo``: who the token belongs to and its profiles and calendars."""

    sub: str
    email: str | None
    name: str | None
    type: str | None
    scope: str | None
    zoneinfo: str | None
    profiles: tuple[Profile, ...]
    # Service-account tokens only (``cronofy.type == "service_account"``).
    delegated_scope: str | None = None
    service_account_provider: str | None = None
    service_account_domain: str | None = None

    @property
    def access_mode(self) -> AccessMode | None:
        """The mode granted, read from the first profile's provider name (None without one)."""
        if not self.profiles:
            return None
        return AccessMode.from_provider_name(self.profiles[0].provider_name)

    @property
    def calendars(self) -> tuple[Calendar, ...]:
        """Every calendar across profiles."""
        return tuple(c for p in self.profiles for c in p.calendars)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> UserInfo:
        """Build from the userinfo document."""
        extra = data.get("cronofy.data") or {}
        authorization = extra.get("authorization") or {}
        service_account = extra.get("service_account") or {}
        return cls(
            sub=str(data["sub"]),
            email=data.get("email"),
            name=data.get("name"),
            type=data.get("cronofy.type"),
            scope=authorization.get("scope"),
            zoneinfo=data.get("zoneinfo"),
            profiles=tuple(Profile.from_json(p) for p in extra.get("profiles") or ()),
            delegated_scope=authorization.get("delegated_scope"),
            service_account_provider=service_account.get("provider_name"),
            service_account_domain=service_account.get("domain"),
        )


@dataclass(frozen=True, slots=True)
class Attendee:
    """An event attendee (``status`` is only set on events read back)."""

    email: str
    display_name: str | None = None
    status: str | None = None

    def to_json(self) -> JsonObject:
        """Wire form used in ``attendees.invite`` / ``attendees.remove``."""
        body: JsonObject = {"email": self.email}
        if self.display_name:
            body["display_name"] = self.display_name
        return body

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Attendee:
        """Build from an attendee object of a read event."""
        return cls(str(data["email"]), data.get("display_name"), data.get("status"))


@dataclass(frozen=True, slots=True)
class EventUpsert:
    """A managed event to create or update (same ``event_id`` updates)."""

    event_id: str
    summary: str
    start: datetime | date
    end: datetime | date
    tzid: str = "Etc/UTC"
    description: str | None = None
    location: str | None = None
    url: str | None = None
    invite: tuple[Attendee, ...] = ()
    remove: tuple[Attendee, ...] = ()
    reminders_minutes: tuple[int, ...] = ()
    transparency: Transparency | None = None
    conferencing_profile_id: str | None = None  # "default", "integrated" or a profile id
    event_private: bool | None = None
    color: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.start, datetime) != isinstance(self.end, datetime):
            raise ValueError("start and end must both be datetimes or both be dates")
        if isinstance(self.start, datetime) and isinstance(self.end, datetime):
            require_aware(self.start, "start")
            require_aware(self.end, "end")
        if self.end <= self.start:
            raise ValueError("end must be after start")
        if not self.event_id or not self.summary:
            raise ValueError("event_id and summary are required")

    def to_json(self) -> JsonObject:
        """Request body for ``POST /v1/calendars/{id}/events``."""
        body: JsonObject = {
            "event_id": self.event_id,
            "summary": self.summary,
            "start": self._edge(self.start, "start"),
            "end": self._edge(self.end, "end"),
            "tzid": self.tzid,
        }
        optional: JsonObject = {
            "description": self.description,
            "location": {"description": self.location} if self.location else None,
            "url": self.url,
            "reminders": [{"minutes": m} for m in self.reminders_minutes] or None,
            "transparency": self.transparency,
            "conferencing": (
                {"profile_id": self.conferencing_profile_id}
                if self.conferencing_profile_id
                else None
            ),
            "event_private": self.event_private,
            "color": self.color,
        }
        body.update({k: v for k, v in optional.items() if v is not None})
        attendees = {
            "invite": [a.to_json() for a in self.invite],
            "remove": [a.to_json() for a in self.remove],
        }
        if self.invite or self.remove:
            body["attendees"] = {k: v for k, v in attendees.items() if v}
        return body

    def _edge(self, value: datetime | date, name: str) -> str | JsonObject:
        if isinstance(value, datetime):
            return {"time": format_date_or_time(value, name), "tzid": self.tzid}
        return format_date_or_time(value, name)


@dataclass(frozen=True, slots=True)
class Event:
    """An event read from ``GET /v1/events`` (all-day events carry ``date`` start/end)."""

    calendar_id: str
    event_uid: str | None
    event_id: str | None
    summary: str
    description: str
    start: datetime | date
    end: datetime | date
    deleted: bool
    status: str | None
    transparency: str | None
    participation_status: str | None
    attendees: tuple[Attendee, ...]
    organizer_email: str | None
    location: str | None
    created: datetime | None
    updated: datetime | None
    recurring: bool

    @property
    def all_day(self) -> bool:
        """True when the event spans whole dates."""
        return not isinstance(self.start, datetime)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Event:
        """Build from an ``events[]`` item (reads ``status`` or the older ``event_status``)."""
        location = data.get("location") or {}
        organizer = data.get("organizer") or {}
        return cls(
            calendar_id=str(data["calendar_id"]),
            event_uid=data.get("event_uid"),
            event_id=data.get("event_id"),
            summary=str(data.get("summary") or ""),
            description=str(data.get("description") or ""),
            start=parse_date_or_time(data["start"]),
            end=parse_date_or_time(data["end"]),
            deleted=bool(data.get("deleted", False)),
            status=data.get("status") or data.get("event_status"),
            transparency=data.get("transparency"),
            participation_status=data.get("participation_status"),
            attendees=tuple(Attendee.from_json(a) for a in data.get("attendees") or ()),
            organizer_email=organizer.get("email"),
            location=location.get("description"),
            created=optional_time(data.get("created")),
            updated=optional_time(data.get("updated")),
            recurring=bool(data.get("recurring", False)),
        )


@dataclass(frozen=True, slots=True)
class FreeBusyPeriod:
    """One busy/free block from ``GET /v1/free_busy``."""

    calendar_id: str
    start: datetime | date
    end: datetime | date
    status: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FreeBusyPeriod:
        """Build from a ``free_busy[]`` item."""
        return cls(
            calendar_id=str(data["calendar_id"]),
            start=parse_date_or_time(data["start"]),
            end=parse_date_or_time(data["end"]),
            status=str(data.get("free_busy_status", "unknown")),
        )


@dataclass(frozen=True, slots=True)
class Channel:
    """A push-notification channel."""

    channel_id: str
    callback_url: str
    calendar_ids: tuple[str, ...] = ()
    only_managed: bool = False

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Channel:
        """Build from a ``channel`` object."""
        filters = data.get("filters") or {}
        return cls(
            channel_id=str(data["channel_id"]),
            callback_url=str(data["callback_url"]),
            calendar_ids=tuple_of_str(filters.get("calendar_ids")),
            only_managed=bool(filters.get("only_managed", False)),
        )

"""The calendars page: connection status, live calendar list, write and conflict calendars.

Calendar lists come live from Cronofy (never stored beyond the chosen ids); any Cronofy
trouble becomes a friendly message on the page instead of an error.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from cronofy_client import Calendar, CronofyClient, CronofyError, Profile, UserInfo
from webapp.extensions import db
from webapp.models import AccessMode, CalendarConnection, ConnectionStatus, User
from webapp.services import audit
from webapp.services.availability.cache import AvailabilityCache
from webapp.services.connection_errors import (
    CalendarUnavailable,
    InvalidChoice,
    NoConflictCalendars,
    NotConnected,
    ReconnectRequired,
)
from webapp.services.connection_health import StatusReason
from webapp.services.tokens import call_with_token

log = logging.getLogger(__name__)

NO_CALENDAR_PROVIDER = "cronofy"
UNAVAILABLE = (
    "Cronofy could not be reached just now, so your calendars cannot be listed. "
    "Your settings are kept; reload the page in a minute."
)


@dataclass(frozen=True, slots=True)
class CalendarRow:
    """One calendar as the page shows it."""

    calendar_id: str
    name: str
    profile_name: str | None
    provider_name: str | None
    writable: bool
    primary: bool
    is_write_calendar: bool
    counts_for_conflicts: bool


@dataclass(frozen=True, slots=True)
class ProfileRow:
    """One connected calendar account and whether Cronofy can still reach it."""

    profile_name: str
    provider_name: str
    connected: bool
    relink_url: str | None


@dataclass(frozen=True, slots=True)
class CalendarsPage:
    """Everything the calendars page shows."""

    connection: CalendarConnection | None
    calendars: tuple[CalendarRow, ...] = ()
    profiles: tuple[ProfileRow, ...] = ()
    problem: str | None = None

    @property
    def relink_url(self) -> str | None:
        """Where to relink a disconnected profile, when Cronofy gave one."""
        return next((p.relink_url for p in self.profiles if not p.connected and p.relink_url), None)


def of_connection(
    calendars: Sequence[Calendar], *, profile_id: str | None, access_mode: AccessMode
) -> list[Calendar]:
    """The calendars this connection has: its own profile's (no calendar: the Cronofy one).

    A Cronofy account may hold other profiles (an earlier connection, linked accounts); they
    are not this connection's and are never listed, written to or checked for conflicts.
    """
    live = [c for c in calendars if not c.deleted]
    if access_mode is AccessMode.NO_CALENDAR:
        live = [c for c in live if c.provider_name == NO_CALENDAR_PROVIDER]
    if profile_id:
        live = [c for c in live if c.profile_id == profile_id]
    return live


def own_connection(user: User) -> CalendarConnection | None:
    """The user's own connection (never anyone else's)."""
    return db.session.scalar(
        sa.select(CalendarConnection).where(CalendarConnection.user_id == user.id)
    )


def calendars_page(cronofy: CronofyClient, *, user: User) -> CalendarsPage:
    """Status plus the live calendar list of the user's connection."""
    connection = own_connection(user)
    if connection is None:
        return CalendarsPage(connection=None)
    if connection.status is ConnectionStatus.REVOKED:
        return CalendarsPage(connection=connection)
    try:
        info = call_with_token(cronofy, connection.id, cronofy.userinfo)
    except ReconnectRequired as exc:
        db.session.refresh(connection)
        return CalendarsPage(connection=connection, problem=str(exc))
    except (CronofyError, CalendarUnavailable) as exc:
        log.warning(
            "calendars page: Cronofy %s for connection id=%s", type(exc).__name__, connection.id
        )
        return CalendarsPage(connection=connection, problem=UNAVAILABLE)
    wanted = connection.profile_id
    own = [p for p in info.profiles if not wanted or p.profile_id == wanted]
    _note_relinked(connection, own)
    return CalendarsPage(
        connection=connection,
        calendars=tuple(_rows(connection, info)),
        profiles=tuple(_profile_row(p) for p in own),
    )


def _rows(connection: CalendarConnection, info: UserInfo) -> list[CalendarRow]:
    conflicts = set(connection.conflict_calendar_ids or [])
    return [
        CalendarRow(
            calendar_id=c.calendar_id,
            name=c.name or c.calendar_id,
            profile_name=c.profile_name,
            provider_name=c.provider_name,
            writable=c.writable,
            primary=c.primary,
            is_write_calendar=c.calendar_id == connection.write_calendar_id,
            counts_for_conflicts=c.calendar_id in conflicts,
        )
        for c in of_connection(
            info.calendars, profile_id=connection.profile_id, access_mode=connection.access_mode
        )
    ]


def _profile_row(profile: Profile) -> ProfileRow:
    return ProfileRow(
        profile_name=profile.profile_name,
        provider_name=profile.provider_name,
        connected=profile.connected,
        relink_url=profile.relink_url,
    )


def _note_relinked(connection: CalendarConnection, profiles: Sequence[Profile]) -> None:
    """A profile that was disconnected and is connected again clears the warning."""
    waiting = connection.status is ConnectionStatus.NEEDS_RECONNECT
    if not waiting or connection.status_reason != StatusReason.PROFILE_DISCONNECTED.value:
        return
    if profiles and all(p.connected for p in profiles):
        connection.status = ConnectionStatus.CONNECTED
        connection.status_reason = None
        audit.record("connection.relinked", target=str(connection.id))
        db.session.commit()


def _live_calendars(cronofy: CronofyClient, connection: CalendarConnection) -> list[Calendar]:
    try:
        calendars = call_with_token(cronofy, connection.id, cronofy.calendars)
    except CronofyError:
        raise CalendarUnavailable(UNAVAILABLE) from None
    return of_connection(
        calendars, profile_id=connection.profile_id, access_mode=connection.access_mode
    )


def _require_connection(user: User) -> CalendarConnection:
    connection = own_connection(user)
    if connection is None or connection.status is ConnectionStatus.REVOKED:
        raise NotConnected("Connect a calendar first.")
    return connection


def choose_write_calendar(cronofy: CronofyClient, *, user: User, calendar_id: str) -> str:
    """Make one of the user's writable calendars the one bookings go to; return its name."""
    connection = _require_connection(user)
    if connection.access_mode is not AccessMode.READ_WRITE:
        raise InvalidChoice(
            "Bookings reach you as e-mailed invitations with this access, so there is no "
            "calendar to choose. Connect with read-write access to have them written directly."
        )
    calendar = next(
        (c for c in _live_calendars(cronofy, connection) if c.calendar_id == calendar_id), None
    )
    if calendar is None:
        raise InvalidChoice("That calendar is not one of your connected calendars.")
    if not calendar.writable:
        raise InvalidChoice(f"“{calendar.name}” is read-only: bookings cannot be written to it.")
    connection.write_calendar_id = calendar.calendar_id
    audit.record("connection.write_calendar", actor=user, target=user.email)
    db.session.commit()
    return calendar.name


def set_conflict_calendars(
    cronofy: CronofyClient,
    *,
    user: User,
    calendar_ids: Sequence[str],
    confirm_none: bool = False,
    availability_cache: AvailabilityCache | None = None,
) -> int:
    """Set which of the user's calendars count for conflicts; return how many.

    Choosing none makes double bookings possible: NoConflictCalendars unless confirmed.
    The user's cached availability is dropped: it was computed with the old calendars.
    """
    connection = _require_connection(user)
    if connection.access_mode is AccessMode.NO_CALENDAR:
        raise InvalidChoice("With no calendar access your own calendar is never checked.")
    known = {c.calendar_id for c in _live_calendars(cronofy, connection)}
    chosen = sorted(set(calendar_ids))
    if any(cid not in known for cid in chosen):
        raise InvalidChoice("One of the chosen calendars is not one of your connected calendars.")
    if not chosen and not confirm_none:
        raise NoConflictCalendars(
            "With no calendar checked, customers can book times you are busy in your calendar: "
            "double bookings become possible."
        )
    connection.conflict_calendar_ids = chosen
    audit.record(
        "connection.conflict_calendars",
        actor=user,
        target=user.email,
        details={"count": len(chosen)},
    )
    db.session.commit()
    if availability_cache is not None:
        availability_cache.drop([user.id])
    return len(chosen)

"""The live calendar re-check of one exact period, just before a booking is written.

The availability view may be a few seconds (or a cache) old; a booking asks Cronofy again for
that period only. Free/busy works in every access mode (``no_calendar`` included: the
Cronofy-hosted calendar holds the events). Our own managed events are left out, so a booking
being moved never collides with itself; Bookly's rows are checked by ``bookly_client`` inside
its locked transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from cronofy_client import CronofyClient, CronofyError, FreeBusyPeriod
from webapp.models import CalendarConnection, ConnectionStatus
from webapp.services import tokens
from webapp.services.bookings.errors import BookingUnavailable
from webapp.services.connection_errors import NotConnected, ReconnectRequired

log = logging.getLogger(__name__)

BUSY_STATUSES = frozenset({"busy", "tentative"})


@dataclass(frozen=True, slots=True)
class CalendarVerdict:
    """What the calendar says about a period: consulted at all, and busy then."""

    consulted: bool
    busy: bool


SCHEDULE_ONLY = CalendarVerdict(consulted=False, busy=False)


def usable(connection: CalendarConnection | None) -> bool:
    """True when the instructor's calendar can be asked (connected, not revoked)."""
    return connection is not None and connection.status is ConnectionStatus.CONNECTED


@dataclass(frozen=True, slots=True)
class CalendarTarget:
    """Which calendars to ask, as plain values: no database session is held while asking."""

    connection_id: int
    calendars: tuple[str, ...]  # empty: every calendar of the account


def target_of(connection: CalendarConnection | None) -> CalendarTarget | None:
    """The calendars to consult, or None when the connection is missing or unusable."""
    if connection is None or not usable(connection):
        return None
    return CalendarTarget(connection.id, tuple(connection.conflict_calendar_ids or ()))


def busy_periods(
    cronofy: CronofyClient, connection: CalendarConnection | CalendarTarget, first: date, last: date
) -> list[FreeBusyPeriod]:
    """Busy (or tentative) time of the conflict calendars from ``first`` to ``last`` (UTC
    dates), from one free/busy read: start and end only, never titles."""
    if isinstance(connection, CalendarConnection):
        connection = CalendarTarget(connection.id, tuple(connection.conflict_calendar_ids or ()))
    calendars = list(connection.calendars) or None

    def read(token: str) -> list[FreeBusyPeriod]:
        return list(cronofy.free_busy(token, from_date=first, to_date=last, calendar_ids=calendars))

    periods = tokens.call_with_token(cronofy, connection.connection_id, read)
    return [p for p in periods if p.status in BUSY_STATUSES]


def check_period(
    cronofy: CronofyClient, target: CalendarTarget | None, start: datetime, end: datetime
) -> CalendarVerdict:
    """Ask the calendar whether ``[start, end)`` is busy; schedule-only without a target."""
    if target is None:
        return SCHEDULE_ONLY
    first, last = (start - timedelta(days=1)).date(), (end + timedelta(days=2)).date()
    try:
        periods = busy_periods(cronofy, target, first, last)
    except (NotConnected, ReconnectRequired):
        log.info("connection %s unusable: booking on the schedule alone", target.connection_id)
        return SCHEDULE_ONLY
    except CronofyError as exc:
        log.warning("calendar re-check failed for connection %s: %s", target.connection_id,
                    type(exc).__name__)  # fmt: skip
        raise BookingUnavailable(
            "The instructor's calendar could not be checked just now; please try again."
        ) from exc
    busy = any(overlaps(p, start, end) for p in periods)
    return CalendarVerdict(consulted=True, busy=busy)


def _instant(value: datetime | date) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


def overlaps(period: FreeBusyPeriod, start: datetime, end: datetime) -> bool:
    """True when a free/busy period (all-day ones as UTC days) meets ``[start, end)``."""
    return _instant(period.start) < end and start < _instant(period.end)

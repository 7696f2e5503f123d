"""Domain errors of calendar connections (connect, tokens, disconnect).

CalendarConnectionError
 ├── InvalidState          missing, unknown, expired, reused or foreign OAuth state
 ├── DataCenterMismatch    the flow was started against another data center (mix-up)
 ├── InvalidChoice         a form value outside the allowed set (mode, provider, calendar)
 │    └── NoConflictCalendars  no conflict calendar chosen and not confirmed (double bookings)
 ├── AccountAlreadyLinked  the Cronofy account belongs to another user
 ├── ConnectFailed         Cronofy refused or could not finish the connection
 ├── NotConnected          the user has no calendar connection
 ├── CalendarUnavailable   Cronofy could not be asked right now (friendly retry message)
 └── ReconnectRequired     the grant is dead (invalid_grant, revoked): the user must reconnect
"""

from __future__ import annotations

from enum import StrEnum


class CalendarConnectionError(Exception):
    """Base of every calendar-connection error; the message is safe to show a person."""


class StateProblem(StrEnum):
    """Why an OAuth state was refused (each flow words its own message from it)."""

    MISSING = "missing"  # empty or malformed
    UNKNOWN = "unknown"
    FOREIGN = "foreign"  # started by another user
    USED = "used"
    EXPIRED = "expired"


class InvalidState(CalendarConnectionError):
    """The OAuth state is missing, unknown, expired, already used or someone else's."""

    def __init__(self, message: str, problem: StateProblem = StateProblem.UNKNOWN) -> None:
        super().__init__(message)
        self.problem = problem


class DataCenterMismatch(CalendarConnectionError):
    """The callback belongs to a flow started against another Cronofy data center."""


class InvalidChoice(CalendarConnectionError):
    """A submitted choice is not one of the allowed values."""


class AccountAlreadyLinked(CalendarConnectionError):
    """This Cronofy account is already connected to another person."""


class ConnectFailed(CalendarConnectionError):
    """Cronofy did not complete the connection (code rejected, service down, ...)."""


class NotConnected(CalendarConnectionError):
    """The person has no calendar connection."""


class CalendarUnavailable(CalendarConnectionError):
    """Cronofy could not answer right now; nothing was changed."""


class ReconnectRequired(CalendarConnectionError):
    """The connection's grant no longer works; the person must connect again."""


class NoConflictCalendars(InvalidChoice):
    """No calendar would count for conflicts: the person must confirm (double bookings)."""

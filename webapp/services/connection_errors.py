"""Domain errors of calendar connections (connect, tokens, disconnect).

CalendarConnectionError
 ├── InvalidState          missing, unknown, expired, reused or foreign OAuth state
 ├── DataCenterMismatch    the flow was started against another data center (mix-up)
 ├── InvalidChoice         a form value outside the allowed set (mode, provider, calendar)
 ├── AccountAlreadyLinked  the Cronofy account belongs to another user
 ├── ConnectFailed         Cronofy refused or could not finish the connection
 ├── NotConnected          the user has no calendar connection
 ├── CalendarUnavailable   Cronofy could not be asked right now (friendly retry message)
 └── ReconnectRequired     the grant is dead (invalid_grant, revoked): the user must reconnect
"""

from __future__ import annotations


class CalendarConnectionError(Exception):
    """Base of every calendar-connection error; the message is safe to show a person."""


class InvalidState(CalendarConnectionError):
    """The OAuth state is missing, unknown, expired, already used or someone else's."""


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

"""Errors raised by bookly_client; nothing else escapes the package.

Exception tree::

    BooklyError
    ├── BooklyUnavailable          database unreachable, lock timeout, deadlock
    ├── IncompatibleSchema         start-up check failed (tables, columns, version, time zone)
    ├── SiteTimeZoneError          {prefix}options holds no usable time zone
    ├── NotFound
    │   ├── UnknownStaff           no such staff member (or archived)
    │   ├── UnknownService         no such service
    │   └── UnknownAppointment     no such appointment / booking reference
    ├── ValidationError            bad input, nothing written
    │   ├── NaiveDatetime          a datetime without tzinfo
    │   ├── InvalidCustomer        e-mail / name / phone unusable
    │   ├── ServiceNotOffered      the staff member does not offer the service
    │   ├── OutsideWorkingHours    outside hours, in a break or on a day off (strict mode)
    │   ├── OffGrid                a start Bookly's booking form never offers (strict mode)
    │   └── UnrepresentableTime    an instant Bookly's naive local DATETIME cannot hold
    ├── SlotConflict               overlaps a busy appointment of the staff member
    ├── ReferenceConflict          booking reference already used for another slot
    ├── ForeignRow                 the row was not created by us (pass allow_foreign=True)
    └── MissingTokenKey            no token_secret configured: writes are refused
"""

from __future__ import annotations


class BooklyError(Exception):
    """Base class of every error raised by bookly_client."""


class BooklyUnavailable(BooklyError):
    """The Bookly database could not be reached or the write could not be completed."""


class IncompatibleSchema(BooklyError):
    """The Bookly installation does not match what this client was built and tested for."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("Bookly database is not compatible: " + "; ".join(problems))


class SiteTimeZoneError(BooklyError):
    """WordPress options name no usable site time zone."""


class NotFound(BooklyError):
    """A referenced Bookly row does not exist."""


class UnknownStaff(NotFound):
    """No (bookable) staff member with that id."""


class UnknownService(NotFound):
    """No service with that id."""


class UnknownAppointment(NotFound):
    """No appointment with that id, or no booking with that reference."""


class ValidationError(BooklyError):
    """Input rejected before anything was written."""


class NaiveDatetime(ValidationError, TypeError):
    """A datetime without tzinfo was passed; callers must pass aware datetimes."""


class InvalidCustomer(ValidationError):
    """Customer details (e-mail, name, phone) are unusable."""


class ServiceNotOffered(ValidationError):
    """The staff member does not offer this service."""


class OutsideWorkingHours(ValidationError):
    """The requested time is outside the staff member's hours, in a break or on a day off."""


class OffGrid(ValidationError):
    """The start is not on Bookly's slot grid (slot length counted from the working range)."""


class UnrepresentableTime(ValidationError):
    """The instant falls in the repeated hour after a DST change and cannot be stored."""


class SlotConflict(BooklyError):
    """The requested time overlaps a busy appointment of the staff member."""

    def __init__(self, message: str, *, conflicting_ids: tuple[int, ...] = ()) -> None:
        self.conflicting_ids = conflicting_ids
        super().__init__(message)


class ReferenceConflict(BooklyError):
    """A booking with this reference exists already, for a different slot."""


class ForeignRow(BooklyError):
    """The row was not created by this client; touching it needs allow_foreign=True."""


class MissingTokenKey(BooklyError):
    """The gateway has no token_secret, so it refuses to write (nothing is written).

    Bookly puts the customer-appointment token in public cancel links; without a secret key
    the token would be computable from the booking reference alone.
    """

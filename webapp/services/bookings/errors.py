"""Domain errors of bookings; messages are safe to show the person who asked.

BookingError
 ├── InvalidBooking        bad input (field -> message); nothing was written anywhere
 ├── SlotTaken             the time is no longer free (Bookly, our table or the calendar)
 ├── IdempotencyConflict   the key was used before for a different request
 ├── BookingNotFound       no booking with that id (or not visible to the caller)
 ├── BookingClosed         the booking is cancelled (or past) and cannot change
 └── BookingUnavailable    Bookly or Cronofy could not be asked right now; nothing changed
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime


class BookingError(Exception):
    """Base of every booking error."""


class InvalidBooking(BookingError):
    """The request cannot be booked as given; ``fields`` says which input is wrong and why."""

    def __init__(self, fields: Mapping[str, str]) -> None:
        self.fields = dict(fields)
        super().__init__("; ".join(f"{name}: {text}" for name, text in self.fields.items()))


class SlotTaken(BookingError):
    """Someone (or something in the calendar) holds this time already."""

    def __init__(self, instructor_id: int, service_id: int, start: datetime) -> None:
        self.instructor_id = instructor_id
        self.service_id = service_id
        self.start = start
        super().__init__("This time was just taken; please choose another one.")


class IdempotencyConflict(BookingError):
    """The Idempotency-Key was already used with a different request body."""

    def __init__(self) -> None:
        super().__init__("This Idempotency-Key was already used for a different booking request.")


class BookingNotFound(BookingError):
    """No such booking."""

    def __init__(self) -> None:
        super().__init__("No such booking.")


class BookingClosed(BookingError):
    """The booking can no longer be changed (cancelled)."""


class BookingUnavailable(BookingError):
    """A system we depend on could not answer; nothing was booked or changed."""

"""The Bookly side of bookings: bookly_client calls with our error mapping and bounded retries.

``BooklyUnavailable`` covers deadlocks and lock timeouts as well as an unreachable database;
every write here is idempotent (by booking reference), so it is retried a few times.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from bookly_client import (
    Booking as BooklyBooking,
)
from bookly_client import (
    BooklyError,
    BooklyGateway,
    BooklyUnavailable,
    CustomerDetails,
    InvalidCustomer,
    NotFound,
    OffGrid,
    OutsideWorkingHours,
    ReferenceConflict,
    Service,
    ServiceNotOffered,
    SlotConflict,
    UnknownStaff,
    UnrepresentableTime,
    ValidationError,
)
from webapp.models import Booking
from webapp.services.availability.slots import horizon_instant
from webapp.services.bookings.errors import (
    BookingUnavailable,
    IdempotencyConflict,
    InvalidBooking,
    SlotTaken,
)
from webapp.services.bookings.requests import BookingRequest

log = logging.getLogger(__name__)

T = TypeVar("T")

ATTEMPTS = 3
UNAVAILABLE = "The booking system could not be reached just now; please try again."
OFF_GRID = "Not a start this instructor offers (starts follow the slot grid); pick an offered slot."


def _retrying(call: Callable[[], T]) -> T:
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return call()
        except BooklyUnavailable:
            if attempt == ATTEMPTS:
                raise
            log.info("Bookly busy or unreachable (attempt %d); retrying", attempt)
            time.sleep(random.uniform(0.02, 0.1 * 2**attempt))  # noqa: S311 - spread only
    raise AssertionError("unreachable")  # pragma: no cover


def services_of(bookly: BooklyGateway, staff_id: int) -> list[Service]:
    """Services this staff member offers."""
    try:
        return _retrying(lambda: bookly.list_services(staff_id=staff_id))
    except BooklyError as exc:
        raise BookingUnavailable(UNAVAILABLE) from exc


def check_bookable_window(
    bookly: BooklyGateway, service_id: int, start: datetime, now: datetime
) -> None:
    """Bookly's form offers nothing within the minimum notice or beyond the horizon."""
    try:
        rules = _retrying(lambda: bookly.slot_rules(service_id))
    except BooklyError as exc:
        raise BookingUnavailable(UNAVAILABLE) from exc
    if start < now + rules.min_notice:
        raise InvalidBooking({"start": "Too soon: this service is booked further ahead."})
    if start >= horizon_instant(rules, now):
        raise InvalidBooking({"start": f"Bookings open at most {rules.max_days} days ahead."})


def create(
    bookly: BooklyGateway, request: BookingRequest, *, staff_id: int, reference: str
) -> BooklyBooking:
    """Write the Bookly rows (or find them again by reference); domain errors otherwise."""
    who = request.customer
    customer = CustomerDetails(who.email, who.name, who.phone, who.time_zone)

    def write() -> BooklyBooking:
        return bookly.create_booking(
            reference=reference,
            staff_id=staff_id,
            service_id=request.service_id,
            start=request.start,
            customer=customer,
            notes=request.note,
        )

    try:
        return _retrying(write)
    except SlotConflict as exc:
        raise SlotTaken(request.instructor_id, request.service_id, request.start) from exc
    except ReferenceConflict as exc:
        raise IdempotencyConflict() from exc
    except (OutsideWorkingHours, UnrepresentableTime) as exc:
        raise InvalidBooking({"start": "The instructor takes no bookings at this time."}) from exc
    except OffGrid as exc:
        raise InvalidBooking({"start": OFF_GRID}) from exc
    except InvalidCustomer as exc:
        raise InvalidBooking({"customer": "These customer details cannot be saved."}) from exc
    except UnknownStaff as exc:
        raise InvalidBooking({"instructor": "This instructor takes no bookings."}) from exc
    except (ServiceNotOffered, NotFound) as exc:
        raise InvalidBooking({"service": "This instructor does not offer this service."}) from exc
    except ValidationError as exc:
        raise InvalidBooking({"start": str(exc)[:200]}) from exc
    except BooklyError as exc:
        raise BookingUnavailable(UNAVAILABLE) from exc


def undo_create(bookly: BooklyGateway, reference: str) -> None:
    """Cancel Bookly rows we wrote but could not keep (our table refused the booking)."""
    try:
        _retrying(lambda: bookly.cancel_booking(reference))
    except BooklyError:
        # Left approved, the appointment blocks the time in Bookly only; the log says which.
        log.error("could not cancel Bookly booking %s after our table refused it", reference)


def cancel(bookly: BooklyGateway, reference: str) -> None:
    """Cancel our booking's customer row in Bookly (idempotent)."""
    try:
        _retrying(lambda: bookly.cancel_booking(reference))
    except NotFound:
        log.warning("Bookly booking %s no longer exists; cancelling ours only", reference)
    except BooklyError as exc:
        raise BookingUnavailable(UNAVAILABLE) from exc


def move(bookly: BooklyGateway, booking: Booking, new_start: datetime) -> None:
    """Move the Bookly appointment, re-checked under its staff lock."""
    try:
        _retrying(lambda: bookly.reschedule_booking(booking.public_id, new_start))
    except SlotConflict as exc:
        raise SlotTaken(booking.instructor_id, booking.bookly_service_id, new_start) from exc
    except (OutsideWorkingHours, UnrepresentableTime) as exc:
        raise InvalidBooking({"start": "The instructor takes no bookings at this time."}) from exc
    except OffGrid as exc:
        raise InvalidBooking({"start": OFF_GRID}) from exc
    except ValidationError as exc:
        raise InvalidBooking({"start": str(exc)[:200]}) from exc
    except BooklyError as exc:
        raise BookingUnavailable(UNAVAILABLE) from exc


def move_back(bookly: BooklyGateway, booking: Booking, old_start: datetime) -> None:
    """Undo ``move`` after our table refused the new time."""
    try:
        _retrying(
            lambda: bookly.reschedule_booking(
                booking.public_id, old_start, enforce_working_hours=False
            )
        )
    except BooklyError:
        log.error("could not move Bookly booking %s back after a refused move", booking.id)

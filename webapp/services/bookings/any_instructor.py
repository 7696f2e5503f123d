"""Booking "any instructor" of a school: the first of those free at the chosen start.

Each candidate is tried with its own idempotency key (the caller's key scoped by instructor),
so a failed try leaves nothing another instructor's booking could reuse, and a form sent twice
finds the booking the first sending made, whichever instructor took it. A candidate whose
calendar or Bookly schedule filled up meanwhile is skipped; when none is left the time is
taken.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from bookly_client import BooklyGateway
from cronofy_client import CronofyClient
from webapp.services import audit
from webapp.services.availability.cache import AvailabilityCache
from webapp.services.bookings import store
from webapp.services.bookings.errors import InvalidBooking, SlotTaken
from webapp.services.bookings.lifecycle import BookResult, book
from webapp.services.bookings.requests import BookingRequest


def instructor_key(idempotency_key: str, instructor_id: int) -> str:
    """The idempotency key of one candidate's try."""
    return f"{idempotency_key}:instructor:{instructor_id}"


def book_any(
    bookly: BooklyGateway,
    cronofy: CronofyClient,
    request: BookingRequest,
    candidates: Sequence[int],
    *,
    idempotency_key: str,
    cache: AvailabilityCache | None = None,
    by: str = audit.SYSTEM,
) -> BookResult:
    """Book ``request`` with the first of ``candidates`` (instructor ids, in order of
    preference) who is still free; ``request.instructor_id`` is ignored."""
    if not candidates:
        raise InvalidBooking({"start": "Nobody is free at this time; choose another one."})
    for instructor_id in candidates:  # sent twice: the first sending's booking, as it was
        if store.by_key(instructor_key(idempotency_key, instructor_id)) is not None:
            return book(bookly, cronofy, dataclasses.replace(request, instructor_id=instructor_id),
                        idempotency_key=instructor_key(idempotency_key, instructor_id),
                        cache=cache, by=by)  # fmt: skip
    taken: SlotTaken | None = None
    for instructor_id in candidates:
        try:
            return book(bookly, cronofy, dataclasses.replace(request, instructor_id=instructor_id),
                        idempotency_key=instructor_key(idempotency_key, instructor_id),
                        cache=cache, by=by)  # fmt: skip
        except SlotTaken as exc:
            taken = exc
    raise taken or SlotTaken(candidates[-1], request.service_id, request.start)

"""``/api/v1/bookings``: book, read, list, cancel and reschedule (thin: parse, one service call).

Every booking is scoped to the API key's organisation: another tenant's bookings and
instructors answer 404. ``POST /bookings`` needs an ``Idempotency-Key`` header; the same key
and body answer the first response again, the same key with another body 422.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from http import HTTPStatus

from flask import request

from bookly_client import BooklyGateway
from webapp import metrics
from webapp.availability_cache import get_availability_cache
from webapp.clients import get_clients
from webapp.models import Booking
from webapp.services import bookings, catalogue
from webapp.tasks import kick_booking_delivery
from webapp.views.api.base import bp, current_api_key, organisation_id
from webapp.views.api.booking_schemas import (
    BookingCreate,
    BookingOut,
    BookingsQuery,
    BookingsResponse,
    CustomerOut,
    RescheduleIn,
    SlotTakenResponse,
)
from webapp.views.api.errors import ApiError, unknown_instructor
from webapp.views.api.openapi import endpoint

log = logging.getLogger(__name__)

KEY_HEADER = "Idempotency-Key"
_WRITE_ERRORS = [HTTPStatus.BAD_REQUEST, HTTPStatus.NOT_FOUND, HTTPStatus.SERVICE_UNAVAILABLE]


def _bookly() -> BooklyGateway:
    bookly = get_clients().bookly
    if bookly is None:
        raise ApiError(503, "No Bookly site is configured for this bridge.", code="no_bookly")
    return bookly


def booking_out(booking: Booking) -> BookingOut:
    """The API's view of a booking."""
    return BookingOut(
        id=booking.public_id, status=booking.status.value,
        start=booking.starts_at, end=booking.ends_at,
        service=booking.bookly_service_id, instructor=booking.instructor_id,
        customer=CustomerOut(name=booking.customer_name, email=booking.customer_email),
        delivery=booking.delivery.value, delivery_state=booking.delivery_state.value,
        schedule_only=booking.schedule_only,
    )  # fmt: skip


@contextmanager
def _answering() -> Iterator[None]:
    """Booking errors in the API's error shape (409 with the next free slots)."""
    try:
        yield
    except bookings.SlotTaken as taken:
        metrics.count_booking_conflict()
        slots = bookings.next_free_slots(get_clients().cronofy_in_request, _bookly(), taken)
        raise ApiError(
            409, str(taken), code="slot_taken",
            extra={"next_slots": [
                {"start": s.start.isoformat(), "end": s.end.isoformat()} for s in slots
            ]},
        ) from taken  # fmt: skip
    except bookings.InvalidBooking as exc:
        raise ApiError(422, "This booking cannot be made as sent; see fields.",
                       fields=exc.fields) from exc  # fmt: skip
    except bookings.IdempotencyConflict as exc:
        reused = {KEY_HEADER: "Already used for another request."}
        raise ApiError(422, str(exc), code="idempotency_key_reused", fields=reused) from exc
    except bookings.BookingNotFound as exc:
        raise ApiError(404, "No such booking in your organisation.") from exc
    except bookings.BookingClosed as exc:
        raise ApiError(409, str(exc), code="booking_cancelled") from exc
    except bookings.BookingUnavailable as exc:
        raise ApiError(503, str(exc)) from exc


def _own_booking(public_id: str) -> Booking:
    with _answering():
        booking = bookings.get_booking(public_id)
    try:
        catalogue.find_instructor(organisation_id(), booking.instructor_id)
    except catalogue.UnknownInstructor:
        raise ApiError(404, "No such booking in your organisation.") from None
    return booking


@bp.post("/bookings")
@endpoint(response=BookingOut, status=HTTPStatus.CREATED, tags=["bookings"],
          errors=[*_WRITE_ERRORS, HTTPStatus.REQUEST_ENTITY_TOO_LARGE],
          error_models={HTTPStatus.CONFLICT: SlotTakenResponse})  # fmt: skip
def create_booking(json: BookingCreate) -> tuple[BookingOut, int, dict[str, str]]:
    """Book a slot; send an Idempotency-Key so a retry never books twice."""
    key = request.headers.get(KEY_HEADER, "").strip()
    if not key:
        raise ApiError(400, f"Send an {KEY_HEADER} header (a unique string per booking).",
                       fields={KEY_HEADER: "Required."})  # fmt: skip
    try:
        catalogue.find_instructor(organisation_id(), json.instructor)
    except catalogue.UnknownInstructor as exc:
        raise unknown_instructor() from exc
    who = json.customer
    wanted = bookings.BookingRequest(
        instructor_id=json.instructor, service_id=json.service, start=json.start,
        customer=bookings.Customer(who.name, who.email, who.phone or "", who.time_zone),
        note=json.note,
    )  # fmt: skip
    with _answering():
        result = bookings.book(
            _bookly(), get_clients().cronofy_in_request, wanted,
            idempotency_key=f"api:{organisation_id()}:{key}", cache=get_availability_cache(),
            by=_api_caller(),
        )  # fmt: skip
    if result.created:
        kick_booking_delivery()
    replayed = {"Idempotent-Replayed": "true"} if not result.created else {}
    return booking_out(result.booking), HTTPStatus.CREATED, replayed


@bp.get("/bookings/<public_id>")
@endpoint(response=BookingOut, errors=[HTTPStatus.NOT_FOUND], tags=["bookings"])
def get_booking(public_id: str) -> BookingOut:
    """One booking of the organisation."""
    return booking_out(_own_booking(public_id))


@bp.get("/bookings")
@endpoint(response=BookingsResponse, errors=[HTTPStatus.NOT_FOUND], tags=["bookings"])
def list_bookings(query: BookingsQuery) -> BookingsResponse:
    """Bookings starting in ``[from, to)``, of one instructor or the whole organisation."""
    instructors = catalogue.organisation_instructors(organisation_id())
    ids = [i.id for i in instructors]
    if query.instructor is not None:
        if query.instructor not in ids:
            raise unknown_instructor()
        ids = [query.instructor]
    found = bookings.upcoming(ids, query.from_, query.to)
    return BookingsResponse(bookings=[booking_out(b) for b in found])


@bp.post("/bookings/<public_id>/cancel")
@endpoint(response=BookingOut, errors=_WRITE_ERRORS, tags=["bookings"])
def cancel_booking(public_id: str) -> BookingOut:
    """Cancel a booking (again: no change)."""
    booking = _own_booking(public_id)
    with _answering():
        done = bookings.cancel(_bookly(), booking.public_id, cache=get_availability_cache(),
                               by=_api_caller())  # fmt: skip
    kick_booking_delivery()
    return booking_out(done)


@bp.post("/bookings/<public_id>/reschedule")
@endpoint(response=BookingOut, errors=_WRITE_ERRORS, tags=["bookings"],
          error_models={HTTPStatus.CONFLICT: SlotTakenResponse})  # fmt: skip
def reschedule_booking(public_id: str, json: RescheduleIn) -> BookingOut:
    """Move a booking to another offered start (same duration)."""
    booking = _own_booking(public_id)
    with _answering():
        moved = bookings.reschedule(
            _bookly(), get_clients().cronofy_in_request, booking.public_id, json.start,
            cache=get_availability_cache(), by=_api_caller(),
        )  # fmt: skip
    kick_booking_delivery()
    return booking_out(moved)


def _api_caller() -> str:
    """The audit log's 'who' for an API call: the key's name and public id."""
    api_key = current_api_key()
    return f"API key {api_key.name} ({api_key.key_id})"

"""Book, cancel and reschedule: Bookly first (locked, re-checked), then our row + job at once.

Order of a booking, and why:

1. Same idempotency key seen before: the same request gets its booking back; another request
   is an ``IdempotencyConflict``. Nothing else is touched.
2. Input checked (``requests.checked``), the instructor and the service looked up.
3. The calendar is asked about that exact period (``calendar_check``); an instructor without
   a usable connection books on the Bookly schedule alone and the booking is flagged.
4. ``bookly_client.create_booking`` locks the staff row, re-checks hours and overlaps and
   writes customer, appointment and customer-appointment rows. Its reference is our public id,
   derived from the key, so a retry after a crash finds those rows instead of adding more.
5. Our ``Booking`` row and its sync job commit together; the overlap constraint is the last
   guard. If it refuses (our table knows a booking Bookly no longer shows), the Bookly rows
   just written are cancelled again and the caller gets ``SlotTaken``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from bookly_client import BooklyGateway, Service
from cronofy_client import CronofyClient
from webapp.database import utcnow
from webapp.extensions import db
from webapp.models import AccessMode, Booking, BookingStatus, Delivery, DeliveryState, Role, User
from webapp.services import audit
from webapp.services.availability.cache import AvailabilityCache
from webapp.services.bookings import bookly_writes, calendar_check, store
from webapp.services.bookings.errors import (
    BookingClosed,
    BookingNotFound,
    BookingUnavailable,
    IdempotencyConflict,
    InvalidBooking,
    SlotTaken,
)
from webapp.services.bookings.requests import (
    BookingRequest,
    booking_reference,
    checked,
    checked_key,
)

log = logging.getLogger(__name__)

STORE_BUSY = "Our database is too busy just now; nothing was changed. Please try again."
CANCEL_UNFINISHED = "The cancellation is not finished (our database is busy); please try again."


@dataclass(frozen=True, slots=True)
class BookResult:
    """The booking, and whether this call made it (False: an earlier identical request did)."""

    booking: Booking
    created: bool


def book(
    bookly: BooklyGateway,
    cronofy: CronofyClient,
    request: BookingRequest,
    *,
    idempotency_key: str,
    now: datetime | None = None,
    cache: AvailabilityCache | None = None,
    by: str = audit.SYSTEM,
) -> BookResult:
    """Book one slot for a customer, exactly once per idempotency key (``by``: who asked,
    for the audit log: an API key, "customer", an instructor's address)."""
    key = checked_key(idempotency_key)
    fingerprint = request.fingerprint()
    if (earlier := store.by_key(key)) is not None:
        return _replay(earlier, fingerprint)
    request = checked(request, now or bookly.now())
    instructor, staff_id = instructor_for_booking(request.instructor_id)
    instructor_id, delivery = instructor.id, delivery_for(instructor)
    organisation_id = instructor.organisation_id
    target = calendar_check.target_of(instructor.connection)
    db.session.rollback()  # no database connection is held across the network calls below
    service = offered_service(bookly, staff_id, request.service_id)
    bookly_writes.check_bookable_window(bookly, service.id, request.start, now or bookly.now())
    end = request.start + service.duration
    verdict = calendar_check.check_period(cronofy, target, request.start, end)
    if verdict.busy:
        raise SlotTaken(instructor_id, service.id, request.start)
    public_id = booking_reference(key)
    written = bookly_writes.create(bookly, request, staff_id=staff_id, reference=public_id)
    booking = Booking(
        public_id=public_id,
        instructor_id=instructor_id,
        bookly_appointment_id=written.appointment_id,
        bookly_customer_appointment_id=written.customer_appointment_id,
        bookly_service_id=service.id,
        starts_at=written.start,
        ends_at=written.end,
        customer_name=request.customer.name,
        customer_email=request.customer.email,
        customer_phone=request.customer.phone,
        customer_time_zone=request.customer.time_zone or "UTC",
        delivery=delivery,
        schedule_only=not verdict.consulted,
        idempotency_key=key,
        request_fingerprint=fingerprint,
    )

    def stage() -> Booking:
        db.session.add(booking)
        store.queue_sync(booking)
        _audit("booking.created", booking, by, organisation_id)
        return booking

    try:
        store.commit_retrying(stage)
    except store.StoreConflict as conflict:
        # A concurrent request with this key may have committed first (same Bookly rows).
        if (winner := store.by_key(key)) is not None:
            return _replay(winner, fingerprint)
        if written.created:  # never undo rows an earlier request with this key wrote
            bookly_writes.undo_create(bookly, public_id)
        raise SlotTaken(instructor_id, service.id, request.start) from conflict
    except store.StoreBusy as busy:
        if written.created:  # a retry with this key re-opens the same Bookly rows
            bookly_writes.undo_create(bookly, public_id)
        raise BookingUnavailable(STORE_BUSY) from busy
    log.info("booking %s made (instructor %s, schedule_only=%s)", booking.id, instructor_id,
             booking.schedule_only)  # fmt: skip
    _forget_availability(cache, booking.instructor_id)
    return BookResult(booking, created=True)


def _replay(earlier: Booking, fingerprint: str) -> BookResult:
    if earlier.request_fingerprint != fingerprint:
        raise IdempotencyConflict()
    return BookResult(earlier, created=False)


def instructor_for_booking(instructor_id: int) -> tuple[User, int]:
    """An active instructor and their Bookly staff id, or InvalidBooking."""
    user = db.session.get(User, instructor_id)
    if user is None or not user.active or user.role is not Role.INSTRUCTOR:
        raise InvalidBooking({"instructor": "No such instructor."})
    if user.bookly_staff_id is None:
        raise InvalidBooking({"instructor": "This instructor takes no bookings."})
    return user, user.bookly_staff_id


def offered_service(bookly: BooklyGateway, staff_id: int, service_id: int) -> Service:
    """The Bookly service if this staff member offers it, or InvalidBooking."""
    for service in bookly_writes.services_of(bookly, staff_id):
        if service.id == service_id:
            return service
    raise InvalidBooking({"service": "This instructor does not offer this service."})


def delivery_for(instructor: User) -> Delivery:
    """A calendar event for read_write connections; an e-mailed invite otherwise."""
    connection = instructor.connection
    if (
        connection is not None
        and calendar_check.usable(connection)
        and connection.access_mode is AccessMode.READ_WRITE
    ):
        return Delivery.CALENDAR_EVENT
    return Delivery.EMAILED_INVITE


def get_booking(public_id: str) -> Booking:
    """A booking by public id, or BookingNotFound."""
    booking = store.by_public_id(public_id)
    if booking is None:
        raise BookingNotFound()
    return booking


def visible_booking(viewer: User, public_id: str) -> Booking:
    """A booking the viewer may manage: their own (instructor) or their organisation's (admin)."""
    booking = get_booking(public_id)
    owner = db.session.get(User, booking.instructor_id)
    if owner is None:
        raise BookingNotFound()
    if viewer.is_admin and owner.organisation_id == viewer.organisation_id:
        return booking
    if owner.id == viewer.id:
        return booking
    raise BookingNotFound()


def cancel(
    bookly: BooklyGateway,
    public_id: str,
    *,
    cache: AvailabilityCache | None = None,
    by: str = audit.SYSTEM,
) -> Booking:
    """Cancel a booking in Bookly and here; the calendar follows through the outbox."""
    booking = get_booking(public_id)
    if booking.status is BookingStatus.CANCELLED:
        return booking  # cancelling twice is harmless
    booking_id, instructor_id = booking.id, booking.instructor_id
    db.session.rollback()  # no database connection is held while Bookly answers
    bookly_writes.cancel(bookly, public_id)

    def stage() -> Booking:
        row = _fresh(booking_id)
        if row.status is BookingStatus.CANCELLED:
            return row  # a concurrent cancel finished first
        row.status = BookingStatus.CANCELLED
        row.cancelled_at = utcnow()
        row.delivery_state = DeliveryState.PENDING
        store.queue_sync(row)
        _audit("booking.cancelled", row, by)
        return row

    try:
        cancelled = store.commit_retrying(stage)
    except store.StoreBusy as busy:
        # Bookly is cancelled already; cancelling again (the retry) finishes ours, harmlessly.
        raise BookingUnavailable(CANCEL_UNFINISHED) from busy
    _forget_availability(cache, instructor_id)
    return cancelled


def _fresh(booking_id: int) -> Booking:
    """The booking's row as committed now (it may have changed during a network call)."""
    row = db.session.get(Booking, booking_id, populate_existing=True)
    if row is None:
        raise BookingNotFound()
    return row


def reschedule(
    bookly: BooklyGateway,
    cronofy: CronofyClient,
    public_id: str,
    new_start: datetime,
    *,
    now: datetime | None = None,
    cache: AvailabilityCache | None = None,
    by: str = audit.SYSTEM,
) -> Booking:
    """Move a booking (same duration) after the same live checks as a new booking."""
    booking = get_booking(public_id)
    if booking.status is BookingStatus.CANCELLED:
        raise BookingClosed("This booking is cancelled; book a new time instead.")
    if new_start.tzinfo is None or new_start.utcoffset() is None:
        raise InvalidBooking({"start": "Give the start with a time zone offset."})
    if new_start <= (now or bookly.now()):
        raise InvalidBooking({"start": "This start is in the past."})
    new_end = new_start + (booking.ends_at - booking.starts_at)
    instructor = db.session.get(User, booking.instructor_id)
    target = calendar_check.target_of(instructor.connection if instructor else None)
    # A detached snapshot for the network calls: no database connection is held while
    # Cronofy and Bookly answer; the commit below works on the row as it is then.
    db.session.expunge(booking)
    db.session.rollback()
    verdict = calendar_check.check_period(cronofy, target, new_start, new_end)
    if verdict.busy:
        raise SlotTaken(booking.instructor_id, booking.bookly_service_id, new_start)
    old_start = booking.starts_at
    bookly_writes.move(bookly, booking, new_start)

    def stage() -> Booking:
        row = _fresh(booking.id)
        if row.status is BookingStatus.CANCELLED:  # cancelled while Bookly moved it
            raise BookingClosed("This booking was cancelled meanwhile; book a new time instead.")
        row.starts_at, row.ends_at = new_start, new_end
        row.delivery_state = DeliveryState.PENDING
        row.schedule_only = not verdict.consulted
        store.queue_sync(row)
        _audit("booking.rescheduled", row, by)
        return row

    try:
        moved = store.commit_retrying(stage)
    except store.StoreConflict as conflict:
        bookly_writes.move_back(bookly, booking, old_start)
        raise SlotTaken(booking.instructor_id, booking.bookly_service_id, new_start) from conflict
    except store.StoreBusy as busy:
        bookly_writes.move_back(bookly, booking, old_start)
        raise BookingUnavailable(STORE_BUSY) from busy
    except BookingClosed:
        db.session.rollback()
        bookly_writes.move_back(bookly, booking, old_start)
        raise
    _forget_availability(cache, booking.instructor_id)
    return moved


def _audit(action: str, booking: Booking, by: str, organisation_id: int | None = None) -> None:
    """An audit entry in the booking's transaction (times and ids, no customer details)."""
    if organisation_id is None:
        instructor = db.session.get(User, booking.instructor_id)
        organisation_id = instructor.organisation_id if instructor else None
    audit.record(
        action,
        actor_label=by,
        target=booking.public_id,
        details={"instructor_id": booking.instructor_id, "start": booking.starts_at.isoformat()},
        organisation_id=organisation_id,
    )


def _forget_availability(cache: AvailabilityCache | None, instructor_id: int) -> None:
    """A Bookly write for this instructor makes cached availability stale (DESIGN §5)."""
    if cache is not None:
        cache.drop([instructor_id])


def upcoming(instructor_ids: list[int], start: datetime, end: datetime) -> list[Booking]:
    """Bookings of these instructors starting in ``[start, end)``, soonest first."""
    return list(
        db.session.scalars(
            sa.select(Booking)
            .where(Booking.instructor_id.in_(instructor_ids))
            .where(Booking.starts_at >= start, Booking.starts_at < end)
            .order_by(Booking.starts_at, Booking.id)
        )
    )

"""Erasing a customer on an admin's request (GDPR article 17), across everything we wrote.

The request (in the admin's web request, one commit): the organisation's bookings of that
e-mail address are found; upcoming ones are cancelled the usual way (Bookly first; the
booking's delivery then deletes the calendar event and sends the cancelling invitation, so
the customer learns their bookings are gone); one ``privacy.erase_customer`` outbox job is
queued and the request is audited under a hash of the address, never the address.

The job (retried with backoff like every outbox job) waits until those cancellations are
delivered, then, in this order, so that a failure part-way is simply retried:

1. the calendar events of the remaining (past) bookings are rewritten without the customer:
   no name or contact in the title or description, the customer removed as attendee;
2. Bookly: the customer records of our bookings are anonymised (``bookly_client``), and the
   notes of our customer-appointment rows emptied;
3. our booking rows lose the name, address, phone, time zone and invitation answer.

Kept, and why (the README says so too): the bookings' times, service and instructor (the
instructor's and school's records of lessons given); Cronofy's Smart Invites of past
bookings, which Cronofy holds until they expire (cancelling them would e-mail the customer
about lessons long past).
"""

from __future__ import annotations

import hashlib
import logging
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from bookly_client import BooklyError, BooklyGateway
from cronofy_client import Attendee, CronofyClient, CronofyError, CronofyNotFound, EventUpsert
from webapp.database import utcnow
from webapp.extensions import db
from webapp.models import (
    Booking,
    BookingStatus,
    CalendarConnection,
    DeliveryState,
    OutboxJob,
    OutboxStatus,
    User,
)
from webapp.services import audit, outbox, tokens
from webapp.services.availability.cache import AvailabilityCache
from webapp.services.bookings import calendar_check, lifecycle
from webapp.services.bookings.delivery import calendar_id_of
from webapp.services.connection_errors import CalendarConnectionError
from webapp.services.email_addresses import InvalidEmail, email_address
from webapp.services.privacy import ErasureRefused

log = logging.getLogger(__name__)

ERASE_JOB = "privacy.erase_customer"
ERASED_NAME = "Erased customer"
ERASED_DOMAIN = "erased.invalid"
MAX_ATTEMPTS = 8
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(minutes=30)
WAIT_FOR_DELIVERY = timedelta(seconds=15)


@dataclass(frozen=True, slots=True)
class CustomerErasure:
    """What an erasure request found and started."""

    subject: str  # the pseudonym the audit log uses
    bookings: int
    cancelled: int
    past: int


class ErasureFailed(Exception):
    """Cronofy or Bookly did not answer; the job retries."""


def subject_of(email: str) -> str:
    """The pseudonym of a customer's address in our audit log (a hash prefix)."""
    return "customer-" + hashlib.sha256(email.encode("utf-8")).hexdigest()[:12]


def erase_customer(
    bookly: BooklyGateway,
    organisation_id: int,
    raw_email: str,
    actor: User,
    *,
    cache: AvailabilityCache | None = None,
    now: datetime | None = None,
) -> CustomerErasure:
    """Start erasing one customer of this organisation (see the module docstring)."""
    try:
        email = email_address(raw_email).lower()
    except InvalidEmail:
        raise ErasureRefused(
            "Give the customer's e-mail address, as they booked with it."
        ) from None
    members = sa.select(User.id).where(User.organisation_id == organisation_id)
    rows = list(
        db.session.scalars(
            sa.select(Booking).where(
                Booking.instructor_id.in_(members),
                sa.func.lower(Booking.customer_email) == email,
            )
        )
    )
    now = now or utcnow()
    upcoming = [
        b.public_id for b in rows if b.status is BookingStatus.CONFIRMED and b.starts_at > now
    ]
    ids = [b.public_id for b in rows]
    db.session.rollback()
    for public_id in upcoming:
        lifecycle.cancel(bookly, public_id, cache=cache, by=f"erasure by {actor.email}")
    subject = subject_of(email)
    if ids:
        db.session.add(
            OutboxJob(kind=ERASE_JOB, payload={"bookings": ids}, next_attempt_at=utcnow())
        )
    audit.record("customer.erased", actor=actor, target=subject,
                 details={"bookings": len(ids), "cancelled": len(upcoming)})  # fmt: skip
    db.session.commit()
    return CustomerErasure(subject, len(ids), len(upcoming), len(ids) - len(upcoming))


@dataclass(frozen=True, slots=True)
class ErasureRun:
    """What one pass over due erasure jobs did."""

    done: int = 0
    waiting: int = 0
    retried: int = 0
    dead: int = 0


def run_due(
    cronofy: CronofyClient, bookly: BooklyGateway | None, *, now: datetime | None = None
) -> ErasureRun:
    """Run every due erasure job once."""
    moment = now or utcnow()
    counts = {"done": 0, "waiting": 0, "retried": 0, "dead": 0}
    for job_id in outbox.due_ids((ERASE_JOB,), moment):
        outcome = _run_one(cronofy, bookly, job_id, moment)
        if outcome is not None:
            counts[outcome] += 1
    return ErasureRun(**counts)


def _run_one(
    cronofy: CronofyClient, bookly: BooklyGateway | None, job_id: int, moment: datetime
) -> str | None:
    if bookly is None or not outbox.claim(job_id, moment):
        return None
    job = db.session.get(OutboxJob, job_id)
    if job is None:
        return None
    public_ids = [str(i) for i in (job.payload or {}).get("bookings", [])]
    rows = list(db.session.scalars(sa.select(Booking).where(Booking.public_id.in_(public_ids))))
    if any(b.delivery_state is DeliveryState.PENDING for b in rows):
        job.locked_until, job.next_attempt_at = None, moment + WAIT_FOR_DELIVERY
        db.session.commit()  # the cancellations go out first (they need the address)
        return "waiting"
    try:
        for booking in rows:
            _rewrite_event(cronofy, booking)
        bookly.anonymise_customers([b.public_id for b in rows])
    except (ErasureFailed, BooklyError) as exc:
        db.session.rollback()
        return _failed(job_id, moment, str(exc) or type(exc).__name__)
    for booking in rows:
        booking.customer_name = ERASED_NAME
        booking.customer_email = f"erased-{booking.public_id[:12]}@{ERASED_DOMAIN}"
        booking.customer_phone = ""
        booking.customer_time_zone = "UTC"
        booking.customer_reply = None
        booking.customer_replied_at = None
    job = db.session.get(OutboxJob, job_id)
    if job is not None:
        job.status, job.locked_until, job.attempts = OutboxStatus.DONE, None, job.attempts + 1
        job.payload = {"bookings": len(rows)}  # no reference to the person is kept
    db.session.commit()
    log.info("customer erasure job %s finished (%d bookings)", job_id, len(rows))
    return "done"


def _rewrite_event(cronofy: CronofyClient, booking: Booking) -> None:
    """The past booking's event without the customer (cancelled ones are deleted already)."""
    if booking.status is not BookingStatus.CONFIRMED or not booking.cronofy_event_id:
        return
    connection = db.session.scalar(
        sa.select(CalendarConnection).where(CalendarConnection.user_id == booking.instructor_id)
    )
    if connection is None or not calendar_check.usable(connection):
        return  # disconnecting removed what we wrote
    calendar = connection.write_calendar_id
    if not calendar:
        return
    event = EventUpsert(
        event_id=calendar_id_of(booking),
        summary=f"Booking: {ERASED_NAME}",
        start=booking.starts_at,
        end=booking.ends_at,
        description="The customer's details were erased at their request.",
        remove=(Attendee(booking.customer_email, None),),
    )

    def write(token: str) -> None:
        with suppress(CronofyNotFound):  # the instructor deleted it: nothing left to rewrite
            cronofy.upsert_event(token, calendar, event)

    try:
        tokens.call_with_token(cronofy, connection.id, write)
    except CalendarConnectionError:
        return
    except CronofyError as exc:
        raise ErasureFailed(f"calendar rewrite failed: {type(exc).__name__}") from exc


def _failed(job_id: int, moment: datetime, reason: str) -> str:
    job = outbox.record_failure(job_id, moment, reason, max_attempts=MAX_ATTEMPTS,
                                base=BACKOFF_BASE, cap=BACKOFF_CAP)  # fmt: skip
    return "dead" if job is None or job.status is OutboxStatus.DEAD else "retried"

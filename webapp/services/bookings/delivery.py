"""Bring the instructor's calendar and the customer's invite in line with a booking.

Run from the booking's sync job (the outbox), never inside the booking request. Idempotent:
the calendar event and the Smart Invite carry ids derived from the booking, so a retry
updates what an earlier attempt created instead of adding a second one.

* Instructor: the event is upserted into the connection's write calendar in every access
  mode (``read_write`` writes it there; ``free_busy`` and ``no_calendar`` make Cronofy e-mail
  the instructor an invite); a cancelled booking's event is deleted. No usable connection:
  nothing to write, the booking is on the Bookly schedule only.
* Customer: a Cronofy Smart Invite (the .ics Cronofy returns) in an e-mail from our mailer,
  with signed cancel and reschedule links; a cancelled booking gets the cancelling .ics.

The event holds the service, the customer's name and contact and a link; nothing else.
A failure raises ``DeliveryFailed``; the Bookly appointment is never touched here.
"""

from __future__ import annotations

import logging
from contextlib import suppress
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bookly_client import BooklyError, BooklyGateway
from cronofy_client import (
    Attendee,
    CronofyClient,
    CronofyError,
    CronofyNotFound,
    EventUpsert,
    SmartInviteEvent,
)
from webapp.extensions import db
from webapp.mail import CalendarAttachment, Mailer, MailError, OutgoingMail
from webapp.models import Booking, BookingStatus, CalendarConnection, DeliveryState, User
from webapp.services import tokens
from webapp.services.bookings import calendar_check, store
from webapp.services.bookings.errors import BookingError, BookingNotFound
from webapp.services.bookings.links import ManageLinks
from webapp.services.connection_errors import NotConnected, ReconnectRequired

log = logging.getLogger(__name__)

ID_PREFIX = "bridge-booking-"


class DeliveryFailed(BookingError):
    """Cronofy or the mail server did not take the change; the job retries it."""


@dataclass(frozen=True, slots=True)
class DeliveryContext:
    """What delivery talks to, and how it builds links."""

    cronofy: CronofyClient
    bookly: BooklyGateway | None
    mailer: Mailer
    links: ManageLinks
    smart_invite_callback_url: str


def calendar_id_of(booking: Booking) -> str:
    """The deterministic Cronofy event id (and Smart Invite id) of a booking."""
    return f"{ID_PREFIX}{booking.public_id}"


def sync(ctx: DeliveryContext, public_id: str) -> None:
    """Deliver a booking's current state to the instructor's calendar and the customer
    (the caller commits the booking's new delivery state)."""
    booking = store.by_public_id(public_id)
    if booking is None:
        log.warning("sync job for an unknown booking; nothing to do")
        return
    instructor = db.session.get(User, booking.instructor_id)
    title = _service_title(ctx.bookly, booking)
    connection = instructor.connection if instructor else None
    if connection is not None and calendar_check.usable(connection):
        _sync_calendar(ctx.cronofy, connection, booking, title, ctx.links.base_url)
    _send_invite(ctx, booking, title, instructor.name if instructor else "")
    booking.cronofy_event_id = calendar_id_of(booking)
    booking.smart_invite_id = calendar_id_of(booking)
    booking.delivery_state = DeliveryState.DELIVERED  # the caller commits (with its job)
    log.info("booking %s delivered (%s)", booking.id, booking.status)


def retry(public_id: str) -> Booking:
    """Queue the delivery again (the instructor's or admin's retry button)."""
    booking = store.by_public_id(public_id)
    if booking is None:
        raise BookingNotFound()
    booking.delivery_state = DeliveryState.PENDING
    store.queue_sync(booking)
    db.session.commit()
    return booking


def _service_title(bookly: BooklyGateway | None, booking: Booking) -> str:
    if bookly is not None:
        try:
            for service in bookly.list_services():
                if service.id == booking.bookly_service_id:
                    return service.title
        except BooklyError:
            log.warning("service title unavailable for booking %s", booking.id)
    return "Booking"


def _description(booking: Booking, title: str, base_url: str) -> str:
    contact = booking.customer_email + (
        f", {booking.customer_phone}" if booking.customer_phone else ""
    )
    return (
        f"{title}\nCustomer: {booking.customer_name} ({contact})\n"
        f"Booked through the calendar bridge: {base_url.rstrip('/')}/"
    )


def _sync_calendar(
    cronofy: CronofyClient, connection: CalendarConnection, booking: Booking, title: str,
    base_url: str,
) -> None:  # fmt: skip
    calendar = connection.write_calendar_id
    if not calendar:
        log.warning("connection %s has no write calendar; event not written", connection.id)
        return
    event_id = calendar_id_of(booking)

    def write(token: str) -> None:
        if booking.status is BookingStatus.CANCELLED:
            with suppress(CronofyNotFound):  # already gone: the goal is reached
                cronofy.delete_event(token, calendar, event_id)
            return
        cronofy.upsert_event(token, calendar, EventUpsert(
            event_id=event_id, summary=f"{title}: {booking.customer_name}",
            start=booking.starts_at, end=booking.ends_at,
            description=_description(booking, title, base_url),
            invite=(Attendee(booking.customer_email, booking.customer_name),),
        ))  # fmt: skip

    try:
        tokens.call_with_token(cronofy, connection.id, write)
    except (NotConnected, ReconnectRequired):
        log.warning("connection %s unusable; booking %s stays schedule-only", connection.id,
                    booking.id)  # fmt: skip
    except CronofyError as exc:
        raise DeliveryFailed(f"calendar write failed: {type(exc).__name__}") from exc


def _send_invite(ctx: DeliveryContext, booking: Booking, title: str, instructor: str) -> None:
    invite_id = calendar_id_of(booking)
    try:
        if booking.status is BookingStatus.CANCELLED:
            try:
                invite = ctx.cronofy.cancel_smart_invite(invite_id, booking.customer_email)
            except CronofyNotFound:
                return  # cancelled before any invite went out: nothing to take back
            method, subject = "CANCEL", f"Cancelled: {title}"
        else:
            event = SmartInviteEvent(
                summary=f"{title} with {instructor}".strip(),
                start=booking.starts_at,
                end=booking.ends_at,
                tzid=booking.customer_time_zone,
            )
            invite = ctx.cronofy.upsert_smart_invite(
                invite_id, booking.customer_email, event,
                callback_url=ctx.smart_invite_callback_url, organizer_name=instructor or None,
            )  # fmt: skip
            method, subject = "REQUEST", f"Booked: {title}"
    except CronofyError as exc:
        raise DeliveryFailed(f"smart invite failed: {type(exc).__name__}") from exc
    if not invite.icalendar:
        raise DeliveryFailed("Cronofy returned no .ics for the invite")
    message = OutgoingMail(
        to=booking.customer_email,
        subject=f"{subject} on {_local(booking)}",
        body=_customer_body(ctx.links, booking, title, instructor),
        calendar=CalendarAttachment(invite.icalendar.encode("utf-8"), method=method),
    )
    try:
        ctx.mailer.send(message)
    except MailError as exc:
        raise DeliveryFailed("the invite e-mail could not be sent") from exc


def _local(booking: Booking) -> str:
    zone = ZoneInfo(booking.customer_time_zone or "UTC")
    return booking.starts_at.astimezone(zone).strftime("%A %d %B %Y, %H:%M (%Z)")


def _customer_body(links: ManageLinks, booking: Booking, title: str, instructor: str) -> str:
    when = _local(booking)
    if booking.status is BookingStatus.CANCELLED:
        return f"Hello {booking.customer_name},\n\nyour {title} on {when} is cancelled.\n"
    return (
        f"Hello {booking.customer_name},\n\nyour {title} with {instructor} is booked for "
        f"{when}. The attached invitation adds it to your calendar.\n\n"
        f"Cancel: {links.url(booking.public_id, 'cancel')}\n"
        f"Reschedule: {links.url(booking.public_id, 'reschedule')}\n"
    )

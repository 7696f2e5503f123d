"""Booking events the instructor edited in their calendar, and the periodic repair of drift.

**Booking events** (``read_write``: the event is in the instructor's own calendar, where they
can move or delete it). After a calendar change the events we manage in the write calendar
are read once and compared with the bookings they stand for; a delivered booking whose event
was moved or deleted follows the school's policy:

* ``bookly_wins`` (the default): the booked time stands. The event is put back through the
  booking's delivery job and the instructor is told by e-mail how to change a booking.
* ``calendar_wins``: the booking follows. Deleted, it is cancelled (Bookly too; the customer
  gets the cancelling invite); moved, it is rescheduled after the same checks as any
  reschedule (Bookly's hours and grid, the other calendars); when that is refused the event is
  put back and the instructor told why.

Only bookings whose calendar side is delivered are judged: one we are still writing (just
booked, moved or restored) may differ from its event for a moment by design. Both outcomes
are audited.

**Reconciliation** (beat, every ``RECONCILE_MINUTES``): a Bookly block of ours deleted or
moved behind our back (raw SQL, wp-admin) is written again; the calendar is read in full
(``force``) so any missed change lands; managed events missing from the calendar (ours for a
booking, or a Bookly appointment's mirror) are written again. What was repaired is counted on
the connection for the health pages.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from bookly_client import BooklyError, BooklyGateway
from cronofy_client import CronofyClient, CronofyError, Event
from webapp.database import utcnow
from webapp.extensions import db
from webapp.mail import Mailer, MailError, OutgoingMail
from webapp.models import (
    AccessMode,
    Booking,
    BookingEventPolicy,
    BookingStatus,
    BooklyMirror,
    BusyBlock,
    CalendarConnection,
    DeliveryState,
    Organisation,
    User,
)
from webapp.services import audit, bookly_sync, sync, tokens
from webapp.services.availability.cache import AvailabilityCache
from webapp.services.bookings import calendar_check, lifecycle, store
from webapp.services.bookings.delivery import calendar_id_of
from webapp.services.bookings.errors import BookingError
from webapp.services.connection_errors import CalendarConnectionError

log = logging.getLogger(__name__)

BY_CALENDAR = "calendar (instructor)"


@dataclass(frozen=True, slots=True)
class EventCheck:
    """What one comparison of managed events with bookings found and did."""

    read: bool = False
    restored: int = 0  # events put back (bookly_wins, or a refused calendar_wins move)
    followed: int = 0  # bookings moved or cancelled after their event (calendar_wins)
    rewritten: int = 0  # mirrored Bookly appointments whose event was missing

    @property
    def repairs(self) -> int:
        return self.restored + self.followed + self.rewritten


@dataclass(frozen=True, slots=True)
class Reconciled:
    """What one reconciliation of a connection repaired."""

    blocks: int = 0  # Bookly blocks of ours found missing or moved, written again
    events: EventCheck = EventCheck()
    failed: str | None = None

    @property
    def repairs(self) -> int:
        return self.blocks + self.events.repairs


def _instant(value: datetime | date) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return datetime.combine(value, time(), tzinfo=UTC)


def check_booking_events(
    cronofy: CronofyClient,
    bookly: BooklyGateway,
    mailer: Mailer,
    connection_id: int,
    *,
    horizon_days: int = sync.DEFAULT_HORIZON_DAYS,
    cache: AvailabilityCache | None = None,
    now: datetime | None = None,
) -> EventCheck:
    """Compare the managed events of a read-write calendar with their bookings and mirrors."""
    moment = now or utcnow()
    connection = db.session.get(CalendarConnection, connection_id)
    if (
        connection is None
        or connection.access_mode is not AccessMode.READ_WRITE
        or not connection.write_calendar_id
        or not calendar_check.usable(connection)
    ):
        return EventCheck()
    calendar, user_id = connection.write_calendar_id, connection.user_id
    first = moment.date() - timedelta(days=1)
    last = first + timedelta(days=min(horizon_days, sync.MAX_HORIZON_DAYS) + 1)
    judged = list(
        db.session.scalars(
            sa.select(Booking).where(
                Booking.instructor_id == user_id,
                Booking.status == BookingStatus.CONFIRMED,
                Booking.delivery_state == DeliveryState.DELIVERED,
                Booking.cronofy_event_id.isnot(None),
                Booking.ends_at > moment,
                Booking.starts_at < datetime.combine(last, time(), tzinfo=UTC),
            )
        )
    )
    mirrors = list(
        db.session.scalars(
            sa.select(BooklyMirror.bookly_appointment_id).where(
                BooklyMirror.instructor_id == user_id, BooklyMirror.calendar_id == calendar
            )
        )
    )
    if not judged and not mirrors:
        return EventCheck()  # nothing of ours in this calendar: no read
    wanted = {calendar_id_of(b): (b.public_id, b.starts_at, b.ends_at) for b in judged}
    mirror_ids = {f"{bookly_sync.EVENT_PREFIX}{a}": a for a in mirrors}
    db.session.rollback()  # hold no database connection while Cronofy answers

    def read(token: str) -> list[Event]:
        return list(cronofy.read_events(
            token, from_date=first, to_date=last, only_managed=True, include_managed=True,
            include_deleted=True, calendar_ids=[calendar],
        ))  # fmt: skip

    try:
        events = tokens.call_with_token(cronofy, connection_id, read)
    except (CronofyError, CalendarConnectionError) as exc:
        log.warning("managed events of connection id=%s not read: %s", connection_id,
                    type(exc).__name__)  # fmt: skip
        return EventCheck()
    present = {e.event_id: e for e in events if e.event_id and not e.deleted}
    restored = followed = 0
    for event_id, (public_id, starts_at, ends_at) in wanted.items():
        event = present.get(event_id)
        if event is not None and (_instant(event.start), _instant(event.end)) == (
            starts_at,
            ends_at,
        ):
            continue
        if _follow_policy(cronofy, bookly, mailer, public_id, event, cache=cache):
            followed += 1
        else:
            restored += 1
    missing = [a for event_id, a in mirror_ids.items() if event_id not in present]
    rewritten = bookly_sync.queue_mirrors(missing, moment)
    db.session.commit()
    return EventCheck(read=True, restored=restored, followed=followed, rewritten=rewritten)


def _follow_policy(
    cronofy: CronofyClient, bookly: BooklyGateway, mailer: Mailer, public_id: str,
    event: Event | None, *, cache: AvailabilityCache | None,
) -> bool:  # fmt: skip
    """Apply the school's policy to one booking whose event was moved (``event``) or deleted
    (None); True when the booking followed the calendar, False when the event is put back."""
    booking = store.by_public_id(public_id)
    if booking is None:
        return False
    instructor = db.session.get(User, booking.instructor_id)
    school = db.session.get(Organisation, instructor.organisation_id) if instructor else None
    policy = school.booking_event_policy if school else BookingEventPolicy.BOOKLY_WINS
    refused: str | None = None
    if policy is BookingEventPolicy.CALENDAR_WINS:
        try:
            if event is None:
                lifecycle.cancel(bookly, public_id, cache=cache, by=BY_CALENDAR)
            else:
                lifecycle.reschedule(bookly, cronofy, public_id, _instant(event.start),
                                     cache=cache, by=BY_CALENDAR)  # fmt: skip
        except BookingError as exc:
            db.session.rollback()
            refused = str(exc)
        else:
            log.info("booking %s follows its calendar event (%s)", public_id,
                     "deleted" if event is None else "moved")  # fmt: skip
            return True
    _put_back(mailer, public_id, event, refused)
    return False


def _put_back(mailer: Mailer, public_id: str, event: Event | None, refused: str | None) -> None:
    booking = store.by_public_id(public_id)
    if booking is None:
        return
    booking.delivery_state = DeliveryState.PENDING
    store.queue_sync(booking)
    instructor = db.session.get(User, booking.instructor_id)
    audit.record(
        "booking.event_restored",
        actor_label="system",
        target=booking.public_id,
        details={"instructor_id": booking.instructor_id, "start": booking.starts_at.isoformat(),
                 "event": "deleted" if event is None else "moved",
                 **({"refused": refused[:200]} if refused else {})},
        organisation_id=instructor.organisation_id if instructor else None,
    )  # fmt: skip
    db.session.commit()
    if instructor is None:
        return
    when = booking.starts_at.astimezone(ZoneInfo(instructor.time_zone or "UTC"))
    what = "deleted" if event is None else "moved"
    why = (
        f"Moving the booking there was not possible: {refused}"
        if refused
        else "Your school keeps bookings at the time the customer booked."
    )
    try:
        mailer.send(OutgoingMail(
            to=instructor.email,
            subject=f"Booking put back in your calendar: {when:%a %d %b %H:%M}",
            body=(f"Hello {instructor.name or instructor.email},\n\nthe event of the booking "
                  f"on {when:%A %d %B %Y, %H:%M} ({when.tzname()}) was {what} in your calendar. "
                  f"{why} We have put the event back.\n\nTo move or cancel a booking, use "
                  "Bookings in the calendar bridge, so the customer is told too.\n"),
        ))  # fmt: skip
    except MailError:
        log.warning("could not tell instructor id=%s that an event was put back", instructor.id)


def reconcile_connection(
    cronofy: CronofyClient,
    bookly: BooklyGateway,
    mailer: Mailer,
    connection_id: int,
    *,
    horizon_days: int = sync.DEFAULT_HORIZON_DAYS,
    cache: AvailabilityCache | None = None,
) -> Reconciled:
    """Repair drift between one calendar and Bookly, both ways, and record what was done."""
    connection = db.session.get(CalendarConnection, connection_id)
    if connection is None or not calendar_check.usable(connection):
        return Reconciled()
    try:
        blocks = _forget_lost_blocks(bookly, connection_id)
    except BooklyError as exc:
        db.session.rollback()
        return Reconciled(failed=f"Bookly could not be read: {type(exc).__name__}")
    run = sync.sync_connection(cronofy, bookly, connection_id, horizon_days=horizon_days,
                               availability_cache=cache, force=True)  # fmt: skip
    events = check_booking_events(cronofy, bookly, mailer, connection_id,
                                  horizon_days=horizon_days, cache=cache)  # fmt: skip
    done = Reconciled(blocks=blocks, events=events, failed=run.failed)
    db.session.execute(
        sa.update(CalendarConnection)
        .where(CalendarConnection.id == connection_id)
        .values(reconciled_at=utcnow(), last_repairs=done.repairs)
    )
    db.session.commit()
    if done.repairs:
        log.info("reconciliation of connection id=%s repaired %d (blocks %d, events %d)",
                 connection_id, done.repairs, blocks, events.repairs)  # fmt: skip
    return done


def _forget_lost_blocks(bookly: BooklyGateway, connection_id: int) -> int:
    """Mapping rows whose Bookly block is gone or was moved by someone else are dropped (a
    moved one is deleted in Bookly too), so the full sync that follows writes them again."""
    rows = list(
        db.session.scalars(
            sa.select(BusyBlock).where(
                BusyBlock.connection_id == connection_id,
                BusyBlock.bookly_appointment_id.isnot(None),
            )
        )
    )
    if not rows:
        return 0
    found = bookly.appointments_by_id([int(r.bookly_appointment_id or 0) for r in rows])
    lost = 0
    for row in rows:
        block = found.get(int(row.bookly_appointment_id or 0))
        if block is not None and (block.start, block.end) == (row.starts_at, row.ends_at):
            continue
        if block is not None:
            bookly.delete_busy_block(block.id)
        db.session.delete(row)
        lost += 1
    db.session.commit()
    if lost:
        log.info("connection id=%s: %d Bookly block(s) lost or moved behind our back",
                 connection_id, lost)  # fmt: skip
    return lost


def connections_to_reconcile() -> list[int]:
    """Every usable connection."""
    every = db.session.scalars(sa.select(CalendarConnection).order_by(CalendarConnection.id))
    return [c.id for c in every if calendar_check.usable(c)]

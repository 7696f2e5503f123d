"""Bookly -> calendar: what changes in Bookly itself reaches the instructor's calendar.

Customers book through Bookly's own WordPress form and admins edit in wp-admin; those
appointments never pass through this service. A poll reads Bookly's log after a cursor kept
in ``sync_cursors`` and queues one ``bookly.mirror`` outbox job per touched appointment, in the
same commit that moves the cursor, so a change is either still ahead of the cursor or has a
job: none is lost between the two. The log misses raw-SQL edits, foreign-key cascades and rows
older than Bookly's log retention, so every ``reconcile_every`` the poll also compares a
fingerprint of each appointment in the sync window with the one stored when it was last
mirrored, and queues what differs (counted as repairs).

A job reads the appointment as it is now (not as the log entry saw it), so jobs are idempotent
and a late one never applies a stale state. Runs for one appointment never overlap (a lease
on its ``bookly_mirrors`` row, like the calendar sync's lease on the connection):

* an appointment of a managed instructor, busy in Bookly's terms and made outside this
  service, is upserted into the connection's write calendar under a deterministic event id
  (``read_write`` writes it there; ``free_busy`` and ``no_calendar`` make Cronofy e-mail the
  instructor an invite, as our own bookings do); cancelled, rejected or deleted, the event is
  deleted. No Smart Invite goes to the customer: Bookly sends its own notifications for its
  own bookings, and a second confirmation from us would only confuse.
* one of our bookings edited in wp-admin (moved, cancelled, deleted) brings our booking row in
  line and queues its delivery, so the event and the customer's invite follow.
* our busy blocks (the calendar's busy time mirrored into Bookly) are never echoed back.

Cronofy also notifies push channels of the app's own event writes; the calendar -> Bookly
direction reads free/busy, which leaves the app's managed events out, so these events never
come back as Bookly blocks.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from bookly_client import BooklyError, BooklyGateway
from bookly_client.gateway.changes import fingerprint
from bookly_client.models import Appointment
from cronofy_client import CronofyClient, CronofyError, CronofyNotFound, EventUpsert
from webapp.database import utcnow
from webapp.extensions import db
from webapp.models import (
    Booking,
    BookingStatus,
    BooklyMirror,
    BusyBlock,
    CalendarConnection,
    DeliveryState,
    OutboxJob,
    OutboxStatus,
    SyncCursor,
    User,
)
from webapp.services import audit, outbox, tokens
from webapp.services.bookings import calendar_check, store
from webapp.services.connection_errors import NotConnected, ReconnectRequired

log = logging.getLogger(__name__)

FEED = "bookly-changes"
MIRROR_JOB = "bookly.mirror"
EVENT_PREFIX = "bridge-bookly-"

POLL_BATCH = 500
MAX_BATCHES = 20  # per poll; the rest waits for the next poll
POLL_LEASE = timedelta(minutes=2)
RUN_LEASE = timedelta(minutes=2)
DEFAULT_RECONCILE_EVERY = timedelta(minutes=15)
DEFAULT_HORIZON_DAYS = 200
PAST_MARGIN = timedelta(days=1)  # an appointment that ended longer ago is left alone

MAX_ATTEMPTS = 8
BACKOFF_BASE = timedelta(seconds=15)
BACKOFF_CAP = timedelta(minutes=30)
HELD_RETRY = timedelta(seconds=5)  # another run of the appointment holds it: try again soon


@dataclass(frozen=True, slots=True)
class PollRun:
    """What one poll did."""

    entries: int = 0  # Bookly log rows read
    queued: int = 0  # mirror jobs queued (from the log and the reconciliation)
    reconciled: bool = False
    repairs: int = 0  # differences only the reconciliation found
    skipped: bool = False  # another poll held the cursor


@dataclass(frozen=True, slots=True)
class MirrorRun:
    """What one pass over due mirror jobs did."""

    done: int = 0
    retried: int = 0
    dead: int = 0


class MirrorFailed(Exception):
    """Cronofy or Bookly did not answer; the job retries."""


# -- the poll --------------------------------------------------------------------------------


def poll(
    bookly: BooklyGateway,
    *,
    now: datetime | None = None,
    reconcile_every: timedelta = DEFAULT_RECONCILE_EVERY,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
) -> PollRun:
    """Read Bookly's log after the cursor and queue what changed; reconcile when due.

    The first poll starts at the newest log row and reconciles the whole window instead of
    replaying history. Raises BooklyError when Bookly cannot be read (nothing is changed).
    """
    moment = now or utcnow()
    if not _take_cursor(moment):
        return PollRun(skipped=True)
    try:
        cursor = db.session.get(SyncCursor, FEED)
        if cursor is None:  # _take_cursor created it; deleted meanwhile by hand
            return PollRun(skipped=True)
        first = cursor.polled_at is None
        if first:
            cursor.position = bookly.latest_cursor()
        entries = queued = 0
        for _ in range(MAX_BATCHES):
            batch = bookly.changes_since(cursor.position, limit=POLL_BATCH)
            entries += len(batch.entries)
            queued += _queue(batch.appointment_ids, moment)
            cursor.position = batch.cursor
            db.session.commit()  # the jobs and the cursor move together
            if len(batch.entries) < POLL_BATCH:
                break
        run = PollRun(entries=entries, queued=queued)
        due = cursor.reconciled_at is None or moment - cursor.reconciled_at >= reconcile_every
        if first or due:
            repairs = _reconcile(bookly, moment, horizon_days)
            cursor.reconciled_at, cursor.last_repairs = moment, repairs
            run = PollRun(entries, queued + repairs, reconciled=True, repairs=repairs)
        cursor.polled_at = moment
        db.session.commit()
        return run
    except Exception:
        db.session.rollback()
        raise
    finally:
        _release_cursor()


def _take_cursor(moment: datetime) -> bool:
    if db.session.get(SyncCursor, FEED) is None:
        db.session.add(SyncCursor(name=FEED, position=0, last_repairs=0))
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()  # another poll created it
    result = db.session.execute(
        sa.update(SyncCursor)
        .where(
            SyncCursor.name == FEED,
            sa.or_(SyncCursor.locked_until.is_(None), SyncCursor.locked_until < moment),
        )
        .values(locked_until=moment + POLL_LEASE)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return getattr(result, "rowcount", 0) == 1


def _release_cursor() -> None:
    db.session.execute(
        sa.update(SyncCursor)
        .where(SyncCursor.name == FEED)
        .values(locked_until=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def _our_block_ids(ids: Iterable[int]) -> set[int]:
    wanted = list(ids)
    if not wanted:
        return set()
    found = db.session.scalars(
        sa.select(BusyBlock.bookly_appointment_id).where(
            BusyBlock.bookly_appointment_id.in_(wanted)
        )
    )
    return {int(i) for i in found if i is not None}


def _queue(appointment_ids: Iterable[int], moment: datetime) -> int:
    """Add a mirror job per appointment (our busy blocks left out); the caller commits."""
    ids = set(appointment_ids)
    ids -= _our_block_ids(ids)
    for appointment_id in sorted(ids):
        db.session.add(
            OutboxJob(kind=MIRROR_JOB, payload={"appointment": appointment_id},
                      next_attempt_at=moment)
        )  # fmt: skip
    return len(ids)


def queue_mirrors(appointment_ids: Iterable[int], moment: datetime | None = None) -> int:
    """Queue a mirror job for each of these appointments (the caller commits)."""
    return _queue(appointment_ids, moment or utcnow())


def reconcile_soon() -> None:
    """Make the next poll compare the whole window (a calendar was just connected: its
    instructor's Bookly appointments should reach it now, not at the next period).
    Joins the caller's transaction (its half-built rows are not flushed by this)."""
    with db.session.no_autoflush:
        db.session.execute(
            sa.update(SyncCursor)
            .where(SyncCursor.name == FEED)
            .values(reconciled_at=None)
            .execution_options(synchronize_session=False)
        )


def managed_staff() -> dict[int, int]:
    """Bookly staff id -> instructor id, for active instructors linked to a staff member."""
    rows = db.session.execute(
        sa.select(User.bookly_staff_id, User.id).where(
            User.bookly_staff_id.isnot(None), User.active.is_(True)
        )
    )
    return {int(staff): int(user) for staff, user in rows if staff is not None}


def _stale(connected_at: datetime | None, synced_at: datetime | None) -> bool:
    return connected_at is not None and (synced_at is None or synced_at < connected_at)


def _reconcile(bookly: BooklyGateway, moment: datetime, horizon_days: int) -> int:
    """Queue a job for each appointment whose row differs from what was last mirrored."""
    staff = managed_staff()
    if not staff:
        return 0
    # A mirror decided before its instructor's calendar was connected (or reconnected) is
    # decided again: left out of ``known``, it comes back as a difference.
    connected: dict[int | None, datetime | None] = dict(
        db.session.execute(
            sa.select(CalendarConnection.user_id, CalendarConnection.connected_at)
        ).all()
    )
    known: dict[int, str] = {
        int(a): str(f)
        for a, f, instructor, synced in db.session.execute(
            sa.select(
                BooklyMirror.bookly_appointment_id, BooklyMirror.fingerprint,
                BooklyMirror.instructor_id, BooklyMirror.synced_at,
            ).where(BooklyMirror.fingerprint.isnot(None))
        )
        if not _stale(connected.get(instructor), synced)
    }  # fmt: skip
    result = bookly.reconcile(
        known, moment - PAST_MARGIN, moment + timedelta(days=horizon_days),
        staff_ids=sorted(staff),
    )  # fmt: skip
    changed = [c.appointment_id for c in result.changes]
    ours = set(
        db.session.scalars(
            sa.select(Booking.bookly_appointment_id).where(
                Booking.bookly_appointment_id.in_(changed)
            )
        )
    )
    # Our own bookings and blocks have no mirror row: they differ every time by design.
    drift = [
        c.appointment_id
        for c in result.changes
        if c.appointment_id not in ours
        and not (c.appointment is not None and c.appointment.is_ours)
    ]
    queued = _queue(drift, moment)
    db.session.commit()
    if queued:
        log.info("Bookly reconciliation: %d appointment(s) differed from their mirror", queued)
    return queued


# -- the jobs --------------------------------------------------------------------------------


def run_due(
    cronofy: CronofyClient, bookly: BooklyGateway, *, now: datetime | None = None
) -> MirrorRun:
    """Run every due mirror job once."""
    moment = now or utcnow()
    outcomes = [
        run_one(cronofy, bookly, job_id, moment) for job_id in outbox.due_ids((MIRROR_JOB,), moment)
    ]
    return MirrorRun(
        done=outcomes.count(OutboxStatus.DONE),
        retried=outcomes.count(OutboxStatus.PENDING),
        dead=outcomes.count(OutboxStatus.DEAD),
    )


def run_one(
    cronofy: CronofyClient, bookly: BooklyGateway, job_id: int, moment: datetime
) -> OutboxStatus | None:
    """Claim and run one mirror job; its new status (None when another worker holds it)."""
    if not outbox.claim(job_id, moment):
        return None
    job = db.session.get(OutboxJob, job_id)
    if job is None:
        return None
    appointment_id = int((job.payload or {}).get("appointment", 0))
    if not _take_appointment(appointment_id, moment):
        job.locked_until, job.next_attempt_at = None, moment + HELD_RETRY
        db.session.commit()
        return OutboxStatus.PENDING
    try:
        mirror_appointment(cronofy, bookly, appointment_id, now=moment)
    except MirrorFailed as exc:
        db.session.rollback()
        _release_appointment(appointment_id)
        return _failed(job_id, moment, str(exc))
    except Exception:
        db.session.rollback()
        _release_appointment(appointment_id)
        raise
    job = db.session.get(OutboxJob, job_id)
    if job is not None:
        job.status, job.locked_until = OutboxStatus.DONE, None
        job.attempts += 1
    mirror = _mirror_row(appointment_id)
    if mirror is not None:
        mirror.locked_until = None
    db.session.commit()
    return OutboxStatus.DONE


def _failed(job_id: int, moment: datetime, reason: str) -> OutboxStatus:
    job = outbox.record_failure(job_id, moment, reason, max_attempts=MAX_ATTEMPTS,
                                base=BACKOFF_BASE, cap=BACKOFF_CAP)  # fmt: skip
    return job.status if job is not None else OutboxStatus.DEAD


def _mirror_row(appointment_id: int) -> BooklyMirror | None:
    return db.session.scalars(
        sa.select(BooklyMirror).where(BooklyMirror.bookly_appointment_id == appointment_id)
    ).first()


def _take_appointment(appointment_id: int, moment: datetime) -> bool:
    """Hold the appointment's mirror row (created on first sight) until ``RUN_LEASE``."""
    if _mirror_row(appointment_id) is None:
        db.session.add(
            BooklyMirror(bookly_appointment_id=appointment_id,
                         event_id=f"{EVENT_PREFIX}{appointment_id}")
        )  # fmt: skip
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()  # another run created it first
    result = db.session.execute(
        sa.update(BooklyMirror)
        .where(
            BooklyMirror.bookly_appointment_id == appointment_id,
            sa.or_(BooklyMirror.locked_until.is_(None), BooklyMirror.locked_until < moment),
        )
        .values(locked_until=moment + RUN_LEASE)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return getattr(result, "rowcount", 0) == 1


def _release_appointment(appointment_id: int) -> None:
    db.session.execute(
        sa.update(BooklyMirror)
        .where(BooklyMirror.bookly_appointment_id == appointment_id)
        .values(locked_until=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def mirror_appointment(
    cronofy: CronofyClient, bookly: BooklyGateway, appointment_id: int, *,
    now: datetime | None = None,
) -> str:  # fmt: skip
    """Bring the calendar in line with the appointment as Bookly has it now (the caller
    commits); returns what was done: "written", "removed", "booking" or "nothing"."""
    try:
        appointment = bookly.appointments_by_id([appointment_id]).get(appointment_id)
    except BooklyError as exc:
        raise MirrorFailed(f"Bookly could not be read: {type(exc).__name__}") from exc
    booking = db.session.scalars(
        sa.select(Booking).where(Booking.bookly_appointment_id == appointment_id)
    ).first()
    if booking is not None:
        return "booking" if _follow_booking(booking, appointment) else "nothing"
    mirror = _mirror_row(appointment_id)
    if mirror is None:  # run_one creates it; a direct call may not have
        mirror = BooklyMirror(bookly_appointment_id=appointment_id,
                              event_id=f"{EVENT_PREFIX}{appointment_id}")  # fmt: skip
        db.session.add(mirror)
    moment = now or utcnow()
    instructor = _instructor_of(appointment)
    connection = instructor.connection if instructor else None
    wanted = (
        appointment is not None
        and not appointment.is_ours
        and appointment.is_busy
        and appointment.end > moment - PAST_MARGIN
        and calendar_check.usable(connection)
        and bool(connection and connection.write_calendar_id)
    )
    outcome = "nothing"
    if mirror.calendar_id and (
        not wanted or mirror.calendar_id != _write_calendar(connection)
        or mirror.instructor_id != (instructor.id if instructor else None)
    ):  # fmt: skip
        # Deleted where it was written: the instructor it was mirrored for (the appointment
        # may be gone, or moved to another staff member).
        previous = db.session.get(User, mirror.instructor_id) if mirror.instructor_id else None
        _delete_event(cronofy, mirror, previous.connection if previous else None)
        outcome = "removed"
    mirror.instructor_id = instructor.id if instructor else None
    if wanted and appointment is not None and connection is not None:
        _write_event(cronofy, connection, mirror, appointment)
        outcome = "written"
    mirror.fingerprint = fingerprint(appointment) if appointment is not None else None
    mirror.synced_at = moment
    return outcome


def _write_calendar(connection: CalendarConnection | None) -> str | None:
    return connection.write_calendar_id if connection is not None else None


def _instructor_of(appointment: Appointment | None) -> User | None:
    if appointment is None:
        return None
    return db.session.scalars(
        sa.select(User).where(User.bookly_staff_id == appointment.staff_id, User.active.is_(True))
    ).first()


def _summary(appointment: Appointment) -> str:
    names = ", ".join(c.customer_name for c in appointment.customers if c.customer_name)
    title = appointment.title or "Busy"
    return f"{title}: {names}" if names else title


def _write_event(
    cronofy: CronofyClient, connection: CalendarConnection, mirror: BooklyMirror,
    appointment: Appointment,
) -> None:  # fmt: skip
    calendar = connection.write_calendar_id
    if not calendar:  # checked by the caller
        return
    event = EventUpsert(
        event_id=mirror.event_id,
        summary=_summary(appointment),
        start=appointment.start,
        end=appointment.end,
        description=f"{appointment.title or 'Appointment'}\nBooked in Bookly.",
    )

    def write(token: str) -> None:
        cronofy.upsert_event(token, calendar, event)

    try:
        tokens.call_with_token(cronofy, connection.id, write)
    except (NotConnected, ReconnectRequired):
        log.warning("connection %s unusable; Bookly appointment not mirrored", connection.id)
        return
    except CronofyError as exc:
        raise MirrorFailed(f"calendar write failed: {type(exc).__name__}") from exc
    mirror.calendar_id = calendar


def _delete_event(
    cronofy: CronofyClient, mirror: BooklyMirror, connection: CalendarConnection | None
) -> None:
    calendar = mirror.calendar_id
    if connection is None or not calendar or not calendar_check.usable(connection):
        # The connection is gone: disconnecting deleted or revoked what we wrote.
        mirror.calendar_id = None
        return

    def delete(token: str) -> None:
        with suppress(CronofyNotFound):  # already gone: the goal is reached
            cronofy.delete_event(token, calendar, mirror.event_id)

    try:
        tokens.call_with_token(cronofy, connection.id, delete)
    except (NotConnected, ReconnectRequired):
        log.warning("connection %s unusable; mirrored event left to the disconnect", connection.id)
    except CronofyError as exc:
        raise MirrorFailed(f"calendar delete failed: {type(exc).__name__}") from exc
    mirror.calendar_id = None


def _follow_booking(booking: Booking, appointment: Appointment | None) -> bool:
    """Our booking edited in Bookly (wp-admin): follow it; True when the row changed."""
    if booking.status is BookingStatus.CANCELLED:
        return False  # nothing to follow: a cancelled booking is never revived from here
    if appointment is None or not appointment.is_busy:
        booking.status = BookingStatus.CANCELLED
        booking.cancelled_at = utcnow()
        action = "booking.cancelled"
    elif (appointment.start, appointment.end) != (booking.starts_at, booking.ends_at):
        booking.starts_at, booking.ends_at = appointment.start, appointment.end
        action = "booking.rescheduled"
    else:
        return False
    booking.delivery_state = DeliveryState.PENDING
    store.queue_sync(booking)
    instructor = db.session.get(User, booking.instructor_id)
    audit.record(
        action,
        actor_label="bookly",
        target=booking.public_id,
        details={"instructor_id": booking.instructor_id, "start": booking.starts_at.isoformat(),
                 "source": "changed in Bookly"},
        organisation_id=instructor.organisation_id if instructor else None,
    )  # fmt: skip
    log.info("booking %s follows a change made in Bookly (%s)", booking.id, action)
    return True


# -- health ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FeedStatus:
    """How the Bookly -> calendar direction is doing."""

    polled_at: datetime | None
    reconciled_at: datetime | None
    last_repairs: int
    pending: int
    dead: int


def feed_status() -> FeedStatus:
    """The cursor's times and the mirror jobs waiting or dead."""
    cursor = db.session.get(SyncCursor, FEED)
    counts = dict(
        db.session.execute(
            sa.select(OutboxJob.status, sa.func.count())
            .where(OutboxJob.kind == MIRROR_JOB)
            .where(OutboxJob.status.in_((OutboxStatus.PENDING, OutboxStatus.DEAD)))
            .group_by(OutboxJob.status)
        ).all()
    )
    return FeedStatus(
        polled_at=cursor.polled_at if cursor else None,
        reconciled_at=cursor.reconciled_at if cursor else None,
        last_repairs=cursor.last_repairs if cursor else 0,
        pending=int(counts.get(OutboxStatus.PENDING, 0)),
        dead=int(counts.get(OutboxStatus.DEAD, 0)),
    )

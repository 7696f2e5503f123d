"""Calendar -> Bookly sync: the instructor's busy time mirrored as Bookly busy blocks.

One run per connection handles every pending ``change`` notification of that connection at
once (a burst costs one read, not one per notification): it reads free/busy of the conflict
calendars over the sync horizon (start and end only, never titles; Cronofy leaves out the
app's own managed events, so our booking events never come back as blocks) and makes the
Bookly blocks in ``busy_blocks`` equal to it: new periods are created, vanished ones moved
onto new periods or deleted. Only a completed read deletes anything: a failed read changes
nothing and leaves the notifications pending for the next try.

A connection never synced (just connected) or told ``profile_initial_sync_required`` runs
even without a pending change, which closes the gap before its channel existed.

Runs of one connection never overlap (two would each create a block for the same new
period): a run holds a lease on the connection row, renewed with every Bookly write. A run
that finds the lease held leaves at once; the holder looks for pending notifications after
letting go and runs again for them, so none is left behind. A lease of a killed worker
expires after ``LEASE`` and the beat sweep takes the work up.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, cast

import sqlalchemy as sa

from bookly_client import BooklyError, BooklyGateway
from cronofy_client import CronofyClient, CronofyError
from webapp.database import utcnow
from webapp.extensions import db
from webapp.models import BusyBlock, CalendarConnection, InboundNotification, User
from webapp.services.availability.cache import AvailabilityCache
from webapp.services.bookings.calendar_check import busy_periods, target_of
from webapp.services.connection_errors import CalendarConnectionError
from webapp.services.connection_health import record_heard_from

log = logging.getLogger(__name__)

# Cronofy's free/busy reads at most 201 days ahead; Bookly's own horizon may be shorter.
MAX_HORIZON_DAYS = 200
DEFAULT_HORIZON_DAYS = 200

Period = tuple[datetime, datetime]

LEASE = timedelta(minutes=2)  # longer than one read (<= 60 s with retries) or one Bookly write
MAX_ROUNDS = 5  # runs one call makes for notifications that arrived meanwhile; then the sweep
# A worker reads one connection at most once per BURST_GAP: a burst of notifications costs a
# read at its start and one after it (a lone change is still read at once).
BURST_GAP = timedelta(seconds=2)


@dataclass(frozen=True, slots=True)
class SyncRun:
    """What one run did for one connection."""

    read: bool  # whether free/busy was read (False: nothing pending, or not usable)
    created: int = 0
    moved: int = 0
    deleted: int = 0
    failed: str | None = None  # plain words when the run stopped early; retried later
    skipped: bool = False  # another run of this connection held the lease
    # Seconds until this connection may be read again (a burst is read at most once per
    # ``min_gap``); the caller runs the sync again then. None: nothing left waiting.
    retry_in: float | None = None

    def then(self, later: SyncRun) -> SyncRun:
        """This run followed by ``later`` (one call may run several rounds)."""
        return SyncRun(
            read=self.read or later.read,
            created=self.created + later.created,
            moved=self.moved + later.moved,
            deleted=self.deleted + later.deleted,
            failed=later.failed,
            skipped=later.skipped,
            retry_in=later.retry_in,
        )


NOTHING = SyncRun(read=False)
HELD = SyncRun(read=False, skipped=True)


def connections_to_sync() -> list[int]:
    """Connections with pending notifications or never synced (what a sweep should run)."""
    pending = sa.select(InboundNotification.connection_id).where(
        InboundNotification.processed_at.is_(None), InboundNotification.connection_id.isnot(None)
    )
    never = sa.select(CalendarConnection.id).where(CalendarConnection.last_synced_at.is_(None))
    ids = {int(i) for i in db.session.scalars(pending.union(never)) if i is not None}
    return sorted(ids)


def sync_connection(
    cronofy: CronofyClient,
    bookly: BooklyGateway,
    connection_id: int,
    *,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    availability_cache: AvailabilityCache | None = None,
    force: bool = False,
    min_gap: timedelta | None = None,
) -> SyncRun:
    """Mirror the connection's busy time into Bookly, one run at a time per connection.

    With ``min_gap`` (a worker, where a delayed run can be queued) a connection read less
    than ``min_gap`` ago is not read again yet: the run answers ``retry_in`` and the caller
    queues it for then, so a burst of notifications costs a read at its start and one after
    it, however many arrive. Without it (tasks run inline) every run reads.
    """
    if db.session.get(CalendarConnection, connection_id) is None:
        return NOTHING  # disconnected since the notification came
    done: SyncRun | None = None
    for _ in range(MAX_ROUNDS):
        wait = _too_soon(connection_id, min_gap) if min_gap and not force else None
        if wait is not None:
            deferred = SyncRun(read=False, retry_in=wait)
            return done.then(deferred) if done else deferred
        if not _take_lease(connection_id):
            log.info("connection id=%s is being synced by another run; it takes these "
                     "notifications too", connection_id)  # fmt: skip
            return done.then(HELD) if done else HELD
        try:
            run = _sync_once(cronofy, bookly, connection_id, horizon_days=horizon_days,
                             availability_cache=availability_cache, force=force)  # fmt: skip
        finally:
            _release_lease(connection_id)
        done = done.then(run) if done else run
        force = False
        # Notifications stored while this run read or wrote (their own kicks found the lease
        # held and left them to us) get a run of their own now.
        if run.failed is not None or not run.read or not _pending_ids(connection_id):
            break
    return done or NOTHING


def _too_soon(connection_id: int, min_gap: timedelta) -> float | None:
    """Seconds until the connection may be read again, when it has pending notifications
    and was read less than ``min_gap`` ago; else None."""
    last = db.session.scalar(
        sa.select(CalendarConnection.last_synced_at).where(CalendarConnection.id == connection_id)
    )
    if last is None:
        return None
    wait = (last + min_gap - utcnow()).total_seconds()
    if wait <= 0 or not _pending_ids(connection_id):
        return None
    return wait


def _take_lease(connection_id: int) -> bool:
    """Compare-and-set the connection's sync lease; False when another run holds it."""
    now = utcnow()
    try:
        result = db.session.execute(
            sa.update(CalendarConnection)
            .where(
                CalendarConnection.id == connection_id,
                sa.or_(
                    CalendarConnection.sync_lease_until.is_(None),
                    CalendarConnection.sync_lease_until < now,
                ),
            )
            .values(sync_lease_until=now + LEASE)
        )
        db.session.commit()
    except sa.exc.OperationalError as exc:  # SQLite: another writer kept the file locked
        db.session.rollback()
        if "database is locked" not in str(exc.orig):
            raise
        return False
    return cast("sa.CursorResult[Any]", result).rowcount == 1


def _renew_lease(connection_id: int) -> None:
    """Keep the lease while writing (joins the caller's transaction)."""
    db.session.execute(
        sa.update(CalendarConnection)
        .where(CalendarConnection.id == connection_id)
        .values(sync_lease_until=utcnow() + LEASE)
    )


def _release_lease(connection_id: int) -> None:
    db.session.rollback()  # whatever a failed write left open
    db.session.execute(
        sa.update(CalendarConnection)
        .where(CalendarConnection.id == connection_id)
        .values(sync_lease_until=None)
    )
    db.session.commit()


def _sync_once(
    cronofy: CronofyClient,
    bookly: BooklyGateway,
    connection_id: int,
    *,
    horizon_days: int,
    availability_cache: AvailabilityCache | None,
    force: bool,
) -> SyncRun:
    """One run under the lease: read free/busy once, then make Bookly's blocks match it."""
    connection = db.session.get(CalendarConnection, connection_id)
    target = target_of(connection)
    if connection is None or target is None:
        return NOTHING
    staff_id = db.session.scalar(
        sa.select(User.bookly_staff_id).where(User.id == connection.user_id)
    )
    user_id = connection.user_id
    pending = _pending_ids(connection_id)
    if not (pending or force or connection.last_synced_at is None):
        return NOTHING  # an earlier run of this burst already took these notifications
    if staff_id is None:
        _finish(connection_id, pending)
        return NOTHING
    db.session.commit()  # hold no transaction while Cronofy answers
    first = utcnow().date() - timedelta(days=1)
    last = first + timedelta(days=min(horizon_days, MAX_HORIZON_DAYS) + 1)
    try:
        periods = busy_periods(cronofy, target, first, last)
    except (CronofyError, CalendarConnectionError) as exc:
        log.warning("free/busy read failed for connection id=%s: %s", connection_id,
                    type(exc).__name__)  # fmt: skip
        return SyncRun(read=False, failed="The calendar could not be read; will try again.")
    wanted = {_period(p.start, p.end) for p in periods}
    run = _apply(bookly, connection_id, staff_id, wanted, _window(first, last))
    if run.failed is None:
        _finish(connection_id, pending)
    if availability_cache is not None:  # the calendar changed: views ask Cronofy again
        availability_cache.drop([user_id])
    log.info("calendar sync of connection id=%s: %d created, %d moved, %d deleted",
             connection_id, run.created, run.moved, run.deleted)  # fmt: skip
    return run


def _pending_ids(connection_id: int) -> list[int]:
    return list(
        db.session.scalars(
            sa.select(InboundNotification.id).where(
                InboundNotification.connection_id == connection_id,
                InboundNotification.processed_at.is_(None),
            )
        )
    )


def _finish(connection_id: int, pending: list[int]) -> None:
    """Mark the notifications this run covered as processed and the connection as synced
    (and as having heard from Cronofy when the newest of them arrived)."""
    now = utcnow()
    if pending:
        newest = db.session.scalar(
            sa.select(sa.func.max(InboundNotification.received_at))
            .where(InboundNotification.id.in_(pending))
        )  # fmt: skip
        db.session.execute(
            sa.update(InboundNotification)
            .where(InboundNotification.id.in_(pending))
            .values(processed_at=now)
        )
        if newest is not None:
            record_heard_from(connection_id, newest)
    db.session.execute(
        sa.update(CalendarConnection)
        .where(CalendarConnection.id == connection_id)
        .values(last_synced_at=now)
    )
    db.session.commit()


def _window(first: date, last: date) -> Period:
    return (
        datetime.combine(first, time(), tzinfo=UTC),
        datetime.combine(last, time(), tzinfo=UTC),
    )


def _period(start: datetime | date, end: datetime | date) -> Period:
    """A free/busy period as aware UTC datetimes (all-day dates become UTC midnights)."""

    def instant(value: datetime | date) -> datetime:
        if isinstance(value, datetime):
            return value.astimezone(UTC)
        return datetime.combine(value, time(), tzinfo=UTC)

    return instant(start), instant(end)


def _apply(
    bookly: BooklyGateway, connection_id: int, staff_id: int, wanted: set[Period], window: Period
) -> SyncRun:
    """Create, move and delete blocks so the mapped ones inside ``window`` equal ``wanted``.

    Each Bookly write is committed with its mapping row at once, so a failure part-way keeps
    what was done and the next run neither duplicates nor loses a block.
    """
    rows = db.session.scalars(
        sa.select(BusyBlock)
        .where(
            BusyBlock.connection_id == connection_id,
            BusyBlock.ends_at > window[0],
            BusyBlock.starts_at < window[1],
        )
        .order_by(BusyBlock.starts_at)
    ).all()
    have = {(row.starts_at, row.ends_at) for row in rows}
    stale = [row for row in rows if (row.starts_at, row.ends_at) not in wanted]
    new = sorted(p for p in wanted if p not in have and p[1] > p[0])
    movable = [row for row in stale if row.bookly_appointment_id is not None]
    pairs = list(zip(movable, new, strict=False))
    gone = [row for row in stale if row not in {row for row, _ in pairs}]
    created = moved = deleted = 0
    try:
        for row, (start, end) in pairs:
            bookly.move_busy_block(row.bookly_appointment_id or 0, start, end)
            row.starts_at, row.ends_at = start, end
            _renew_lease(connection_id)
            db.session.commit()
            moved += 1
        for row in gone:
            if row.bookly_appointment_id is not None:
                bookly.delete_busy_block(row.bookly_appointment_id)
            db.session.delete(row)
            _renew_lease(connection_id)
            db.session.commit()
            deleted += 1
        for start, end in new[moved:]:
            block = bookly.create_busy_block(staff_id, start, end)
            db.session.add(
                BusyBlock(
                    connection_id=connection_id,
                    starts_at=start,
                    ends_at=end,
                    bookly_appointment_id=block.id,
                )
            )
            _renew_lease(connection_id)
            db.session.commit()
            created += 1
    except BooklyError as exc:
        db.session.rollback()
        log.warning("Bookly write failed for connection id=%s: %s", connection_id,
                    type(exc).__name__)  # fmt: skip
        return SyncRun(True, created, moved, deleted, "Bookly could not be written; will retry.")
    return SyncRun(True, created, moved, deleted)


@dataclass(frozen=True, slots=True)
class SyncStatus:
    """Calendar -> Bookly sync state of one connection (for ``flask sync status``)."""

    connection_id: int
    email: str
    status: str
    last_notification_at: datetime | None
    last_synced_at: datetime | None
    pending: int
    blocks: int
    has_channel: bool = True  # Cronofy announces this calendar's changes to us


def sync_status() -> list[SyncStatus]:
    """Every connection's sync state, by instructor e-mail."""
    pending = (
        sa.select(sa.func.count())
        .where(
            InboundNotification.connection_id == CalendarConnection.id,
            InboundNotification.processed_at.is_(None),
        )
        .scalar_subquery()
    )
    newest_pending = (
        sa.select(sa.func.max(InboundNotification.received_at))
        .where(
            InboundNotification.connection_id == CalendarConnection.id,
            InboundNotification.processed_at.is_(None),
        )
        .scalar_subquery()
    )
    blocks = (
        sa.select(sa.func.count())
        .where(BusyBlock.connection_id == CalendarConnection.id)
        .scalar_subquery()
    )
    rows = db.session.execute(
        sa.select(CalendarConnection, User.email, pending, newest_pending, blocks)
        .join(User, User.id == CalendarConnection.user_id)
        .order_by(User.email)
    ).all()
    return [
        SyncStatus(
            connection.id,
            email,
            connection.status.value,
            _latest(connection.last_notification_at, newest),
            connection.last_synced_at,
            int(waiting or 0),
            int(mapped or 0),
            connection.channel_id is not None,
        )
        for connection, email, waiting, newest, mapped in rows
    ]


def connection_ids(email: str | None = None) -> list[int]:
    """Ids of every connection, or of the instructor with this e-mail (empty when none)."""
    query = sa.select(CalendarConnection.id).join(User, User.id == CalendarConnection.user_id)
    if email is not None:
        query = query.where(sa.func.lower(User.email) == email.strip().lower())
    return list(db.session.scalars(query.order_by(CalendarConnection.id)))


LAG_WORTH_SAYING = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class SyncHealth:
    """One instructor's sync, both ways, for their calendars page."""

    blocks: int  # calendar busy times mirrored into Bookly
    waiting: int  # calendar changes not yet in Bookly
    oldest_waiting_at: datetime | None
    bookings_not_delivered: int  # bookings whose calendar side failed after every retry
    bookings_being_delivered: int
    # When Cronofy last told us of a change: the newest waiting one, else what the sync
    # runs recorded on the connection (the receiver does not write the connection row).
    last_notification_at: datetime | None = None

    @property
    def behind(self) -> bool:
        """Changes have waited long enough that something is wrong (a worker down?)."""
        return self.oldest_waiting_at is not None and (
            utcnow() - self.oldest_waiting_at > LAG_WORTH_SAYING
        )


def sync_health(connection: CalendarConnection) -> SyncHealth:
    """Counts and ages from our database (no Cronofy or Bookly call)."""
    from webapp.models import Booking, DeliveryState

    waiting = sa.and_(
        InboundNotification.connection_id == connection.id,
        InboundNotification.processed_at.is_(None),
    )
    deliveries = dict(
        db.session.execute(
            sa.select(Booking.delivery_state, sa.func.count())
            .where(Booking.instructor_id == connection.user_id)
            .group_by(Booking.delivery_state)
        ).all()
    )
    count, oldest, newest = db.session.execute(
        sa.select(
            sa.func.count(),
            sa.func.min(InboundNotification.received_at),
            sa.func.max(InboundNotification.received_at),
        ).where(waiting)
    ).one()
    return SyncHealth(
        blocks=db.session.scalar(
            sa.select(sa.func.count()).select_from(BusyBlock)
            .where(BusyBlock.connection_id == connection.id)
        ) or 0,
        waiting=count or 0,
        oldest_waiting_at=oldest,
        bookings_not_delivered=int(deliveries.get(DeliveryState.FAILED, 0)),
        bookings_being_delivered=int(deliveries.get(DeliveryState.PENDING, 0)),
        last_notification_at=_latest(connection.last_notification_at, newest),
    )  # fmt: skip


def _latest(*moments: datetime | None) -> datetime | None:
    known = [moment for moment in moments if moment is not None]
    return max(known) if known else None

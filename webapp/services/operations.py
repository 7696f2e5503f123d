"""What an organisation's admin sees of the sync's health, and what they can do about it.

Everything here reads our own database (no Cronofy or Bookly call, so the page answers while
either is down). Background jobs are shown for the organisation they concern: a booking's
delivery through its instructor, a Bookly appointment's mirror through the instructor it was
mirrored for; jobs of no organisation are counted, never described, to a school's admin.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from webapp.database import utcnow
from webapp.extensions import db
from webapp.models import (
    Booking,
    BookingEventPolicy,
    BooklyMirror,
    CalendarConnection,
    ConnectionStatus,
    DeliveryState,
    Organisation,
    OutboxJob,
    OutboxStatus,
    Role,
    User,
)
from webapp.services import audit, bookly_sync, sync
from webapp.services.bookings import store

# Kinds whose jobs belong to one organisation, in plain words.
WHAT_FAILED = {
    store.SYNC_JOB: "A booking's calendar event or the customer's invitation was not written.",
    bookly_sync.MIRROR_JOB: "An appointment made in Bookly was not copied into the calendar.",
}
WHAT_TO_DO = (
    "Check the instructor's calendar on the list above (reconnect it if it asks), then press "
    "Retry. If it fails again, Cronofy or Bookly may be down: try again later."
)
LAG_WORTH_SAYING = sync.LAG_WORTH_SAYING


class JobNotFound(LookupError):
    """No dead job with that id for this organisation."""


@dataclass(frozen=True, slots=True)
class InstructorSync:
    """One instructor's sync, both ways."""

    user_id: int
    name: str
    connection: str  # connected, needs reconnect, not connected
    last_notification_at: datetime | None
    last_synced_at: datetime | None
    waiting: int
    oldest_waiting_at: datetime | None
    blocks: int
    reconciled_at: datetime | None
    last_repairs: int
    not_delivered: int
    has_channel: bool = True  # Cronofy announces this calendar's changes to us

    @property
    def advice(self) -> str:
        """What to do about this instructor, in one sentence (empty when all is well)."""
        if self.connection == "not connected":
            return "No calendar: bookings use the Bookly schedule alone. Ask them to connect."
        if self.connection != "connected":
            return "The calendar needs reconnecting: ask the instructor to connect it again."
        if self.oldest_waiting_at and utcnow() - self.oldest_waiting_at > LAG_WORTH_SAYING:
            return "Calendar changes are waiting: check that the background worker is running."
        if not self.has_channel:
            return (
                "Cronofy does not announce this calendar's changes yet: they reach Bookly with "
                "the regular comparison until the hourly channel check restores it."
            )
        if self.not_delivered:
            return "Some bookings are not in the calendar: see the jobs below and retry."
        return ""


@dataclass(frozen=True, slots=True)
class DeadJob:
    """A background job that gave up, in words an admin can act on."""

    id: int
    what: str
    reason: str
    attempts: int
    failed_at: datetime
    todo: str = WHAT_TO_DO


@dataclass(frozen=True, slots=True)
class OrganisationHealth:
    """The admin's sync page."""

    policy: BookingEventPolicy
    instructors: list[InstructorSync]
    feed: bookly_sync.FeedStatus
    dead: list[DeadJob]
    pending: int  # this organisation's jobs waiting or retrying
    other_dead: int  # dead jobs of no organisation (shown as a count)


def organisation_health(organisation_id: int) -> OrganisationHealth:
    """Everything the sync page shows for one organisation."""
    school = db.session.get(Organisation, organisation_id)
    policy = school.booking_event_policy if school else BookingEventPolicy.BOOKLY_WINS
    jobs = _jobs(organisation_id)
    ours = {job.id for job in jobs}
    other_dead = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(OutboxJob)
        .where(OutboxJob.status == OutboxStatus.DEAD, OutboxJob.kind.not_in(tuple(WHAT_FAILED)))
    )
    return OrganisationHealth(
        policy=policy,
        instructors=[_instructor(u) for u in _instructors(organisation_id)],
        feed=bookly_sync.feed_status(),
        dead=[_dead(job) for job in jobs if job.status is OutboxStatus.DEAD],
        pending=sum(1 for job in jobs if job.status is OutboxStatus.PENDING and job.id in ours),
        other_dead=int(other_dead or 0),
    )


def _instructors(organisation_id: int) -> list[User]:
    return list(
        db.session.scalars(
            sa.select(User)
            .where(User.organisation_id == organisation_id, User.role == Role.INSTRUCTOR)
            .order_by(User.name, User.email)
        )
    )


def _instructor(user: User) -> InstructorSync:
    connection: CalendarConnection | None = user.connection
    not_delivered = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Booking)
        .where(Booking.instructor_id == user.id, Booking.delivery_state == DeliveryState.FAILED)
    )
    if connection is None:
        return InstructorSync(user.id, user.name or user.email, "not connected", None, None, 0,
                              None, 0, None, 0, int(not_delivered or 0))  # fmt: skip
    health = sync.sync_health(connection)
    state = "connected" if connection.status is ConnectionStatus.CONNECTED else "needs reconnect"
    return InstructorSync(
        user.id, user.name or user.email, state, health.last_notification_at,
        connection.last_synced_at, health.waiting, health.oldest_waiting_at, health.blocks,
        connection.reconciled_at, connection.last_repairs, int(not_delivered or 0),
        connection.channel_id is not None,
    )  # fmt: skip


def _jobs(organisation_id: int) -> list[OutboxJob]:
    """Unfinished and dead jobs of the organisation's kinds that concern it."""
    candidates = db.session.scalars(
        sa.select(OutboxJob)
        .where(
            OutboxJob.kind.in_(tuple(WHAT_FAILED)),
            OutboxJob.status.in_((OutboxStatus.PENDING, OutboxStatus.DEAD)),
        )
        .order_by(OutboxJob.id.desc())
        .limit(500)
    ).all()
    members = set(
        db.session.scalars(sa.select(User.id).where(User.organisation_id == organisation_id))
    )
    return [job for job in candidates if _owner(job) in members]


def _owner(job: OutboxJob) -> int | None:
    """The instructor a job concerns (None: unknown)."""
    payload = job.payload or {}
    if job.kind == store.SYNC_JOB:
        booking = store.by_public_id(str(payload.get("booking", "")))
        return booking.instructor_id if booking else None
    if job.kind == bookly_sync.MIRROR_JOB:
        return db.session.scalar(
            sa.select(BooklyMirror.instructor_id).where(
                BooklyMirror.bookly_appointment_id == int(payload.get("appointment", 0) or 0)
            )
        )
    return None


def _dead(job: OutboxJob) -> DeadJob:
    return DeadJob(
        id=job.id,
        what=WHAT_FAILED.get(job.kind, "A background task failed."),
        reason=_plain(job.last_error),
        attempts=job.attempts,
        failed_at=job.updated_at,
    )


def _plain(error: str | None) -> str:
    """The stored error in words (the stored text never holds secrets or event content)."""
    text = (error or "").strip()
    if not text:
        return "No reason was recorded."
    if "calendar write failed" in text or "calendar delete failed" in text:
        return f"Cronofy did not accept the calendar change ({text.split(':')[-1].strip()})."
    if "smart invite failed" in text:
        return "Cronofy did not create the customer's invitation."
    if "e-mail" in text:
        return "The mail server did not take the invitation e-mail."
    if "Bookly" in text:
        return "Bookly's database did not answer."
    return text[:200]


def retry_dead_job(organisation_id: int, job_id: int, actor: User) -> None:
    """Give a dead job of this organisation another full set of attempts, now."""
    job = db.session.get(OutboxJob, job_id)
    if (
        job is None
        or job.status is not OutboxStatus.DEAD
        or job.kind not in WHAT_FAILED
        or _owner(job) not in {u.id for u in _instructors(organisation_id)}
    ):
        raise JobNotFound(job_id)
    job.status, job.attempts, job.locked_until = OutboxStatus.PENDING, 0, None
    job.next_attempt_at = utcnow()
    if job.kind == store.SYNC_JOB:
        booking = store.by_public_id(str((job.payload or {}).get("booking", "")))
        if booking is not None:
            booking.delivery_state = DeliveryState.PENDING
    audit.record("job.retried", actor=actor, target=f"job:{job.id}",
                 details={"kind": job.kind})  # fmt: skip
    db.session.commit()


def set_policy(organisation_id: int, policy: BookingEventPolicy, actor: User) -> bool:
    """Choose what a booking's event moved or deleted in a calendar does; True if changed."""
    school = db.session.get(Organisation, organisation_id)
    if school is None or school.booking_event_policy is policy:
        return False
    before = school.booking_event_policy
    school.booking_event_policy = policy
    audit.record("organisation.policy_changed", actor=actor, target="booking_event_policy",
                 details={"from": before.value, "to": policy.value})  # fmt: skip
    db.session.commit()
    return True

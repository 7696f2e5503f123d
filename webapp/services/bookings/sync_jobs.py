"""The runner of booking sync jobs (``booking.sync``): claimed, retried with backoff, finished
together with the booking's delivery state in one commit.

After the last attempt the job is dead and the booking shows "calendar not updated"
(``DeliveryState.FAILED``) until someone presses retry. The Bookly appointment is never
touched: a calendar failure does not undo a booking.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from webapp.database import utcnow
from webapp.extensions import db
from webapp.models import DeliveryState, OutboxJob, OutboxStatus
from webapp.services import outbox
from webapp.services.bookings import delivery, store
from webapp.services.bookings.delivery import DeliveryContext, DeliveryFailed

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
BACKOFF_BASE = timedelta(seconds=15)
BACKOFF_CAP = timedelta(minutes=30)


@dataclass(frozen=True, slots=True)
class SyncRun:
    """What one pass over due sync jobs did."""

    done: int = 0
    retried: int = 0
    dead: int = 0


def run_due(ctx: DeliveryContext, *, now: datetime | None = None) -> SyncRun:
    """Run every due booking sync job once."""
    moment = now or utcnow()
    outcomes = [
        run_one(ctx, job_id, moment) for job_id in outbox.due_ids((store.SYNC_JOB,), moment)
    ]
    return SyncRun(
        done=outcomes.count(OutboxStatus.DONE),
        retried=outcomes.count(OutboxStatus.PENDING),
        dead=outcomes.count(OutboxStatus.DEAD),
    )


def run_one(ctx: DeliveryContext, job_id: int, moment: datetime) -> OutboxStatus | None:
    """Claim and run one job; its new status (None when another worker holds it)."""
    if not outbox.claim(job_id, moment):
        return None
    job = db.session.get(OutboxJob, job_id)
    if job is None:
        return None
    public_id = str((job.payload or {}).get("booking", ""))
    try:
        delivery.sync(ctx, public_id)
    except DeliveryFailed as exc:
        db.session.rollback()
        return _failed(job_id, public_id, moment, str(exc))
    job.status, job.locked_until = OutboxStatus.DONE, None
    job.attempts += 1
    db.session.commit()
    return OutboxStatus.DONE


def _failed(job_id: int, public_id: str, moment: datetime, reason: str) -> OutboxStatus:
    job = outbox.record_failure(job_id, moment, reason, max_attempts=MAX_ATTEMPTS,
                                base=BACKOFF_BASE, cap=BACKOFF_CAP)  # fmt: skip
    if job is None:
        return OutboxStatus.DEAD
    if job.status is OutboxStatus.DEAD:  # the booking shows "calendar not updated"
        booking = store.by_public_id(public_id)
        if booking is not None:
            booking.delivery_state = DeliveryState.FAILED
            db.session.commit()
    return job.status

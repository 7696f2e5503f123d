"""What every outbox job runner shares: an atomic claim and the retry backoff.

A job is claimed with one conditional UPDATE (pending, not locked by a live claim), so two
workers never run the same job at once on SQLite or PostgreSQL; a worker that dies leaves a
claim that expires. Backoff is capped, full-jitter exponential.
"""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta

import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import OutboxJob, OutboxStatus

log = logging.getLogger(__name__)

DEFAULT_CLAIM = timedelta(minutes=2)


def backoff(attempts: int, *, base: timedelta, cap: timedelta) -> timedelta:
    """Delay before the next try: full jitter in [0, min(cap, base * 2^attempts)], >= 1 s."""
    ceiling = min(cap.total_seconds(), base.total_seconds() * 2.0**attempts)
    return timedelta(seconds=max(1.0, random.uniform(0.0, ceiling)))  # noqa: S311 - spread only


def claim(job_id: int, moment: datetime, duration: timedelta = DEFAULT_CLAIM) -> bool:
    """Take a pending job for ``duration`` (committed); False when someone else holds it."""
    result = db.session.execute(
        sa.update(OutboxJob)
        .where(
            OutboxJob.id == job_id,
            OutboxJob.status == OutboxStatus.PENDING,
            sa.or_(OutboxJob.locked_until.is_(None), OutboxJob.locked_until < moment),
        )
        .values(locked_until=moment + duration)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return getattr(result, "rowcount", 0) == 1


def due_ids(kinds: tuple[str, ...], moment: datetime, limit: int = 100) -> list[int]:
    """Ids of pending jobs of these kinds whose next attempt is due, oldest first."""
    return list(
        db.session.scalars(
            sa.select(OutboxJob.id)
            .where(
                OutboxJob.kind.in_(kinds),
                OutboxJob.status == OutboxStatus.PENDING,
                OutboxJob.next_attempt_at <= moment,
            )
            .order_by(OutboxJob.id)
            .limit(limit)
        )
    )


def record_failure(
    job_id: int,
    moment: datetime,
    reason: str,
    *,
    max_attempts: int,
    base: timedelta,
    cap: timedelta,
) -> OutboxJob | None:
    """Count a failed attempt and commit: retried after a backoff, or dead after
    ``max_attempts`` (the caller says what else a dead job means). None when the job is gone."""
    job = db.session.get(OutboxJob, job_id)
    if job is None:
        return None
    job.attempts += 1
    job.locked_until = None
    job.last_error = reason[:500]
    if job.attempts >= max_attempts:
        job.status = OutboxStatus.DEAD
        log.error("%s job %s dead after %d attempts: %s", job.kind, job_id, job.attempts, reason)
    else:
        job.next_attempt_at = moment + backoff(job.attempts, base=base, cap=cap)
        log.warning("%s job %s failed (attempt %d): %s", job.kind, job_id, job.attempts, reason)
    db.session.commit()
    return job

"""Retention: what the bridge keeps only for a while, purged by a periodic task.

Processed webhook notifications (the inbox) and finished outbox jobs are kept
``RETENTION_DAYS`` days (default 30) for troubleshooting, then deleted. Notifications not yet
processed and jobs still pending are never purged, whatever their age: they are work, not
history. Dead jobs stay until an admin retries them or they are handled otherwise.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa

from webapp.database import utcnow
from webapp.extensions import db
from webapp.models import InboundNotification, OutboxJob, OutboxStatus

log = logging.getLogger(__name__)

DEFAULT_DAYS = 30


@dataclass(frozen=True, slots=True)
class Purged:
    """How many rows one purge deleted."""

    notifications: int
    jobs: int


def purge_expired(*, days: int = DEFAULT_DAYS, now: datetime | None = None) -> Purged:
    """Delete processed notifications and finished jobs older than ``days``; one commit."""
    if days < 1:
        raise ValueError("retention must be at least one day")
    cutoff = (now or utcnow()) - timedelta(days=days)
    notifications = _deleted(
        sa.delete(InboundNotification).where(
            InboundNotification.processed_at.is_not(None),
            InboundNotification.processed_at < cutoff,
        )
    )
    jobs = _deleted(
        sa.delete(OutboxJob).where(
            OutboxJob.status == OutboxStatus.DONE, OutboxJob.updated_at < cutoff
        )
    )
    db.session.commit()
    if notifications or jobs:
        log.info("retention: deleted %d notification(s) and %d finished job(s) older than %d "
                 "days", notifications, jobs, days)  # fmt: skip
    return Purged(notifications, jobs)


def _deleted(statement: sa.Delete) -> int:
    """Run a bulk DELETE in the session's transaction; how many rows it removed."""
    result = cast("sa.CursorResult[Any]", db.session.execute(statement))
    return result.rowcount

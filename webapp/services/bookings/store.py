"""Our side of a booking: the Booking row and its delivery job, committed together.

Commits are retried a bounded number of times on deadlocks and serialization failures
(PostgreSQL 40P01/40001, SQLite "database is locked"); constraint violations are sorted into
"the slot overlaps a confirmed booking" and "the idempotency key is taken".
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from enum import StrEnum
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, IntegrityError

from webapp.database import utcnow
from webapp.extensions import db
from webapp.models import Booking, OutboxJob

log = logging.getLogger(__name__)

T = TypeVar("T")

SYNC_JOB = "booking.sync"
TRANSIENT_ATTEMPTS = 4
_TRANSIENT_SQLSTATES = frozenset({"40001", "40P01"})
OVERLAP_CONSTRAINT = "bookings_no_overlap"


class Violation(StrEnum):
    """Which rule of ours a failed commit broke."""

    OVERLAP = "overlap"
    DUPLICATE_KEY = "duplicate_key"


class StoreConflict(Exception):
    """A commit broke the overlap rule or reused an idempotency key."""

    def __init__(self, violation: Violation) -> None:
        self.violation = violation
        super().__init__(violation.value)


def is_transient(exc: DBAPIError) -> bool:
    """True for a deadlock, serialization failure or a busy SQLite database."""
    orig = exc.orig
    if getattr(orig, "sqlstate", None) in _TRANSIENT_SQLSTATES:
        return True
    return "database is locked" in str(orig)


def violation_of(exc: IntegrityError) -> Violation | None:
    """The rule a constraint error stands for (None for anything else)."""
    text = str(exc.orig)
    if OVERLAP_CONSTRAINT in text:
        return Violation.OVERLAP
    if "idempotency_key" in text or "public_id" in text:
        return Violation.DUPLICATE_KEY
    return None


def queue_sync(booking: Booking) -> OutboxJob:
    """Add the job bringing the calendar and the customer's invite in line with the booking."""
    job = OutboxJob(kind=SYNC_JOB, payload={"booking": booking.public_id}, next_attempt_at=utcnow())
    db.session.add(job)
    return job


class StoreBusy(Exception):
    """Every attempt to commit met a deadlock, serialization failure or locked database."""


def commit_retrying(stage: Callable[[], T]) -> T:
    """Run ``stage`` (which adds/changes rows) and commit; retry transient failures.

    Raises StoreConflict for our constraints and StoreBusy when the database stayed busy for
    every attempt; the session is rolled back then.
    """
    for attempt in range(1, TRANSIENT_ATTEMPTS + 1):
        result = stage()
        try:
            db.session.commit()
            return result
        except IntegrityError as exc:
            db.session.rollback()
            violation = violation_of(exc)
            if violation is None:
                raise
            raise StoreConflict(violation) from exc
        except DBAPIError as exc:
            db.session.rollback()
            if not is_transient(exc):
                raise
            if attempt == TRANSIENT_ATTEMPTS:
                raise StoreBusy(f"no commit after {attempt} attempts") from exc
            log.info("transient database error on booking commit (attempt %d); retrying", attempt)
            time.sleep(random.uniform(0.01, 0.05 * 2**attempt))  # noqa: S311 - spread only
    raise AssertionError("unreachable")  # pragma: no cover


def by_key(idempotency_key: str) -> Booking | None:
    """The booking made with this (scoped) idempotency key."""
    return db.session.scalars(
        sa.select(Booking).where(Booking.idempotency_key == idempotency_key)
    ).one_or_none()


def by_public_id(public_id: str) -> Booking | None:
    """The booking with this public id."""
    return db.session.scalars(
        sa.select(Booking).where(Booking.public_id == public_id)
    ).one_or_none()

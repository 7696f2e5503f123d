"""Background work when a connection ends: revoke at Cronofy, delete Bookly block rows, and
tell the instructor their calendar was disconnected (never inside the webhook request).

When Cronofy or Bookly cannot be reached during a disconnect, what is still needed to finish
is kept as an ``OutboxJob``: the refresh token only as its Fernet CIPHERTEXT (or the ``sub``),
Bookly block ids as plain integers. ``process_due_jobs`` (the Celery task
``webapp.tasks.finish_disconnects``) retries with capped, jittered exponential backoff; on
success or after the last attempt the payload is scrubbed, so nothing the instructor asked us
to delete outlives the retry window.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bookly_client import BooklyError
from cronofy_client import CronofyClient, CronofyError
from webapp.clients import get_clients
from webapp.database import utcnow
from webapp.extensions import db
from webapp.models import OutboxJob, OutboxStatus
from webapp.security import TokenDecryptError
from webapp.services import audit, outbox
from webapp.services.connection_health import StatusReason, send_reconnect_notice

log = logging.getLogger(__name__)

REVOKE_JOB = "cronofy.revoke"
DELETE_BLOCKS_JOB = "bookly.delete_blocks"
NOTICE_JOB = "mail.reconnect_notice"
# Enterprise Connect: a callback's code, exchanged by the worker (enterprise/callbacks.py).
EXCHANGE_JOB = "enterprise.exchange_code"
JOB_KINDS = (REVOKE_JOB, DELETE_BLOCKS_JOB, NOTICE_JOB, EXCHANGE_JOB)
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=6)
MAX_ATTEMPTS = 12
CLAIM_DURATION = timedelta(minutes=2)


@dataclass(frozen=True, slots=True)
class JobRun:
    """What one pass over the due clean-up jobs did."""

    done: int
    retried: int
    dead: int


def backoff(attempts: int) -> timedelta:
    """Delay before the next try of a clean-up job (capped, jittered)."""
    return outbox.backoff(attempts, base=BACKOFF_BASE, cap=BACKOFF_CAP)


def queue_revocation(
    *,
    refresh_token_encrypted: str | None,
    sub: str | None,
    first_try_now: bool = False,
    channel_id: str | None = None,
    access_token_encrypted: str | None = None,
) -> OutboxJob:
    """Add a revoke job (ciphertext or sub only) to the session; the caller commits.

    ``first_try_now``: nothing was tried yet, so the job is due at once (not after a backoff).
    With ``channel_id`` (and the access token's ciphertext) the job first closes that push
    channel, once, best effort: the revocation ends the channel at Cronofy anyway.
    """
    payload: dict[str, Any] = {"refresh_token_encrypted": refresh_token_encrypted, "sub": sub}
    if channel_id and access_token_encrypted:
        payload |= {"channel_id": channel_id, "access_token_encrypted": access_token_encrypted}
    job = _queue(REVOKE_JOB, payload)
    if first_try_now:
        job.next_attempt_at = utcnow()
    return job


def queue_block_deletion(appointment_ids: list[int], *, first_try_now: bool = False) -> OutboxJob:
    """Add a job deleting our Bookly block rows to the session; the caller commits."""
    job = _queue(DELETE_BLOCKS_JOB, {"appointment_ids": sorted(appointment_ids)})
    if first_try_now:
        job.next_attempt_at = utcnow()
    return job


def queue_reconnect_notice(connection_id: int, reason: StatusReason) -> OutboxJob:
    """Add the job e-mailing the instructor to reconnect, due at once; the caller commits
    (in the transaction that marked the connection, so the notice is neither lost nor sent
    for a change that did not happen)."""
    job = _queue(NOTICE_JOB, {"connection_id": connection_id, "reason": reason.value})
    job.next_attempt_at = utcnow()
    return job


def _queue(kind: str, payload: dict[str, Any]) -> OutboxJob:
    job = OutboxJob(kind=kind, payload=payload, next_attempt_at=utcnow() + backoff(0))
    db.session.add(job)
    return job


def revoke_now(
    cronofy: CronofyClient, *, refresh_token_encrypted: str | None, sub: str | None
) -> bool:
    """Revoke with the refresh token (or by sub when it is unreadable); False on failure."""
    token: str | None = None
    if refresh_token_encrypted:
        from webapp.services.tokens import token_cipher

        try:
            token = token_cipher().decrypt(refresh_token_encrypted)
        except TokenDecryptError:
            log.error("refresh token unreadable; revoking by sub instead")
    if token is None and not sub:
        return True  # nothing left that could be revoked
    try:
        cronofy.revoke(refresh_token=token) if token else cronofy.revoke(sub=sub)
    except CronofyError as exc:
        log.warning("revoke failed (%s); it will be retried", type(exc).__name__)
        return False
    return True


def close_channel(cronofy: CronofyClient, channel_id: str, access_token_encrypted: str) -> None:
    """Close a push channel with the grant's access token; any failure is only logged (an
    expired token, Cronofy down): revoking the grant stops its channels, and our receiver
    ignores a channel whose connection is gone."""
    from webapp.services.tokens import token_cipher

    try:
        cronofy.close_channel(token_cipher().decrypt(access_token_encrypted), channel_id)
    except (TokenDecryptError, CronofyError) as exc:
        log.info("push channel not closed (%s); the revocation ends it", type(exc).__name__)


def delete_blocks_now(appointment_ids: list[int]) -> list[int]:
    """Delete our Bookly block rows; return the ids that could not be deleted yet."""
    bookly = get_clients().bookly
    if bookly is None or not appointment_ids:
        return []
    left: list[int] = []
    for appointment_id in appointment_ids:
        try:
            bookly.delete_busy_block(appointment_id)
        except BooklyError as exc:
            log.warning("Bookly block %s not deleted yet (%s)", appointment_id, type(exc).__name__)
            left.append(appointment_id)
    return left


def process_due_jobs(cronofy: CronofyClient, *, now: datetime | None = None) -> JobRun:
    """Run every due clean-up job once (claimed atomically, so workers never double up)."""
    moment = now or utcnow()
    done = retried = dead = 0
    for job_id in outbox.due_ids(JOB_KINDS, moment):
        if not outbox.claim(job_id, moment, CLAIM_DURATION):
            continue
        job = db.session.get(OutboxJob, job_id)
        if job is None:
            continue
        if _run(cronofy, job):
            _finish(job, OutboxStatus.DONE)
            done += 1
        elif job.attempts + 1 >= MAX_ATTEMPTS:
            _finish(job, OutboxStatus.DEAD)
            dead += 1
        else:
            job.attempts += 1
            job.next_attempt_at = moment + backoff(job.attempts)
            job.locked_until = None
            job.last_error = (
                "the e-mail could not be sent"
                if job.kind == NOTICE_JOB
                else "Cronofy or Bookly unavailable"
            )
            retried += 1
        db.session.commit()
    return JobRun(done=done, retried=retried, dead=dead)


def _run(cronofy: CronofyClient, job: OutboxJob) -> bool:
    payload = dict(job.payload or {})
    if job.kind == EXCHANGE_JOB:
        from webapp.services.enterprise.callbacks import exchange_queued

        return exchange_queued(cronofy, payload)
    if job.kind == NOTICE_JOB:
        return send_reconnect_notice(int(payload["connection_id"]), StatusReason(payload["reason"]))
    if job.kind == REVOKE_JOB:
        if payload.get("channel_id"):
            close_channel(cronofy, payload.pop("channel_id"), payload.pop("access_token_encrypted"))
            job.payload = payload  # tried once: never again
        return revoke_now(
            cronofy,
            refresh_token_encrypted=payload.get("refresh_token_encrypted"),
            sub=payload.get("sub"),
        )
    left = delete_blocks_now([int(i) for i in payload.get("appointment_ids", [])])
    job.payload = {"appointment_ids": left}
    return not left


def _finish(job: OutboxJob, status: OutboxStatus) -> None:
    job.status = status
    job.payload = {}  # scrub the ciphertext / ids: nothing to keep once finished or abandoned
    job.locked_until = None
    job.attempts += 1
    if status is OutboxStatus.DEAD:
        job.last_error = "gave up after the last attempt"
        audit.record("connection.cleanup_abandoned", details={"job_id": job.id, "kind": job.kind})
        log.error("clean-up job id=%s (%s) abandoned", job.id, job.kind)
    else:
        log.info("clean-up job id=%s (%s) done", job.id, job.kind)

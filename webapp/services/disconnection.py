"""Disconnecting a calendar: channels closed, grant revoked, tokens and our data deleted.

The request does only what our own database can do, in one transaction: delete the tokens,
the busy-block mapping and the inbox rows, delete the connection row (the person sees "not
connected" at once), audit, and commit the jobs that finish the rest. The worker then closes
the push channel (best effort: revoking the grant ends it anyway), revokes the grant with the
REFRESH token (reliability §1.3) and deletes the busy blocks we put into Bookly, retrying
with backoff while Cronofy or Bookly is down. The jobs hold only ciphertext and ids. In the
embedded demo (no broker) the worker's part runs at once, inside the request.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from webapp.extensions import CLEANUP_TASK, db
from webapp.models import (
    BusyBlock,
    CalendarConnection,
    InboundNotification,
    OutboxJob,
    OutboxStatus,
    User,
)
from webapp.services import audit
from webapp.services.connection_errors import NotConnected
from webapp.services.revocation import queue_block_deletion, queue_revocation

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DisconnectResult:
    """What was finished by the time the request answered (all of it in the demo)."""

    revoked: bool
    blocks_deleted: int
    blocks_pending: int


@dataclass(frozen=True, slots=True)
class _Queued:
    revoke_job: OutboxJob
    blocks_job: OutboxJob | None
    blocks: int


def disconnect(
    *, connection_id: int, actor: User | None, reason: str, commit: bool = True
) -> DisconnectResult:
    """Delete the connection and our data, audit, and queue the revocation and the Bookly
    clean-up. ``commit=False`` leaves committing (and starting the worker) to the caller,
    which disconnects several connections in one transaction."""
    queued = _remove(connection_id, actor=actor, reason=reason)
    if not commit:
        return DisconnectResult(revoked=False, blocks_deleted=0, blocks_pending=queued.blocks)
    db.session.commit()
    schedule_cleanup(timedelta(0))
    result = _result_of(queued)
    log.info("connection id=%s disconnected (revoked already: %s)", connection_id, result.revoked)
    return result


def _remove(connection_id: int, *, actor: User | None, reason: str) -> _Queued:
    connection = db.session.get(CalendarConnection, connection_id)
    if connection is None:
        raise NotConnected("There is no calendar connection to disconnect.")
    revoke_job = queue_revocation(
        refresh_token_encrypted=connection.refresh_token_encrypted,
        sub=connection.cronofy_sub,
        first_try_now=True,
        channel_id=connection.channel_id,
        access_token_encrypted=connection.access_token_encrypted,
    )
    block_ids = _bookly_block_ids(connection_id)
    blocks_job = queue_block_deletion(block_ids, first_try_now=True) if block_ids else None
    owner = db.session.get(User, connection.user_id)
    _delete_rows(connection)
    audit.record(
        "connection.disconnected",
        actor=actor,
        target=owner.email if owner else "",
        details={"reason": reason, "blocks": len(block_ids)},
    )
    return _Queued(revoke_job, blocks_job, len(block_ids))


def _result_of(queued: _Queued) -> DisconnectResult:
    """Read back what the worker did already (eager in the demo; usually nothing yet)."""
    revoke = db.session.get(OutboxJob, queued.revoke_job.id)
    blocks = db.session.get(OutboxJob, queued.blocks_job.id) if queued.blocks_job else None
    left = queued.blocks if blocks is not None and blocks.status is not OutboxStatus.DONE else 0
    return DisconnectResult(
        revoked=revoke is not None and revoke.status is OutboxStatus.DONE,
        blocks_deleted=queued.blocks - left,
        blocks_pending=left,
    )


def _bookly_block_ids(connection_id: int) -> list[int]:
    ids = db.session.scalars(
        sa.select(BusyBlock.bookly_appointment_id).where(
            BusyBlock.connection_id == connection_id,
            BusyBlock.bookly_appointment_id.is_not(None),
        )
    )
    return [int(i) for i in ids if i is not None]


def _delete_rows(connection: CalendarConnection) -> None:
    db.session.execute(sa.delete(BusyBlock).where(BusyBlock.connection_id == connection.id))
    db.session.execute(
        sa.delete(InboundNotification).where(InboundNotification.connection_id == connection.id)
    )
    db.session.delete(connection)


def schedule_cleanup(delay: timedelta) -> None:
    """Ask the worker to run the due clean-up jobs after `delay` (never raises)."""
    import webapp.tasks  # noqa: F401 - registers the task with every Celery app

    try:
        task = current_app.extensions["celery"].tasks[CLEANUP_TASK]
        task.apply_async(countdown=delay.total_seconds())
    except Exception:  # a broker outage must not undo a committed disconnect
        log.exception("could not schedule the disconnect clean-up; the periodic run will")


def disconnect_user(*, user: User, reason: str) -> DisconnectResult:
    """Disconnect the user's own calendar (NotConnected when there is none)."""
    connection_id = db.session.scalar(
        sa.select(CalendarConnection.id).where(CalendarConnection.user_id == user.id)
    )
    if connection_id is None:
        raise NotConnected("There is no calendar connection to disconnect.")
    return disconnect(connection_id=connection_id, actor=user, reason=reason)

"""Disconnecting a calendar: channels closed, grant revoked, tokens and our data deleted.

Order (reliability §1.3): close the push channel, revoke with the REFRESH token, delete the
tokens, the busy blocks we created (our rows and Bookly's block rows) and the inbox rows, audit.
The connection row is deleted at once, so the person sees "not connected" immediately; what
could not be finished (Cronofy or Bookly down) is retried in the background from an outbox job
that holds only ciphertext or ids.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from cronofy_client import CronofyClient, CronofyError
from webapp.extensions import CLEANUP_TASK, db
from webapp.models import BusyBlock, CalendarConnection, InboundNotification, User
from webapp.services import audit
from webapp.services.connection_errors import CalendarConnectionError, NotConnected
from webapp.services.revocation import (
    backoff,
    delete_blocks_now,
    queue_block_deletion,
    queue_revocation,
    revoke_now,
)
from webapp.services.tokens import access_token

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DisconnectResult:
    """What a disconnect finished at once and what was left to the background job."""

    revoked: bool
    blocks_deleted: int
    blocks_pending: int


def disconnect(
    cronofy: CronofyClient, *, connection_id: int, actor: User | None, reason: str
) -> DisconnectResult:
    """Close channels, revoke with the refresh token (retried in the background on failure),
    delete tokens + busy blocks we created, delete the row, audit. Commits."""
    connection = db.session.get(CalendarConnection, connection_id)
    if connection is None:
        raise NotConnected("There is no calendar connection to disconnect.")
    _close_channel(cronofy, connection)
    db.session.refresh(connection)  # a refresh while closing may have rotated the tokens
    sub, refresh_ct = connection.cronofy_sub, connection.refresh_token_encrypted
    revoked = revoke_now(cronofy, refresh_token_encrypted=refresh_ct, sub=sub)
    block_ids = _bookly_block_ids(connection_id)
    left = delete_blocks_now(block_ids)
    owner = db.session.get(User, connection.user_id)
    _delete_rows(connection)
    if not revoked:
        queue_revocation(refresh_token_encrypted=refresh_ct, sub=sub)
    if left:
        queue_block_deletion(left)
    audit.record(
        "connection.disconnected",
        actor=actor,
        target=owner.email if owner else "",
        details={"reason": reason, "revoked": revoked, "blocks_pending": len(left)},
    )
    db.session.commit()
    if not revoked or left:
        schedule_cleanup(backoff(0))
    log.info("connection id=%s disconnected (revoked now: %s)", connection_id, revoked)
    return DisconnectResult(revoked, len(block_ids) - len(left), len(left))


def _close_channel(cronofy: CronofyClient, connection: CalendarConnection) -> None:
    if not connection.channel_id:
        return
    channel_id = connection.channel_id
    try:
        access = access_token(cronofy, connection.id)
        cronofy.close_channel(access, channel_id)
    except (CronofyError, CalendarConnectionError) as exc:
        # Revoking the grant stops its channels too; the URL token is deleted below anyway.
        log.info("push channel not closed (%s); revocation covers it", type(exc).__name__)


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


def disconnect_user(cronofy: CronofyClient, *, user: User, reason: str) -> DisconnectResult:
    """Disconnect the user's own calendar (NotConnected when there is none)."""
    connection_id = db.session.scalar(
        sa.select(CalendarConnection.id).where(CalendarConnection.user_id == user.id)
    )
    if connection_id is None:
        raise NotConnected("There is no calendar connection to disconnect.")
    return disconnect(cronofy, connection_id=connection_id, actor=user, reason=reason)

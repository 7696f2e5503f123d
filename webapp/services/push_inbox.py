"""The push receiver's rules: verify, match the channel, store once, react to the type.

Every accepted notification is stored in the ``inbound_notifications`` inbox (deduplicated by
the SHA-256 of the raw body) before we answer. ``change`` notifications stay unprocessed for
the sync engine; ``verification`` and unknown types are acknowledged; ``profile_disconnected``
moves the connection to ``needs_reconnect`` and tells the instructor (relink).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from datetime import timedelta
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from cronofy_client import (
    CronofyClient,
    MalformedCallback,
    PushNotification,
    UnknownNotification,
    parse_callback,
)
from webapp.database import utcnow
from webapp.extensions import db
from webapp.models import CalendarConnection, ConnectionStatus, InboundNotification
from webapp.security import token_digest
from webapp.services.availability.cache import AvailabilityCache
from webapp.services.connection_health import StatusReason, mark_needs_reconnect
from webapp.services.disconnection import schedule_cleanup
from webapp.services.revocation import queue_reconnect_notice

log = logging.getLogger(__name__)

MAX_PATH_TOKEN_LENGTH = 200
# Types the sync engine (services/sync.py) processes; everything else is handled here.
SYNC_TYPES = frozenset({"change", "profile_initial_sync_required"})


class PushOutcome(StrEnum):
    """How the receiver answers."""

    ACCEPTED = "accepted"  # stored (or a duplicate of a stored one): 202
    IGNORED = "ignored"  # unknown channel or not ours: 2xx, no work
    REJECTED = "rejected"  # bad signature: 401, nothing written
    MALFORMED = "malformed"  # signed but unreadable: 400, nothing written


def receive_push(
    cronofy: CronofyClient,
    *,
    path_token: str,
    raw_body: bytes,
    signature: str | None,
    availability_cache: AvailabilityCache | None = None,
    queue_sync: Callable[[int], None] | None = None,
) -> PushOutcome:
    """Handle one push delivery to /webhooks/cronofy/<token>; commits at most once.

    A stored notification other than a change drops the instructor's cached availability at
    once (the connection changed); a change does so through its sync run. A stored sync type calls
    ``queue_sync(connection_id)`` after the commit (it must only queue, never sync inline).
    """
    if not cronofy.webhook_verifier().verify(raw_body, signature):
        log.warning("push with a bad signature rejected")
        return PushOutcome.REJECTED
    try:
        notification = parse_callback(raw_body)
    except MalformedCallback:
        log.warning("signed push body could not be read")
        return PushOutcome.MALFORMED
    connection = _connection_for(path_token, notification)
    if connection is None or not isinstance(notification, PushNotification | UnknownNotification):
        return PushOutcome.IGNORED
    kind = notification.type or "unknown"
    if not _store(raw_body, kind, notification.channel_id, connection.id):
        log.info("duplicate push for connection id=%s", connection.id)
        if kind in SYNC_TYPES and queue_sync is not None and _reopen(raw_body):
            # Two changes can share a body (same changes_since): sync again. The run compares
            # the whole calendar with Bookly, so a true redelivery changes nothing there.
            db.session.commit()
            queue_sync(connection.id)
        return PushOutcome.ACCEPTED
    _stamp_notification(connection.id)
    newly_disconnected = False
    if kind == "profile_disconnected":
        newly_disconnected = mark_needs_reconnect(
            db.session.connection(), connection.id, StatusReason.PROFILE_DISCONNECTED
        )
        if newly_disconnected:  # sent by the worker: Cronofy gives the ack only 5 s
            queue_reconnect_notice(connection.id, StatusReason.PROFILE_DISCONNECTED)
    db.session.commit()
    # A change is dropped from the cache by the sync run it queues (one drop per read, not
    # per notification: a burst would otherwise defeat the cache and spend Cronofy's budget
    # on recomputing); anything else (a profile disconnected) changes availability now.
    if availability_cache is not None and kind not in SYNC_TYPES:
        availability_cache.drop([connection.user_id])
    if newly_disconnected:
        schedule_cleanup(timedelta(0))
    if queue_sync is not None and kind in SYNC_TYPES:
        queue_sync(connection.id)
    log.info("push %s accepted for connection id=%s", kind, connection.id)
    return PushOutcome.ACCEPTED


# The "last notification" time is for people (health pages); a burst of deliveries for one
# connection must not queue on that row's lock, so it is written at most this often.
STAMP_EVERY = timedelta(seconds=30)


def _stamp_notification(connection_id: int) -> None:
    """Record when the connection last heard from Cronofy (in the caller's transaction)."""
    now = utcnow()
    db.session.execute(
        sa.update(CalendarConnection)
        .where(
            CalendarConnection.id == connection_id,
            sa.or_(
                CalendarConnection.last_notification_at.is_(None),
                CalendarConnection.last_notification_at < now - STAMP_EVERY,
            ),
        )
        .values(last_notification_at=now)
        .execution_options(synchronize_session=False)
    )


def _connection_for(path_token: str, notification: object) -> CalendarConnection | None:
    """The live connection whose URL token AND signed channel id both match, else None."""
    if not path_token or len(path_token) > MAX_PATH_TOKEN_LENGTH:
        return None
    connection = db.session.scalar(
        sa.select(CalendarConnection).where(
            CalendarConnection.channel_token_hash == token_digest(path_token)
        )
    )
    channel_id = getattr(notification, "channel_id", None)
    if connection is None or connection.status is ConnectionStatus.REVOKED:
        log.warning("push for an unknown or disconnected channel ignored")
        return None
    if not channel_id or channel_id != connection.channel_id:
        log.warning(
            "push whose channel does not match its URL ignored (connection id=%s)", connection.id
        )
        return None
    return connection


def _store(raw_body: bytes, kind: str, channel_id: str | None, connection_id: int) -> bool:
    """Insert the inbox row unless the same body is already there; True when inserted."""
    body_hash = hashlib.sha256(raw_body).hexdigest()
    now = utcnow()
    handled_here = kind not in SYNC_TYPES
    values = {
        "body_hash": body_hash,
        "notification_type": kind[:64],
        "channel_id": channel_id,
        "connection_id": connection_id,
        "body": _redacted(raw_body),
        "received_at": now,
        "processed_at": now if handled_here else None,
        "attempts": 0,
    }
    insert = pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(InboundNotification)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["body_hash"])
        .returning(InboundNotification.id)
    )
    return db.session.execute(statement).scalar_one_or_none() is not None


def _reopen(raw_body: bytes) -> bool:
    """Mark the stored copy of this body pending again; True when it had been processed."""
    body_hash = hashlib.sha256(raw_body).hexdigest()
    result = db.session.execute(
        sa.update(InboundNotification)
        .where(
            InboundNotification.body_hash == body_hash,
            InboundNotification.processed_at.isnot(None),
        )
        .values(processed_at=None)
    )
    return bool(getattr(result, "rowcount", 0))


def _redacted(raw_body: bytes) -> str:
    """The body to keep, without the callback URL (its path token is a secret)."""
    data = json.loads(raw_body)
    channel = data.get("channel") if isinstance(data, dict) else None
    if isinstance(channel, dict) and "callback_url" in channel:
        channel["callback_url"] = "[redacted]"
    return json.dumps(data, separators=(",", ":"), sort_keys=True)

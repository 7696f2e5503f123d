"""The push receiver's rules: verify, match the channel, store once, react to the type.

Every accepted notification is stored in the ``inbound_notifications`` inbox (deduplicated by
the SHA-256 of the raw body) before we answer. ``change`` notifications stay unprocessed for
the sync engine; ``verification`` and unknown types are acknowledged; ``profile_disconnected``
moves the connection to ``needs_reconnect`` and tells the instructor (relink).
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from collections.abc import Callable
from datetime import timedelta
from enum import StrEnum
from typing import cast

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
from webapp.database import UTCDateTime, utcnow
from webapp.extensions import db
from webapp.models import CalendarConnection, ConnectionStatus, InboundNotification
from webapp.security import token_digest
from webapp.services.availability.cache import AvailabilityCache
from webapp.services.connection_health import (
    StatusReason,
    mark_needs_reconnect,
    record_heard_from,
)
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

    A change costs one statement and its commit: the inbox row is inserted from the
    connection the URL token and the signed channel id both name (nothing is inserted for an
    unknown, revoked or mismatched channel, nor for a body already stored); only when nothing
    was inserted is the connection looked up, to say why. A stored sync type then calls
    ``queue_sync(connection_id)`` after the commit (it must only queue, never sync inline); the
    sync run drops the instructor's cached availability once per read. Any other stored type
    (a profile disconnected) changes the connection, and its availability, at once.
    """
    if not cronofy.webhook_verifier().verify(raw_body, signature):
        log.warning("push with a bad signature rejected")
        return PushOutcome.REJECTED
    try:
        notification = parse_callback(raw_body)
    except MalformedCallback:
        log.warning("signed push body could not be read")
        return PushOutcome.MALFORMED
    if not isinstance(notification, PushNotification | UnknownNotification):
        log.warning("signed callback that is not a push notification ignored")
        return PushOutcome.IGNORED
    if not path_token or len(path_token) > MAX_PATH_TOKEN_LENGTH:
        log.warning("push for an unknown or disconnected channel ignored")
        return PushOutcome.IGNORED
    kind = notification.type or "unknown"
    connection_id = _store(raw_body, kind, path_token, notification.channel_id)
    if connection_id is None:
        return _not_stored(raw_body, kind, path_token, notification, queue_sync)
    if kind in SYNC_TYPES:  # stored and committed
        if queue_sync is not None:
            queue_sync(connection_id)
        log.info("push %s accepted for connection id=%s", kind, connection_id)
        return PushOutcome.ACCEPTED
    record_heard_from(connection_id, utcnow(), unless_within=STAMP_EVERY)
    newly_disconnected = False
    if kind == "profile_disconnected":
        newly_disconnected = mark_needs_reconnect(
            db.session.connection(), connection_id, StatusReason.PROFILE_DISCONNECTED
        )
        if newly_disconnected:  # sent by the worker: Cronofy gives the ack only 5 s
            queue_reconnect_notice(connection_id, StatusReason.PROFILE_DISCONNECTED)
    user_id = db.session.scalar(
        sa.select(CalendarConnection.user_id).where(CalendarConnection.id == connection_id)
    )
    db.session.commit()
    if availability_cache is not None and user_id is not None:
        availability_cache.drop([user_id])
    if newly_disconnected:
        schedule_cleanup(timedelta(0))
    log.info("push %s accepted for connection id=%s", kind, connection_id)
    return PushOutcome.ACCEPTED


def _not_stored(
    raw_body: bytes,
    kind: str,
    path_token: str,
    notification: PushNotification | UnknownNotification,
    queue_sync: Callable[[int], None] | None,
) -> PushOutcome:
    """Nothing was inserted: a channel that is not (or no longer) ours, or a redelivery."""
    connection = _connection_for(path_token, notification)
    if connection is None:
        db.session.rollback()
        return PushOutcome.IGNORED
    connection_id = connection.id
    log.info("duplicate push for connection id=%s", connection_id)
    if kind in SYNC_TYPES and queue_sync is not None and _reopen(raw_body):
        # Two changes can share a body (same changes_since): sync again. The run compares
        # the whole calendar with Bookly, so a true redelivery changes nothing there.
        db.session.commit()
        queue_sync(connection_id)
    else:
        db.session.rollback()
    return PushOutcome.ACCEPTED


# When the connection last heard from Cronofy is for people (health pages). For changes it is
# the newest stored notification (pending ones are counted where it is shown, and the sync run
# moves it onto the connection), so a burst writes nothing to the connection row; the rarer
# types stamp the row at once, at most this often.
STAMP_EVERY = timedelta(seconds=30)


def _connection_for(path_token: str, notification: object) -> CalendarConnection | None:
    """The live connection whose URL token AND signed channel id both match, else None."""
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


def _store(raw_body: bytes, kind: str, path_token: str, channel_id: str | None) -> int | None:
    """Insert the inbox row for the live connection that the URL token and the signed channel
    id both name, unless the same body is already stored; its connection id when inserted.

    A sync type is its own transaction (one round trip, durable when it returns: the sync
    engine does the rest from the inbox); any other type joins the session's transaction,
    which the caller commits with what the notification changes."""
    if not channel_id:
        return None
    now = utcnow()
    values = {
        "body_hash": hashlib.sha256(raw_body).hexdigest(),
        "notification_type": kind[:64],
        "channel_id": channel_id,
        "token_hash": token_digest(path_token),
        "body": _redacted(raw_body),
        "received_at": now,
        "processed_at": None if kind in SYNC_TYPES else now,
    }
    statement = _insert_statement(db.engine.dialect.name)
    if kind in SYNC_TYPES:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            connection_id = conn.execute(statement, values).scalar_one_or_none()
    else:
        connection_id = db.session.execute(statement, values).scalar_one_or_none()
    return int(connection_id) if connection_id is not None else None


@functools.cache
def _insert_statement(dialect: str) -> sa.Executable:
    """INSERT INTO the inbox SELECT from the matching live connection, once per dialect."""
    channel_id = sa.bindparam("channel_id", type_=sa.String(100))
    source = sa.select(
        sa.bindparam("body_hash", type_=sa.String(64)),
        sa.bindparam("notification_type", type_=sa.String(64)),
        channel_id,
        CalendarConnection.id,
        sa.bindparam("body", type_=sa.Text()),
        sa.bindparam("received_at", type_=UTCDateTime()),
        sa.bindparam("processed_at", type_=UTCDateTime()),
        sa.literal(0, sa.Integer()),
    ).where(
        CalendarConnection.channel_token_hash == sa.bindparam("token_hash", type_=sa.String(64)),
        CalendarConnection.channel_id == channel_id,
        CalendarConnection.status != ConnectionStatus.REVOKED,
    )
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    inbox = cast("sa.Table", InboundNotification.__table__)  # Core, not the ORM's bulk insert
    return (
        insert(inbox)
        .from_select(
            [
                "body_hash",
                "notification_type",
                "channel_id",
                "connection_id",
                "body",
                "received_at",
                "processed_at",
                "attempts",
            ],
            source,
        )  # fmt: skip
        .on_conflict_do_nothing(index_elements=["body_hash"])
        .returning(inbox.c.connection_id)
    )


def _reopen(raw_body: bytes) -> bool:
    """Mark the stored copy of this body pending again, as received now (it is a change of
    its own); True when it had been processed."""
    body_hash = hashlib.sha256(raw_body).hexdigest()
    result = db.session.execute(
        sa.update(InboundNotification)
        .where(
            InboundNotification.body_hash == body_hash,
            InboundNotification.processed_at.isnot(None),
        )
        .values(processed_at=None, received_at=utcnow())
    )
    return bool(getattr(result, "rowcount", 0))


def _redacted(raw_body: bytes) -> str:
    """The body to keep, without the callback URL (its path token is a secret)."""
    data = json.loads(raw_body)
    channel = data.get("channel") if isinstance(data, dict) else None
    if isinstance(channel, dict) and "callback_url" in channel:
        channel["callback_url"] = "[redacted]"
    return json.dumps(data, separators=(",", ":"), sort_keys=True)

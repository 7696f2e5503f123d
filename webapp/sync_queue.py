"""Which calendar syncs are queued and not started yet, so a burst of notifications queues one.

Cronofy sends a change notification per change; a busy calendar sends bursts. Each one is
stored in the inbox before it is acknowledged, but publishing a Celery message per
notification would cost the acknowledgement a broker round trip and the queue one message
per change, all for runs that find the work already done. So the broker keeps a marker per
connection, "a sync is queued and has not started":

- whoever queues a sync for a stored change sets the marker (SET NX) and publishes only when
  it was not set already;
- the sync task clears it as it starts, BEFORE it reads the pending notifications.

A notification committed before its SET NX found the marker is therefore read by the run
that marker stands for; one that finds no marker (the run has started) queues another run.
A run that defers a burst (sync.BURST_GAP) sets the marker for the delayed run it queues.
The marker expires after MARK_TTL, so a message lost with a worker costs at most that delay
before the next notification queues again, and the beat sweep queues every connection with
pending notifications whatever the markers say. Markers are named after our database (a
digest of its URL), so deployments sharing a Redis never read each other's.

Without a Redis broker (tasks run inline in the embedded default) there is nothing to
coalesce: every stored change runs.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from typing import Any, Protocol

from flask import current_app

log = logging.getLogger(__name__)

MARK_TTL_SECONDS = 60
PREFIX = "sync-queued:"


class SyncQueue(Protocol):
    """The markers' interface (Redis in production, none inline)."""

    def claim(self, connection_id: int) -> bool:
        """Mark a sync of the connection queued; True when the caller should publish it."""

    def mark(self, connection_id: int, seconds: float) -> None:
        """Mark a sync queued (a delayed one) whatever the marker was."""

    def clear(self, connection_id: int) -> None:
        """The run has started (or its message could not be published)."""


class Inline:
    """No broker: every change is run, nothing to mark."""

    def claim(self, connection_id: int) -> bool:
        return True

    def mark(self, connection_id: int, seconds: float) -> None:
        return None

    def clear(self, connection_id: int) -> None:
        return None


class RedisMarks:
    """Markers in Redis. A Redis that does not answer never keeps a sync from being queued:
    ``claim`` then says publish, and ``clear`` failing only leaves a marker to expire."""

    def __init__(self, redis: Any, namespace: str) -> None:
        self._redis = redis
        self._prefix = f"{PREFIX}{namespace}:"

    @classmethod
    def from_url(cls, url: str, namespace: str) -> RedisMarks:
        import redis

        client = redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        return cls(client, namespace)

    def claim(self, connection_id: int) -> bool:
        try:
            return bool(self._redis.set(self._key(connection_id), 1, nx=True, ex=MARK_TTL_SECONDS))
        except Exception:  # noqa: BLE001 - any Redis failure: publish (the broker may work)
            log.warning("sync queue marker unavailable; queueing the sync anyway")
            return True

    def mark(self, connection_id: int, seconds: float) -> None:
        try:
            self._redis.set(self._key(connection_id), 1, ex=max(1, int(seconds) + MARK_TTL_SECONDS))
        except Exception:  # noqa: BLE001 - without the marker a notification queues again
            log.warning("sync queue marker unavailable; a burst may queue more runs")

    def clear(self, connection_id: int) -> None:
        try:
            self._redis.delete(self._key(connection_id))
        except Exception:  # noqa: BLE001 - the marker expires on its own
            log.warning("sync queue marker not cleared; it expires in %d s", MARK_TTL_SECONDS)

    def _key(self, connection_id: int) -> str:
        return f"{self._prefix}{int(connection_id)}"


def build_sync_queue(config: Mapping[str, Any]) -> SyncQueue:
    """Markers on the Redis broker; inline when there is none (eager tasks)."""
    broker = str(config.get("CELERY_BROKER_URL") or "")
    if broker.startswith(("redis://", "rediss://")):
        database = str(config.get("SQLALCHEMY_DATABASE_URI") or "")
        namespace = hashlib.sha256(database.encode()).hexdigest()[:16]
        return RedisMarks.from_url(broker, namespace)
    return Inline()


def get_sync_queue() -> SyncQueue:
    """The current app's markers."""
    queue: SyncQueue = current_app.extensions["sync_queue"]
    return queue

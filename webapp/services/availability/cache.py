"""A short cache of computed availability, dropped per instructor.

Each instructor has a generation number; an entry remembers the generations of the
instructors it covers and is stale as soon as any of them moved on (a calendar change
notification, a Bookly write by us, a settings change) or its time is up. Entries are
plain JSON so the same rules work in process (embedded default) and in Redis (production,
shared by every web process). A booking never reads this cache.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

log = logging.getLogger(__name__)

DEFAULT_TTL_SECONDS = 60
MAX_ENTRIES = 2048


class CacheStore(Protocol):
    """Where entries and generations live."""

    def generations(self, instructor_ids: Sequence[int]) -> list[int]:
        """Current generation of each instructor (0 when never dropped)."""
        ...

    def bump(self, instructor_ids: Iterable[int]) -> None:
        """Move the instructors to a new generation (their entries become stale)."""
        ...

    def get(self, key: str) -> str | None:
        """The stored entry, or None when absent or expired."""
        ...

    def put(self, key: str, value: str, ttl_seconds: int) -> None:
        """Store an entry for ``ttl_seconds``."""
        ...


class InProcessStore:
    """Entries in this process (the embedded default); bounded, thread-safe."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._generations: dict[int, int] = {}

    def generations(self, instructor_ids: Sequence[int]) -> list[int]:
        """Current generation of each instructor."""
        with self._lock:
            return [self._generations.get(i, 0) for i in instructor_ids]

    def bump(self, instructor_ids: Iterable[int]) -> None:
        """New generation for each instructor."""
        with self._lock:
            for i in instructor_ids:
                self._generations[i] = self._generations.get(i, 0) + 1

    def get(self, key: str) -> str | None:
        """The entry unless expired."""
        with self._lock:
            found = self._entries.get(key)
            if found is None or found[0] <= self._clock():
                self._entries.pop(key, None)
                return None
            return found[1]

    def put(self, key: str, value: str, ttl_seconds: int) -> None:
        """Store, evicting the oldest entries past MAX_ENTRIES."""
        with self._lock:
            self._entries[key] = (self._clock() + ttl_seconds, value)
            self._entries.move_to_end(key)
            while len(self._entries) > MAX_ENTRIES:
                self._entries.popitem(last=False)


class RedisStore:
    """Entries and generations in Redis, shared by every process (production)."""

    PREFIX = "availability:"

    def __init__(self, redis: Any) -> None:
        self._redis = redis

    @classmethod
    def from_url(cls, url: str) -> RedisStore:
        """A store on the Redis at ``url``."""
        import redis

        return cls(redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0))

    def generations(self, instructor_ids: Sequence[int]) -> list[int]:
        """Current generation of each instructor."""
        if not instructor_ids:
            return []
        raw = self._redis.mget([f"{self.PREFIX}gen:{i}" for i in instructor_ids])
        return [int(v) if v is not None else 0 for v in raw]

    def bump(self, instructor_ids: Iterable[int]) -> None:
        """INCR each instructor's generation."""
        pipe = self._redis.pipeline()
        for i in instructor_ids:
            pipe.incr(f"{self.PREFIX}gen:{i}")
        pipe.execute()

    def get(self, key: str) -> str | None:
        """The entry (Redis expires it)."""
        value = self._redis.get(f"{self.PREFIX}entry:{key}")
        return value.decode() if isinstance(value, bytes) else value

    def put(self, key: str, value: str, ttl_seconds: int) -> None:
        """SET with an expiry."""
        self._redis.set(f"{self.PREFIX}entry:{key}", value, ex=ttl_seconds)


@dataclass(frozen=True, slots=True)
class Lookup:
    """What a cache lookup found."""

    payload: dict[str, Any] | None
    generations: list[int] | None


class AvailabilityCache:
    """Time-bounded entries keyed by view, invalidated per instructor."""

    def __init__(self, store: CacheStore, ttl_seconds: int = DEFAULT_TTL_SECONDS) -> None:
        self.store = store
        self.ttl_seconds = ttl_seconds

    def lookup(self, key: str, instructor_ids: Sequence[int]) -> Lookup:
        """The cached payload (None on a miss) and the generations to store a fresh one under.

        The generations are read before the caller computes, so a drop that happens while it
        computes makes the stored entry stale at once.
        """
        if self.ttl_seconds <= 0:
            return Lookup(None, None)
        try:
            generations = self.store.generations(instructor_ids)
            raw = self.store.get(key)
            entry = json.loads(raw) if raw is not None else None
        except Exception:  # a cache must never break a page: treat trouble as a miss
            log.warning("availability cache read failed; computing afresh", exc_info=True)
            return Lookup(None, None)
        if entry is None or entry.get("generations") != generations:
            return Lookup(None, generations)
        return Lookup(entry["payload"], generations)

    def put(self, key: str, generations: list[int] | None, payload: dict[str, Any]) -> None:
        """Store ``payload`` under the generations ``lookup`` returned."""
        if self.ttl_seconds <= 0 or generations is None:
            return
        try:
            entry = {"generations": generations, "payload": payload}
            self.store.put(key, json.dumps(entry, separators=(",", ":")), self.ttl_seconds)
        except Exception:
            log.warning("availability cache write failed", exc_info=True)

    def drop(self, instructor_ids: Iterable[int]) -> None:
        """Make every entry covering these instructors stale."""
        ids = list(instructor_ids)
        if not ids:
            return
        try:
            self.store.bump(ids)
        except Exception:
            # Entries then live out their (short) time; nothing else to do.
            log.warning("availability cache invalidation failed for %d instructors", len(ids))


def build_cache(url: str | None, ttl_seconds: int) -> AvailabilityCache:
    """Redis when ``url`` is given, else in process."""
    store: CacheStore = RedisStore.from_url(url) if url else InProcessStore()
    return AvailabilityCache(store, ttl_seconds)

"""Client-side rate limiting over moving windows (Cronofy: 50/s and 500/min per application).

The counters live in a ``limits`` storage: ``memory://`` counts for one process (the embedded
default, tests), ``redis://...`` shares them between every process and host of the deployment
(DESIGN §3), so N gunicorn processes and M workers together stay within Cronofy's limits.
A storage outage never blocks Cronofy calls: the limiter then lets calls through (Cronofy's
own 429s, which the transport honours, are the backstop) and logs a warning.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.errors import StorageError
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from cronofy_client.errors import CronofyRateLimited

log = logging.getLogger(__name__)

# Cronofy's documented default per-application limits.
DEFAULT_WINDOWS: tuple[tuple[int, float], ...] = ((50, 1.0), (500, 60.0))
# Smallest wait, so a waiter never spins without time advancing (limits' windows are closed).
_MIN_WAIT = 1e-6


class _Window(RateLimitItemPerSecond):
    """``limit`` calls per ``span`` seconds; ``limits`` items only count whole seconds."""

    __slots__ = ("span",)

    def __init__(self, limit: int, span: float) -> None:
        super().__init__(limit, 1)
        self.span = span

    def get_expiry(self) -> float:  # type: ignore[override]  # limits' storages take floats
        return self.span

    def key_for(self, *identifiers: bytes | str | int | float) -> str:
        prefix = "/".join(str(i) for i in identifiers)
        return f"{self.namespace}/{prefix}/{self.amount}/per/{self.span:g}s"


class RateLimiter:
    """Blocks callers so that no window ``(limit, seconds)`` ever holds more than ``limit`` calls.

    ``storage`` is a ``limits`` storage or its URI (default: this process' memory). ``key``
    names the counted application (one Cronofy client id). ``clock`` must be the clock the
    storage stamps entries with (wall time; tests inject a fake one), ``sleep`` how to wait.
    """

    def __init__(
        self,
        windows: Sequence[tuple[int, float]] = DEFAULT_WINDOWS,
        *,
        storage: Storage | str | None = None,
        key: str = "cronofy",
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not windows or any(limit < 1 or span <= 0 for limit, span in windows):
            raise ValueError("windows need a positive limit and span")
        self._items: tuple[RateLimitItem, ...] = tuple(
            _Window(limit, span) for limit, span in windows
        )
        if storage is None:
            storage = MemoryStorage()
        self._limiter = MovingWindowRateLimiter(
            storage_from_string(storage, wrap_exceptions=True)
            if isinstance(storage, str)
            else storage
        )
        self._key = key
        self._clock = clock
        self._sleep = sleep

    def acquire(self, *, max_wait: float | None = None) -> float:
        """Wait until one more call fits every window, record it and return the time waited.

        Raises ``CronofyRateLimited`` (nothing recorded) when the wait would exceed ``max_wait``.
        """
        waited = 0.0
        while True:
            wait = self._try_hit()
            if wait is None:
                return waited
            wait = max(wait, _MIN_WAIT)
            if max_wait is not None and waited + wait > max_wait:
                raise CronofyRateLimited(
                    "Our Cronofy rate limit is reached for this call's deadline",
                    status=None,
                    retry_after=wait,
                )
            log.debug("Rate limiter holding a Cronofy call for %.3fs", wait)
            self._sleep(wait)
            waited += wait

    def _try_hit(self) -> float | None:
        """Record one call when every window has room (None); else seconds until one may."""
        try:
            waits = [self._wait_for(i) for i in self._items if not self._limiter.test(i, self._key)]
            if waits:
                # An entry still counts at exactly its window's end: wait just past it.
                return max(waits) + _MIN_WAIT
            for item in self._items:
                if not self._limiter.hit(item, self._key):
                    # Another process took the last slot since the test; the windows hit
                    # before this one counted a call that will not happen: slower, never faster.
                    return _MIN_WAIT
        except StorageError as exc:
            log.warning("Rate-limit storage unavailable (%s); not limiting", type(exc).__name__)
        return None

    def _wait_for(self, item: RateLimitItem) -> float:
        stats = self._limiter.get_window_stats(item, self._key)
        return float(stats.reset_time) - self._clock()

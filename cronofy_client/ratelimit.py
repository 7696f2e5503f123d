"""A thread-safe client-side rate limiter over sliding windows (Cronofy: 50/s and 500/min)."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence

log = logging.getLogger(__name__)

# Cronofy's documented default per-application limits.
DEFAULT_WINDOWS: tuple[tuple[int, float], ...] = ((50, 1.0), (500, 60.0))
# Smallest wait, so float rounding can never make a waiter spin without time advancing.
_MIN_WAIT = 0.001


class RateLimiter:
    """Blocks callers so that no window ``(limit, seconds)`` ever holds more than ``limit`` calls.

    A call at time ``t`` occupies ``[t, t + seconds)`` of each window. ``clock`` must be
    monotonic; ``clock`` and ``sleep`` are injectable so tests need no real waiting.
    """

    def __init__(
        self,
        windows: Sequence[tuple[int, float]] = DEFAULT_WINDOWS,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not windows or any(limit < 1 or span <= 0 for limit, span in windows):
            raise ValueError("windows need a positive limit and span")
        self._windows = tuple(windows)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        longest = max(limit for limit, _ in self._windows)
        self._stamps: deque[float] = deque(maxlen=longest)

    def acquire(self) -> float:
        """Wait until one more call fits every window, record it and return the time waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                wait = self._wait_needed(now)
                if wait <= 0:
                    self._stamps.append(now)
                    return waited
            wait = max(wait, _MIN_WAIT)
            log.debug("Rate limiter holding a Cronofy call for %.3fs", wait)
            self._sleep(wait)
            waited += wait

    def _wait_needed(self, now: float) -> float:
        """Seconds until every window has room (0 when there is room now)."""
        wait = 0.0
        stamps = self._stamps
        for limit, span in self._windows:
            if len(stamps) < limit:
                continue
            # The limit-th most recent call must have left the window [now - span, now].
            oldest_relevant = stamps[len(stamps) - limit]
            wait = max(wait, oldest_relevant + span - now)
        return wait

"""The client-side rate limiter: 50 calls/s and 500 calls/min, on an injected clock."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
import responses

from cronofy_client import CronofyClient, RateLimiter

API = "https://api.cronofy.com"


def max_in_window(stamps: list[float], span: float) -> int:
    """Largest number of calls inside any half-open window [t, t + span)."""
    ordered = sorted(stamps)
    best, left = 0, 0
    for right, stamp in enumerate(ordered):
        while stamp - ordered[left] >= span - 1e-9:
            left += 1
        best = max(best, right - left + 1)
    return best


@pytest.mark.requirement(19)
def test_thousand_calls_through_one_client_respect_both_windows(
    api: responses.RequestsMock, client_factory: Callable[..., CronofyClient], clock: object
) -> None:
    limiter = RateLimiter(clock=clock.monotonic, sleep=clock.sleep)  # type: ignore[attr-defined]
    client = client_factory(rate_limiter=limiter)
    stamps: list[float] = []

    def record(request: object) -> tuple[int, dict[str, str], str]:
        stamps.append(clock.now)  # type: ignore[attr-defined]
        return 200, {}, '{"calendars": []}'

    api.add_callback(responses.GET, f"{API}/v1/calendars", callback=record)
    for _ in range(1000):
        client.calendars("tok")
    assert len(stamps) == 1000
    assert max_in_window(stamps, 1.0) == 50
    assert max_in_window(stamps, 60.0) == 500
    # No needless waiting: 500 calls in the first ~9 s, then the minute window reopens at 60 s
    # and the remaining 500 go at 50/s, so the last call lands at 69 s.
    assert stamps[-1] - stamps[0] == pytest.approx(69.0, abs=0.1)


def test_retries_also_pass_through_the_limiter(
    api: responses.RequestsMock, client_factory: Callable[..., CronofyClient], clock: object
) -> None:
    limiter = RateLimiter([(2, 1.0)], clock=clock.monotonic, sleep=clock.sleep)  # type: ignore[attr-defined]
    client = client_factory(rate_limiter=limiter, jitter=lambda c: 0.0)
    api.get(f"{API}/v1/calendars", status=503)
    api.get(f"{API}/v1/calendars", status=503)
    api.get(f"{API}/v1/calendars", json={"calendars": []})
    client.calendars("tok")
    assert clock.sleeps[-1] == pytest.approx(1.0)  # type: ignore[attr-defined]


def test_limiter_waits_exactly_until_the_oldest_call_leaves(clock: object) -> None:
    limiter = RateLimiter([(3, 10.0)], clock=clock.monotonic, sleep=clock.sleep)  # type: ignore[attr-defined]
    assert [limiter.acquire() for _ in range(3)] == [0.0, 0.0, 0.0]
    clock.now += 4  # type: ignore[attr-defined]
    assert limiter.acquire() == pytest.approx(6.0)


def test_limiter_rejects_bad_windows() -> None:
    with pytest.raises(ValueError, match="positive"):
        RateLimiter([(0, 1.0)])
    with pytest.raises(ValueError, match="positive"):
        RateLimiter([])


def test_limiter_is_thread_safe() -> None:
    """Many threads on a real clock with a tiny window: no window is ever over its limit."""
    stamps: list[float] = []
    lock = threading.Lock()
    import time

    limiter = RateLimiter([(5, 0.05)])

    def worker() -> None:
        for _ in range(10):
            limiter.acquire()
            with lock:
                stamps.append(time.monotonic())

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(stamps) == 80
    # stamps are taken just after acquire, so allow a small scheduling slack
    assert max_in_window(stamps, 0.045) <= 5

"""The Cronofy rate limiter on Redis: processes sharing the storage share the windows."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator

import pytest
import redis

from cronofy_client import CronofyRateLimited, RateLimiter

pytestmark = pytest.mark.redis


@pytest.fixture
def limiter_key(redis_url: str) -> Iterator[str]:
    """A key of its own for one test; its Redis entries are deleted afterwards."""
    key = f"test-cronofy-{uuid.uuid4().hex}"
    yield key
    client = redis.Redis.from_url(redis_url)
    for name in client.scan_iter(match=f"*{key}*"):
        client.delete(name)
    client.close()


def test_two_limiters_on_one_redis_never_exceed_the_window_together(
    redis_url: str, limiter_key: str
) -> None:
    """Two limiters stand for two processes: together they get 3 calls per second, not 6."""
    limiters = [RateLimiter([(3, 1.0)], storage=redis_url, key=limiter_key) for _ in range(2)]
    stamps: list[float] = []
    lock = threading.Lock()

    def calls(limiter: RateLimiter) -> None:
        for _ in range(3):
            limiter.acquire()
            with lock:
                stamps.append(time.time())

    threads = [threading.Thread(target=calls, args=(limiter,)) for limiter in limiters]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stamps.sort()
    assert len(stamps) == 6
    assert stamps[3] - stamps[0] >= 0.95  # the 4th call waited for the 1st to leave the window


def test_a_separate_memory_limiter_does_not_see_the_shared_counts(
    redis_url: str, limiter_key: str
) -> None:
    shared = RateLimiter([(1, 60.0)], storage=redis_url, key=limiter_key)
    assert shared.acquire() == 0.0
    other_process = RateLimiter([(1, 60.0)], storage=redis_url, key=limiter_key)
    with pytest.raises(CronofyRateLimited):
        other_process.acquire(max_wait=1.0)
    assert RateLimiter([(1, 60.0)], key=limiter_key).acquire() == 0.0  # memory: own count


def test_an_unreachable_storage_lets_calls_through() -> None:
    limiter = RateLimiter([(1, 60.0)], storage="redis://127.0.0.1:1/0", key="unreachable")
    assert [limiter.acquire(max_wait=0.1) for _ in range(3)] == [0.0, 0.0, 0.0]

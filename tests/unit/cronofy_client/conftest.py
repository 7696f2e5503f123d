"""Fixtures for the cronofy_client unit tests: strict HTTP mocking and an injected clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace

import limits.storage.memory
import pytest
import responses

from cronofy_client import CronofyClient, RateLimiter

API = "https://api.cronofy.com"
NOW = datetime(2031, 3, 4, 9, 0, tzinfo=UTC)
SECRET = "CRN_current_secret_for_tests"
PREVIOUS_SECRET = "CRN_previous_secret_for_tests"
TOKEN = "acc_token_0123456789abcdef012345"


@dataclass
class FakeClock:
    """A monotonic clock that only moves when something sleeps on it."""

    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """A fake clock, also the one the rate limiter's memory storage (``limits``) stamps with."""
    fake = FakeClock()
    monkeypatch.setattr(limits.storage.memory, "time", SimpleNamespace(time=fake.monotonic))
    return fake


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    """Strict `responses`: every registered mock must fire, unmatched requests fail the test."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock
        unmatched = [c for c in mock.calls if "Connection refused by Responses" in str(c.response)]
        assert not unmatched, f"unmatched requests: {[c.request.url for c in unmatched]}"


def make_client(clock: FakeClock, **kwargs: object) -> CronofyClient:
    """A client whose sleeps, jitter, clocks and rate limiter are all injected."""
    options: dict[str, object] = {
        "previous_client_secrets": (PREVIOUS_SECRET,),
        "sleep": clock.sleep,
        "jitter": lambda ceiling: ceiling,
        "clock": clock.monotonic,
        "utcnow": lambda: NOW,
    }
    options.update(kwargs)
    return CronofyClient("cid_test", SECRET, **options)  # type: ignore[arg-type]


@pytest.fixture
def client(clock: FakeClock) -> CronofyClient:
    return make_client(clock)


@pytest.fixture
def client_factory(clock: FakeClock) -> Callable[..., CronofyClient]:
    """Build a client with injected timing and extra constructor options."""
    return lambda **kwargs: make_client(clock, **kwargs)


@pytest.fixture
def limiter(clock: FakeClock) -> RateLimiter:
    return RateLimiter(clock=clock.monotonic, sleep=clock.sleep)

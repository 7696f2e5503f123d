"""Per-call options (no retries, a total deadline) and "not reached" kept apart from "5xx"."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import requests
import responses

from cronofy_client import (
    IN_REQUEST,
    CallOptions,
    CronofyClient,
    CronofyNotReached,
    CronofyRateLimited,
    CronofyServerError,
    CronofyUnavailable,
    RateLimiter,
)

from .conftest import FakeClock

API = "https://api.cronofy.com"
TOKEN = "acc_token_for_tests"
CALENDARS = f"{API}/v1/calendars"
CAL_BODY: dict[str, list[object]] = {"calendars": []}


def slow(
    clock: FakeClock, seconds: float, status: int
) -> Callable[..., tuple[int, dict[str, str], str]]:
    """A response callback that takes ``seconds`` on the fake clock, then answers ``status``."""

    def answer(request: object) -> tuple[int, dict[str, str], str]:
        clock.now += seconds
        return status, {}, '{"calendars": []}'

    return answer


def test_a_5xx_answer_is_a_server_error_and_a_timeout_is_not_reached(
    api: responses.RequestsMock, client_factory: Callable[..., CronofyClient]
) -> None:
    client = client_factory(max_retries=0)
    api.get(CALENDARS, status=502)
    api.get(CALENDARS, body=requests.ReadTimeout("slow"))
    api.get(CALENDARS, body=requests.ConnectionError("reset"))
    with pytest.raises(CronofyServerError) as answered:
        client.calendars(TOKEN)
    with pytest.raises(CronofyNotReached) as timed_out:
        client.calendars(TOKEN)
    with pytest.raises(CronofyNotReached) as reset:
        client.calendars(TOKEN)
    assert answered.value.status == 502
    assert timed_out.value.status is None
    assert reset.value.status is None
    # Both stay "unavailable" for callers that treat them alike.
    assert all(isinstance(e.value, CronofyUnavailable) for e in (answered, timed_out, reset))
    assert not isinstance(answered.value, CronofyNotReached)


def test_in_request_options_make_one_attempt_where_the_default_retries(
    api: responses.RequestsMock, client: CronofyClient
) -> None:
    api.get(CALENDARS, status=503)
    with pytest.raises(CronofyServerError):
        client.with_options(IN_REQUEST).calendars(TOKEN)
    assert len(api.calls) == 1
    with pytest.raises(CronofyServerError):
        client.calendars(TOKEN)  # the original client keeps its own retries
    assert len(api.calls) == 5


def test_the_deadline_stops_retries_whose_backoff_would_end_past_it(
    api: responses.RequestsMock, client: CronofyClient, clock: FakeClock
) -> None:
    api.add_callback(responses.GET, CALENDARS, callback=slow(clock, 2.0, 503))
    bounded = client.with_options(CallOptions(max_retries=3, deadline=5.0))
    started = clock.now
    with pytest.raises(CronofyServerError):
        bounded.calendars(TOKEN)
    # 2 s attempt, 0.5 s backoff, 2 s attempt; the next backoff (1 s) would end at 5.5 s.
    assert len(api.calls) == 2
    assert clock.now - started == pytest.approx(4.5)


@pytest.mark.requirement(20)
def test_each_attempt_timeout_is_shortened_to_the_time_left(
    api: responses.RequestsMock, client: CronofyClient, clock: FakeClock
) -> None:
    api.add_callback(responses.GET, CALENDARS, callback=slow(clock, 2.0, 503))
    api.get(CALENDARS, json=CAL_BODY)
    client.with_options(CallOptions(max_retries=1, deadline=5.0)).calendars(TOKEN)
    timeouts = [c.request.req_kwargs["timeout"] for c in api.calls]  # type: ignore[attr-defined]
    assert timeouts == [(3.05, 5.0), (2.5, 2.5)]


def test_a_limiter_wait_past_the_deadline_raises_without_calling_cronofy(
    api: responses.RequestsMock, client_factory: Callable[..., CronofyClient], clock: FakeClock
) -> None:
    limiter = RateLimiter([(1, 60.0)], clock=clock.monotonic, sleep=clock.sleep)
    client = client_factory(rate_limiter=limiter)
    api.get(CALENDARS, json=CAL_BODY)
    client.calendars(TOKEN)
    with pytest.raises(CronofyRateLimited) as info:
        client.with_options(IN_REQUEST).calendars(TOKEN)
    assert len(api.calls) == 1
    assert info.value.retry_after == pytest.approx(60.0)
    assert clock.sleeps == []  # nobody waited inside the request


def test_options_reject_nonsense() -> None:
    with pytest.raises(ValueError, match="max_retries"):
        CallOptions(max_retries=-1)
    with pytest.raises(ValueError, match="deadline"):
        CallOptions(deadline=0)

"""Timeouts, retries, backoff, Retry-After and the status -> error mapping."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
import requests
import responses

from cronofy_client import (
    CronofyAuthExpired,
    CronofyClient,
    CronofyError,
    CronofyInsufficientScope,
    CronofyNotFound,
    CronofyRateLimited,
    CronofyUnavailable,
    CronofyValidationError,
    FieldError,
)

API = "https://api.cronofy.com"
TOKEN = "acc_token_for_tests"
CALENDARS = f"{API}/v1/calendars"
CAL_BODY: dict[str, list[object]] = {"calendars": []}


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (401, CronofyAuthExpired),
        (403, CronofyInsufficientScope),
        (404, CronofyNotFound),
        (402, CronofyError),
        (423, CronofyError),
    ],
)
def test_client_errors_map_to_the_hierarchy_without_retry(
    api: responses.RequestsMock, client: CronofyClient, status: int, error: type[CronofyError]
) -> None:
    api.get(CALENDARS, status=status, json={"error": "x"})
    with pytest.raises(error) as info:
        client.calendars(TOKEN)
    assert type(info.value) is error
    assert info.value.status == status
    assert len(api.calls) == 1


def test_validation_error_carries_field_errors(
    api: responses.RequestsMock, client: CronofyClient
) -> None:
    api.post(
        CALENDARS,
        status=422,
        json={
            "errors": {"name": [{"key": "errors.duplicate_calendar_name", "description": "taken"}]}
        },
    )
    with pytest.raises(CronofyValidationError) as info:
        client.create_calendar(TOKEN, profile_id="pro_1", name="Bookings")
    assert info.value.errors == {"name": [FieldError("errors.duplicate_calendar_name", "taken")]}
    assert "errors.duplicate_calendar_name" in str(info.value)
    assert TOKEN not in str(info.value)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_retried_then_raised_as_unavailable(
    api: responses.RequestsMock, client: CronofyClient, clock: object, status: int
) -> None:
    api.get(CALENDARS, status=status)
    with pytest.raises(CronofyUnavailable):
        client.calendars(TOKEN)
    assert len(api.calls) == 4  # first attempt + max_retries=3


@pytest.mark.requirement(18)
def test_backoff_is_exponential_and_capped_with_injected_jitter(
    api: responses.RequestsMock, client_factory: Callable[..., CronofyClient], clock: object
) -> None:
    ceilings: list[float] = []

    def jitter(ceiling: float) -> float:
        ceilings.append(ceiling)
        return ceiling / 2

    client = client_factory(max_retries=5, backoff_base=1.0, backoff_cap=4.0, jitter=jitter)
    api.get(CALENDARS, status=503)
    with pytest.raises(CronofyUnavailable):
        client.calendars(TOKEN)
    assert ceilings == [1.0, 2.0, 4.0, 4.0, 4.0]
    assert clock.sleeps == [0.5, 1.0, 2.0, 2.0, 2.0]  # type: ignore[attr-defined]
    assert len(api.calls) == 6


def test_jitter_outside_the_ceiling_is_clamped(
    api: responses.RequestsMock, client_factory: Callable[..., CronofyClient], clock: object
) -> None:
    client = client_factory(max_retries=2, jitter=lambda ceiling: ceiling * 10)
    api.get(CALENDARS, status=500)
    with pytest.raises(CronofyUnavailable):
        client.calendars(TOKEN)
    assert clock.sleeps == [0.5, 1.0]  # type: ignore[attr-defined]


@pytest.mark.requirement(18)
def test_default_jitter_stays_within_zero_and_the_ceiling(
    api: responses.RequestsMock, client_factory: Callable[..., CronofyClient], clock: object
) -> None:
    from cronofy_client.transport import full_jitter

    client = client_factory(max_retries=3, jitter=full_jitter)
    api.get(CALENDARS, status=500)
    with pytest.raises(CronofyUnavailable):
        client.calendars(TOKEN)
    sleeps = clock.sleeps  # type: ignore[attr-defined]
    assert len(sleeps) == 3
    assert all(0 <= s <= c for s, c in zip(sleeps, [0.5, 1.0, 2.0], strict=True))


def test_retry_succeeds_after_transient_failures(
    api: responses.RequestsMock, client: CronofyClient
) -> None:
    api.get(CALENDARS, status=503)
    api.get(CALENDARS, body=requests.ConnectionError("reset"))
    api.get(CALENDARS, json=CAL_BODY)
    assert client.calendars(TOKEN) == []
    assert len(api.calls) == 3


@pytest.mark.requirement(19)
def test_retry_after_seconds_is_honoured(
    api: responses.RequestsMock, client: CronofyClient, clock: object
) -> None:
    api.get(CALENDARS, status=429, headers={"Retry-After": "7"})
    api.get(CALENDARS, json=CAL_BODY)
    client.calendars(TOKEN)
    assert clock.sleeps == [7.0]  # type: ignore[attr-defined]


@pytest.mark.requirement(19)
def test_retry_after_http_date_is_honoured(
    api: responses.RequestsMock, client: CronofyClient, clock: object
) -> None:
    # NOW in conftest is 2031-03-04 09:00:00 UTC
    api.get(CALENDARS, status=429, headers={"Retry-After": "Tue, 04 Mar 2031 09:00:12 GMT"})
    api.get(CALENDARS, json=CAL_BODY)
    client.calendars(TOKEN)
    assert clock.sleeps == [12.0]  # type: ignore[attr-defined]


@pytest.mark.requirement(19)
def test_429_without_retry_after_uses_backoff(
    api: responses.RequestsMock, client: CronofyClient, clock: object
) -> None:
    api.get(CALENDARS, status=429)
    api.get(CALENDARS, status=429)
    api.get(CALENDARS, json=CAL_BODY)
    client.calendars(TOKEN)
    assert clock.sleeps == [0.5, 1.0]  # type: ignore[attr-defined]


def test_too_long_retry_after_raises_rate_limited_at_once(
    api: responses.RequestsMock, client: CronofyClient, clock: object
) -> None:
    api.get(CALENDARS, status=429, headers={"Retry-After": "3600"})
    with pytest.raises(CronofyRateLimited) as info:
        client.calendars(TOKEN)
    assert info.value.retry_after == 3600.0
    assert clock.sleeps == []  # type: ignore[attr-defined]


def test_rate_limited_after_exhausting_retries(
    api: responses.RequestsMock, client: CronofyClient
) -> None:
    api.get(CALENDARS, status=429, headers={"Retry-After": "1"})
    with pytest.raises(CronofyRateLimited) as info:
        client.calendars(TOKEN)
    assert info.value.retry_after == 1.0
    assert len(api.calls) == 4


@pytest.mark.parametrize(
    "failure", [requests.ReadTimeout("slow"), requests.ConnectTimeout("no route")]
)
@pytest.mark.requirement(20)
def test_timeouts_are_retried_then_raised_as_unavailable(
    api: responses.RequestsMock, client: CronofyClient, failure: Exception
) -> None:
    api.get(CALENDARS, body=failure)
    with pytest.raises(CronofyUnavailable) as info:
        client.calendars(TOKEN)
    assert not isinstance(info.value, requests.RequestException)
    assert isinstance(info.value.__cause__, requests.Timeout)
    assert len(api.calls) == 4


def test_other_requests_errors_do_not_escape(
    api: responses.RequestsMock, client: CronofyClient
) -> None:
    api.get(CALENDARS, body=requests.exceptions.InvalidHeader("bad"))
    with pytest.raises(CronofyError):
        client.calendars(TOKEN)


def test_max_retries_zero_means_one_attempt(
    api: responses.RequestsMock, client_factory: Callable[..., CronofyClient]
) -> None:
    api.get(CALENDARS, status=503)
    with pytest.raises(CronofyUnavailable):
        client_factory(max_retries=0).calendars(TOKEN)
    assert len(api.calls) == 1


def test_unsafe_post_is_never_retried(api: responses.RequestsMock, client: CronofyClient) -> None:
    api.post(CALENDARS, status=503)
    with pytest.raises(CronofyUnavailable):
        client.create_calendar(TOKEN, profile_id="pro_1", name="Bookings")
    assert len(api.calls) == 1


@pytest.mark.requirement(20)
def test_every_request_carries_the_configured_timeout(
    api: responses.RequestsMock, client_factory: Callable[..., CronofyClient]
) -> None:
    client = client_factory(timeout=(1.5, 7.0))
    api.get(CALENDARS, json=CAL_BODY)
    api.get(f"{API}/v1/userinfo", json={"sub": "acc_1"})
    api.post(f"{API}/oauth/token/revoke")
    client.calendars(TOKEN)
    client.userinfo(TOKEN)
    client.revoke(sub="acc_1")
    assert [c.request.req_kwargs["timeout"] for c in api.calls] == [(1.5, 7.0)] * 3  # type: ignore[attr-defined]


def test_requests_use_the_given_session(
    api: responses.RequestsMock, client_factory: Callable[..., CronofyClient]
) -> None:
    session = requests.Session()
    session.headers["X-Trace"] = "on"
    client = client_factory(session=session)
    api.get(CALENDARS, json=CAL_BODY)
    client.calendars(TOKEN)
    assert api.calls[0].request.headers["X-Trace"] == "on"
    assert api.calls[0].request.headers["Authorization"] == f"Bearer {TOKEN}"


def test_query_booleans_are_lowercase(api: responses.RequestsMock, client: CronofyClient) -> None:
    api.get(f"{API}/v1/events", json={"pages": {"current": 1, "total": 1}, "events": []})
    list(client.read_events(TOKEN, include_deleted=True, from_date=date(2031, 3, 1)))
    url = api.calls[0].request.url or ""
    assert "include_deleted=true" in url
    assert "include_moved=false" in url
    assert "True" not in url
    assert "False" not in url


def test_malformed_success_body_is_a_cronofy_error(
    api: responses.RequestsMock, client: CronofyClient
) -> None:
    api.get(CALENDARS, body="<html>oops</html>")
    with pytest.raises(CronofyError):
        client.calendars(TOKEN)


def test_unexpected_shape_is_a_cronofy_error(
    api: responses.RequestsMock, client: CronofyClient
) -> None:
    api.get(CALENDARS, json={"calendars": [{"no_id": True}]})
    with pytest.raises(CronofyError, match="calendars"):
        client.calendars(TOKEN)


@pytest.mark.parametrize(
    ("method", "path", "body", "expected"),
    [
        ("GET", "/v1/events", None, True),
        ("DELETE", "/v1/calendars/cal_1/events", {"event_id": "e"}, True),
        ("POST", "/v1/calendars/cal_1/events", {"event_id": "e"}, True),
        ("POST", "/v1/calendars/cal_1/events", {"summary": "no id"}, False),
        ("POST", "/v1/availability", {}, True),
        ("POST", "/v1/channels", {}, True),
        ("POST", "/v1/smart_invites", {}, True),
        ("POST", "/oauth/token/revoke", {}, True),
        ("POST", "/oauth/token", {}, False),
        ("POST", "/v1/calendars", {}, False),
        ("POST", "/v1/service_account_authorizations", {}, False),
        ("PATCH", "/v1/anything", {}, False),
    ],
)
def test_retry_safety_classification(
    method: str, path: str, body: dict[str, str] | None, expected: bool
) -> None:
    from cronofy_client.transport import is_idempotent

    assert is_idempotent(method, f"{API}{path}", body) is expected


def test_delete_is_retried(api: responses.RequestsMock, client: CronofyClient) -> None:
    api.delete(f"{API}/v1/channels/chn_1", body=requests.ReadTimeout("slow"))
    api.delete(f"{API}/v1/channels/chn_1", status=202)
    client.close_channel(TOKEN, "chn_1")
    assert len(api.calls) == 2

"""HTTP transport: one session, timeouts on every call, rate limiting, safe retries, error mapping.

Every request of the package (pycronofy's included, through ``sdk.ResilientRequestHandler``)
goes through ``Transport.request``. It

* waits on the shared ``RateLimiter`` before every attempt,
* always passes the ``(connect, read)`` timeout,
* retries 429, 5xx, timeouts and connection errors only for idempotent requests, with capped
  full-jitter exponential backoff, honouring ``Retry-After`` when Cronofy sends it,
* keeps a whole logical call (limiter waits, attempts, backoff) within ``CallOptions.deadline``
  when one is set: inside a web request that is ``IN_REQUEST`` (no retries, about 5 s),
* turns every failure into a ``CronofyError`` (no ``requests`` exception escapes).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import requests

from cronofy_client.errors import (
    CronofyError,
    CronofyNotReached,
    CronofyRateLimited,
    CronofyUnavailable,
    error_for_status,
)
from cronofy_client.ratelimit import RateLimiter

log = logging.getLogger(__name__)

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
USER_AGENT = "bookly-bridge cronofy_client (pycronofy 2.1)"
# POST endpoints that are idempotent by design (same body -> same effect), so safe to retry.
_IDEMPOTENT_POSTS = ("/v1/availability", "/v1/channels", "/v1/smart_invites", "/oauth/token/revoke")


def full_jitter(ceiling: float) -> float:
    """Default jitter: a uniform delay in ``[0, ceiling]`` ("full jitter")."""
    return float(random.uniform(0.0, ceiling))  # noqa: S311 - backoff spread, not security


def backoff_ceiling(retry_number: int, *, base: float, cap: float) -> float:
    """Upper bound of the delay before retry ``retry_number`` (1-based): base * 2^(n-1), capped."""
    return min(cap, base * 2.0 ** max(0, retry_number - 1))


def jittered_backoff(
    retry_number: int,
    *,
    base: float,
    cap: float,
    jitter: Callable[[float], float] = full_jitter,
) -> float:
    """Seconds to wait before retry ``retry_number`` (1-based): capped exponential, full jitter.

    The one backoff of the project: Cronofy calls here, and outbox jobs between their tries.
    """
    ceiling = backoff_ceiling(retry_number, base=base, cap=cap)
    return min(ceiling, max(0.0, jitter(ceiling)))


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Retry settings; ``max_retries`` counts retries after the first attempt."""

    max_retries: int = 3
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    max_retry_after: float = 60.0  # a longer Retry-After is not waited for; the 429 is raised

    def backoff_ceiling(self, retry_number: int) -> float:
        """Upper bound of the delay before retry ``retry_number`` (1-based)."""
        return backoff_ceiling(retry_number, base=self.backoff_base, cap=self.backoff_cap)


@dataclass(frozen=True, slots=True)
class CallOptions:
    """Per-call overrides of the client's defaults (``CronofyClient.with_options``).

    ``max_retries``: retries after the first attempt (None: the client's setting).
    ``deadline``: seconds the whole logical call may take, rate-limiter waits, attempts and
    backoff included (None: no deadline beyond each attempt's timeout). Past it the call
    raises ``CronofyNotReached`` (or ``CronofyRateLimited`` when our own limiter would wait).
    """

    max_retries: int | None = None
    deadline: float | None = None

    def __post_init__(self) -> None:
        if self.max_retries is not None and self.max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        if self.deadline is not None and self.deadline <= 0:
            raise ValueError("deadline must be > 0 seconds")


# Inside a web request or webhook receiver: one attempt, and never more than about 5 seconds.
IN_REQUEST = CallOptions(max_retries=0, deadline=5.0)


def is_idempotent(method: str, url: str, body: Mapping[str, Any] | None) -> bool:
    """Whether repeating this request cannot change the outcome (decides retry safety)."""
    method = method.upper()
    if method in ("GET", "HEAD", "DELETE"):
        return True
    if method != "POST":
        return False
    path = urlsplit(url).path.rstrip("/")
    if path.endswith(_IDEMPOTENT_POSTS):
        return True
    # Upserting a managed event by event_id (or an external one by event_uid) is idempotent.
    is_event_upsert = "/v1/calendars/" in path and path.endswith("/events")
    if not is_event_upsert or body is None:
        return False
    return "event_id" in body or "event_uid" in body


def query_params(params: Mapping[str, Any] | None) -> dict[str, Any]:
    """Drop ``None``s; booleans are sent as lowercase ``true``/``false`` (pycronofy: ``True``)."""
    result: dict[str, Any] = {}
    for key, value in (params or {}).items():
        if value is None:
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, tuple | list):
            value = [v for v in value if v is not None]
        result[key] = value
    return result


class Transport:
    """Sends every Cronofy HTTP request of one client."""

    def __init__(
        self,
        *,
        session: requests.Session,
        timeout: tuple[float, float],
        retry: RetryPolicy,
        rate_limiter: RateLimiter,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[float], float] = full_jitter,
        utcnow: Callable[[], datetime] = lambda: datetime.now(UTC),
        clock: Callable[[], float] = time.monotonic,
        options: CallOptions = CallOptions(),
    ) -> None:
        self.session = session
        self.timeout = timeout
        self.retry = retry
        self.rate_limiter = rate_limiter
        self.options = options
        self._sleep = sleep
        self._jitter = jitter
        self._utcnow = utcnow
        self._clock = clock

    def with_options(self, options: CallOptions) -> Transport:
        """The same transport (session, limiter, clocks) with other per-call options."""
        return Transport(
            session=self.session,
            timeout=self.timeout,
            retry=self.retry,
            rate_limiter=self.rate_limiter,
            sleep=self._sleep,
            jitter=self._jitter,
            utcnow=self._utcnow,
            clock=self._clock,
            options=options,
        )

    def request(
        self,
        method: str,
        url: str,
        *,
        bearer: str | None = None,
        json: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        idempotent: bool | None = None,
    ) -> requests.Response:
        """Send one logical request (with retries when safe) and return the 2xx response."""
        safe = is_idempotent(method, url, json) if idempotent is None else idempotent
        kwargs = self._request_kwargs(bearer, json, params)
        retries = self.options.max_retries
        max_retries = (self.retry.max_retries if retries is None else retries) if safe else 0
        deadline = self.options.deadline
        ends_at = None if deadline is None else self._clock() + deadline
        retry_number = 0
        while True:
            try:
                return self._attempt(method.upper(), url, kwargs, ends_at)
            except (CronofyRateLimited, CronofyUnavailable) as exc:
                retry_number += 1
                delay = self._delay(retry_number, exc) if retry_number <= max_retries else None
                if delay is None or (ends_at is not None and self._clock() + delay >= ends_at):
                    raise
                path = urlsplit(url).path
                log.info(
                    "Retrying Cronofy %s %s in %.2fs (retry %d)", method, path, delay, retry_number
                )
                self._sleep(delay)

    def _request_kwargs(
        self,
        bearer: str | None,
        json: Mapping[str, Any] | None,
        params: Mapping[str, Any] | None,
    ) -> dict[str, Any]:
        """Keyword arguments for ``Session.request``; the timeout is always set."""
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if bearer is not None:
            headers["Authorization"] = f"Bearer {bearer}"
        kwargs: dict[str, Any] = {
            "headers": headers,
            "params": query_params(params),
            "timeout": self.timeout,
        }
        if json is not None:
            kwargs["json"] = dict(json)
        return kwargs

    def _attempt(
        self, method: str, url: str, kwargs: dict[str, Any], ends_at: float | None
    ) -> requests.Response:
        """One HTTP exchange after the rate limiter; raises mapped errors on failure."""
        if ends_at is None:
            self.rate_limiter.acquire()
        else:
            self.rate_limiter.acquire(max_wait=max(0.0, ends_at - self._clock()))
            kwargs = {**kwargs, "timeout": self._timeout_within(ends_at)}
        try:
            response = self.session.request(method, url, **kwargs)
        except requests.Timeout as exc:
            raise CronofyNotReached("Timed out talking to Cronofy") from exc
        except requests.ConnectionError as exc:
            raise CronofyNotReached("Could not connect to Cronofy") from exc
        except requests.RequestException as exc:
            raise CronofyError(f"Cronofy request failed: {type(exc).__name__}") from exc
        if 200 <= response.status_code < 300:
            return response
        raise self._error(response, url)

    def _timeout_within(self, ends_at: float) -> tuple[float, float]:
        """The ``(connect, read)`` timeout, shortened so the attempt ends by the deadline.

        ``requests``' read timeout bounds each wait for bytes, not the whole body; Cronofy's
        answers are small, so in practice this bounds the attempt.
        """
        left = ends_at - self._clock()
        if left <= 0:
            raise CronofyNotReached("The call's deadline passed before Cronofy was reached")
        connect, read = self.timeout
        return (min(connect, left), min(read, left))

    def _error(self, response: requests.Response, url: str) -> CronofyError:
        try:
            body: object = response.json()
        except ValueError:
            body = None
        status = response.status_code
        log.warning(
            "Cronofy %s %s answered %d", response.request.method, urlsplit(url).path, status
        )
        return error_for_status(
            status,
            body,
            token_endpoint=urlsplit(url).path.rstrip("/").endswith("/oauth/token"),
            retry_after=self._retry_after(response.headers.get("Retry-After")),
        )

    def _delay(self, retry_number: int, exc: CronofyError) -> float | None:
        """Seconds to wait before the retry, or None when it is not worth waiting."""
        if isinstance(exc, CronofyRateLimited) and exc.retry_after is not None:
            if exc.retry_after > self.retry.max_retry_after:
                return None
            return exc.retry_after
        return jittered_backoff(
            retry_number,
            base=self.retry.backoff_base,
            cap=self.retry.backoff_cap,
            jitter=self._jitter,
        )

    def _retry_after(self, value: str | None) -> float | None:
        """Parse ``Retry-After`` as seconds or an HTTP date; None when absent or unreadable."""
        if not value:
            return None
        value = value.strip()
        try:
            return max(0.0, float(value))
        except ValueError:
            pass
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return max(0.0, (when - self._utcnow()).total_seconds())

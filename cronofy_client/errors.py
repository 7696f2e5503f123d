"""The one error hierarchy of the Cronofy client, mapped from HTTP statuses in one place.

    CronofyError                      any failure talking to Cronofy (other 4xx, bad responses)
    ├── CronofyAuthExpired            401: access token unknown, expired or revoked
    ├── CronofyInvalidGrant           400 invalid_grant on /oauth/token: code or refresh token dead
    ├── CronofyInsufficientScope      403: token valid but lacks the scope
    ├── CronofyNotFound               404: resource unknown or not granted
    ├── CronofyValidationError        422: per-field errors in ``.errors``
    ├── CronofyRateLimited            429 (or our own limiter past the call's deadline):
    │                                 ``.retry_after`` seconds when known
    └── CronofyUnavailable            no definite answer from Cronofy (after any retries)
        ├── CronofyNotReached         timeout, connection error, call deadline passed: the
        │                             request may or may not have taken effect (outcome unknown)
        └── CronofyServerError        Cronofy answered 5xx

Catch ``CronofyUnavailable`` to treat both alike ("try again later"); catch
``CronofyNotReached`` where an unknown outcome matters (a POST that may have happened), and
``CronofyServerError`` where Cronofy's answer is needed.

Messages never carry tokens, secrets, codes or response bodies; only the status and the
error keys Cronofy returned.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class FieldError:
    """One validation problem Cronofy reported for a request parameter."""

    key: str
    description: str


class CronofyError(Exception):
    """Base class of every error raised by ``cronofy_client``."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class CronofyAuthExpired(CronofyError):
    """401: the access token (or the client credentials) were not accepted."""


class CronofyInvalidGrant(CronofyError):
    """400 ``invalid_grant`` on the token endpoint: the code or refresh token is dead."""


class CronofyInsufficientScope(CronofyError):
    """403: the token is valid but was not granted the scope this call needs."""


class CronofyNotFound(CronofyError):
    """404: the resource does not exist or the token has no access to it."""


class CronofyValidationError(CronofyError):
    """422: Cronofy rejected parameters; ``errors`` maps parameter -> problems."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = 422,
        errors: Mapping[str, list[FieldError]] | None = None,
    ) -> None:
        super().__init__(message, status=status)
        self.errors: dict[str, list[FieldError]] = dict(errors or {})


class CronofyRateLimited(CronofyError):
    """429: too many requests; ``retry_after`` is in seconds when Cronofy sent it."""

    def __init__(
        self, message: str, *, status: int | None = 429, retry_after: float | None = None
    ) -> None:
        super().__init__(message, status=status)
        self.retry_after = retry_after


class CronofyUnavailable(CronofyError):
    """No definite answer from Cronofy (after any retries); see the two subclasses."""


class CronofyNotReached(CronofyUnavailable):
    """Timeout, connection error or the call's deadline: the outcome of the request is unknown."""


class CronofyServerError(CronofyUnavailable):
    """Cronofy answered with a 5xx status."""


def _field_errors(body: object) -> dict[str, list[FieldError]]:
    """Read ``{"errors": {"param": [{"key": ..., "description": ...}]}}`` leniently."""
    if not isinstance(body, Mapping):
        return {}
    raw = body.get("errors")
    if not isinstance(raw, Mapping):
        return {}
    result: dict[str, list[FieldError]] = {}
    for param, problems in raw.items():
        if not isinstance(problems, list):
            continue
        result[str(param)] = [
            FieldError(key=str(p.get("key", "")), description=str(p.get("description", "")))
            for p in problems
            if isinstance(p, Mapping)
        ]
    return result


def is_invalid_grant(body: object) -> bool:
    """True for either invalid-grant body shape seen on the token endpoint.

    The reference is unsure which one Cronofy sends: RFC 6749 says
    ``{"error": "invalid_grant"}``, while an older Cronofy FAQ names the key
    ``errors.unknown_or_used``. Both are accepted until one is confirmed.
    """
    if not isinstance(body, Mapping):
        return False
    if body.get("error") == "invalid_grant":
        return True
    keys = {e.key for problems in _field_errors(body).values() for e in problems}
    return any(k.endswith("unknown_or_used") or k.endswith("invalid_grant") for k in keys)


def error_for_status(
    status: int,
    body: object,
    *,
    token_endpoint: bool = False,
    retry_after: float | None = None,
) -> CronofyError:
    """Build the error matching an HTTP status (the single place statuses are mapped)."""
    if status == 400 and token_endpoint and is_invalid_grant(body):
        return CronofyInvalidGrant("Cronofy rejected the grant (invalid_grant)", status=400)
    if status == 401:
        return CronofyAuthExpired("Cronofy did not accept the credentials (401)", status=401)
    if status == 403:
        return CronofyInsufficientScope("The token lacks the scope for this call (403)", status=403)
    if status == 404:
        return CronofyNotFound("Cronofy resource not found (404)", status=404)
    if status == 422:
        errors = _field_errors(body)
        keys = sorted({e.key for problems in errors.values() for e in problems})
        return CronofyValidationError(
            f"Cronofy rejected the request (422): {', '.join(keys) or 'no details'}",
            errors=errors,
        )
    if status == 429:
        return CronofyRateLimited("Cronofy rate limit hit (429)", retry_after=retry_after)
    if status >= 500:
        return CronofyServerError(f"Cronofy unavailable ({status})", status=status)
    return CronofyError(f"Cronofy request failed ({status})", status=status)


@contextmanager
def unexpected_response(what: str) -> Iterator[None]:
    """Turn a parsing failure on a Cronofy response into a ``CronofyError``."""
    try:
        yield
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        log.warning("Unexpected Cronofy response shape for %s: %s", what, type(exc).__name__)
        raise CronofyError(f"Unexpected Cronofy response for {what}") from exc

"""Everything in front of the API views: request log, faults, rate limits, bearer auth."""

from __future__ import annotations

import collections
import sqlite3
import threading
import time
from dataclasses import dataclass

from flask import Flask, Response, g, request

from cronofy_sandbox import scopes
from cronofy_sandbox.errors import ApiError, forbidden, unauthorized
from cronofy_sandbox.state import get_sandbox

API_PREFIXES = ("/v1/", "/oauth/token")
RATE_KEY = "cronofy_sandbox_rate"


@dataclass(frozen=True, slots=True)
class Caller:
    """Who a bearer token belongs to."""

    sub: str
    kind: str  # "account" or "service_account"
    scope: frozenset[str]
    scope_text: str
    delegated: bool = False  # an account authorized through Enterprise Connect


class RateWindow:
    """Request timestamps of the last minute, for the 50/s and 500/min limits."""

    def __init__(self) -> None:
        self._hits: collections.deque[float] = collections.deque()
        self._lock = threading.Lock()

    def admit(self, per_second: int, per_minute: int) -> bool:
        """Record a request; False when it exceeds either limit."""
        at = time.monotonic()
        with self._lock:
            while self._hits and self._hits[0] <= at - 60:
                self._hits.popleft()
            last_second = sum(1 for hit in self._hits if hit > at - 1)
            if last_second >= per_second or len(self._hits) >= per_minute:
                return False
            self._hits.append(at)
            return True


def install(app: Flask) -> None:
    """Hook the gate into the app."""
    app.extensions[RATE_KEY] = RateWindow()
    app.before_request(_before)
    app.after_request(_after)


def _is_api() -> bool:
    return request.path.startswith(API_PREFIXES)


def _auth_kind() -> str:
    header = request.headers.get("Authorization", "")
    if not header:
        return "client_credentials" if request.path.startswith("/oauth/") else "none"
    if not header.startswith("Bearer "):
        return "other"
    value = header[7:].strip()
    if value in get_sandbox().config.client_secrets:
        return "api_key"
    row = get_sandbox().store.one("SELECT kind FROM tokens WHERE access_token = ?", (value,))
    return f"{row['kind']}_token" if row else "unknown_bearer"


def _before() -> Response | None:
    if not _is_api():
        return None
    g.sandbox_auth_kind = _auth_kind()
    fault = _take_fault()
    if fault is not None:
        if fault["latency_ms"]:
            time.sleep(fault["latency_ms"] / 1000)
        if fault["status"]:
            headers = {"Retry-After": "1"} if fault["status"] == 429 else {}
            return ApiError(fault["status"], None, headers).response()
    if _rate_limited():
        # Cronofy documents the limits and the 429, not the body nor Retry-After ([INF]).
        return ApiError(429, None, {"Retry-After": "1"}).response()
    return None


def _take_fault() -> sqlite3.Row | None:
    store = get_sandbox().store
    with store.transaction() as conn:
        for fault in conn.execute("SELECT * FROM faults WHERE remaining > 0 ORDER BY id"):
            if request.path.startswith(fault["path_prefix"] or "/"):
                conn.execute(
                    "UPDATE faults SET remaining = remaining - 1 WHERE id = ?", (fault["id"],)
                )
                return fault  # type: ignore[no-any-return]
    return None


def rate_limits_enforced() -> bool:
    """Whether the 50/s + 500/min limits apply right now."""
    row = get_sandbox().store.one("SELECT value FROM settings WHERE key = 'rate_limits'")
    return row["value"] == "1" if row else get_sandbox().config.enforce_rate_limits


def _rate_limited() -> bool:
    if not rate_limits_enforced():
        return False
    from flask import current_app

    window: RateWindow = current_app.extensions[RATE_KEY]
    config = get_sandbox().config
    return not window.admit(config.per_second_limit, config.per_minute_limit)


def _after(response: Response) -> Response:
    if _is_api():
        # Never the token itself: only what kind of credential came with the call.
        get_sandbox().store.execute(
            "INSERT INTO request_log (at, method, path, auth_kind, status) VALUES (?, ?, ?, ?, ?)",
            (
                time.time(),
                request.method,
                request.path,
                g.get("sandbox_auth_kind", "none"),
                response.status_code,
            ),
        )
    return response


def bearer() -> str:
    """The bearer credential of this request ('' when absent)."""
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header.startswith("Bearer ") else ""


def is_api_key() -> bool:
    """True when the bearer is one of the application's client secrets."""
    value = bearer()
    return bool(value) and value in get_sandbox().config.client_secrets


def caller(scope: str | None = None) -> Caller:
    """The account behind the bearer token; 401 if unknown/expired, 403 if `scope` is missing."""
    value = bearer()
    row = (
        get_sandbox().store.one(
            "SELECT * FROM tokens WHERE access_token = ? AND access_valid = 1", (value,)
        )
        if value
        else None
    )
    if row is None or row["expires_at"] <= time.time():
        raise unauthorized()
    found = Caller(
        row["sub"], row["kind"], scopes.expand(row["scope"]), row["scope"], bool(row["delegated"])
    )
    if scope is not None and scope not in found.scope:
        raise forbidden(scope)
    return found

"""§8 item 24: a whole connection lifetime logged at DEBUG leaks no secret into any log output.

The run goes through our app served on a loopback port (so werkzeug's access log lines, which
print paths and query strings, are part of it): log in, Individual Connect through the sandbox's
consent page (code exchange), a forced refresh, a signed push from the sandbox, the calendars
page, disconnect (revoke). Booking is not built yet, so no booking step is part of the run.

What is examined is what reaches log handlers: every record pytest's handler received (setup
and call, formatted with tracebacks) and everything written to stderr, where our own handler
(with its redaction filter) writes.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from flask import Flask

from cronofy_client import HMAC_HEADER, sign_body
from cronofy_sandbox.state import EXTENSION_KEY as SANDBOX_EXTENSION
from tests.integration.connect.conftest import Wiring, consent, the_connection, token_calls
from tests.integration.enterprise.conftest import wait_until
from tests.webapp_fixtures import People
from webapp.logging_config import RedactSecretsFilter

pytestmark = pytest.mark.requirement(24)

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
TIMEOUT = 10.0


class HeaderRecorder:
    """WSGI middleware remembering every Cronofy-HMAC-SHA256 value that reached the app."""

    def __init__(self, wrapped: Any) -> None:
        self.wrapped = wrapped
        self.values: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        value = environ.get("HTTP_" + HMAC_HEADER.upper().replace("-", "_"))
        if value:
            with self._lock:
                self.values.append(value)
        return self.wrapped(environ, start_response)


@pytest.fixture
def every_logger_at_debug(app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    """Root and every logger known so far at DEBUG (caplog restores the levels)."""
    caplog.set_level(logging.DEBUG)
    for name in list(logging.root.manager.loggerDict):
        caplog.set_level(logging.DEBUG, logger=name)


@pytest.fixture
def app_handler_to_capfd(app: Flask, capfd: pytest.CaptureFixture[str]) -> Iterator[None]:
    """Our redacting stderr handler (installed by ``app``) writes where capfd captures."""
    handlers = [
        h
        for h in logging.getLogger().handlers
        if isinstance(h, logging.StreamHandler)
        and any(isinstance(f, RedactSecretsFilter) for f in h.filters)
    ]
    assert handlers, "the app's redacting handler is not installed on the root logger"
    previous = [h.stream for h in handlers]
    for handler in handlers:
        handler.setStream(sys.stderr)
    yield
    for handler, stream in zip(handlers, previous, strict=True):
        with handler.lock or contextlib.nullcontext():  # capfd's file may be closed: no flush
            handler.stream = stream


def _form_token(browser: requests.Session, url: str) -> str:
    page = browser.get(url, timeout=TIMEOUT)
    match = _CSRF.search(page.text)
    assert match, f"no csrf_token on {url} ({page.status_code})"
    return match.group(1)


def _post_form(browser: requests.Session, url: str, data: dict[str, str], page: str) -> Any:
    data = {**data, "csrf_token": _form_token(browser, page)}
    return browser.post(url, data=data, timeout=TIMEOUT, allow_redirects=False)


Secrets = dict[str, set[str]]


def _collect(secrets: Secrets, kind: str, values: Any) -> None:
    secrets.setdefault(kind, set()).update(str(v) for v in values if v)


def _issued(secrets: Secrets, wiring: Wiring) -> None:
    """Every code, access token and refresh token the sandbox has handed out so far."""
    store = wiring.sandbox.app.extensions[SANDBOX_EXTENSION].store
    _collect(secrets, "authorization code", (r[0] for r in store.query("SELECT code FROM codes")))
    tokens = store.query("SELECT access_token, refresh_token FROM tokens")
    _collect(secrets, "access token", (r[0] for r in tokens))
    _collect(secrets, "refresh token", (r[1] for r in tokens))


def _channel_path_tokens(wiring: Wiring) -> set[str]:
    store = wiring.sandbox.app.extensions[SANDBOX_EXTENSION].store
    urls = [row[0] for row in store.query("SELECT callback_url FROM channels")]
    return {urlsplit(url).path.rstrip("/").rsplit("/", 1)[1] for url in urls}


def _connect(browser: requests.Session, base: str) -> dict[str, str]:
    """Individual Connect through the sandbox; returns the callback's code and state."""
    start = _post_form(
        browser,
        f"{base}/connect",
        {"access_mode": "read_write", "provider_name": "google"},
        f"{base}/connect",
    )
    assert start.status_code == 303, start.text
    callback = consent(str(start.headers["Location"]))
    query = parse_qs(urlsplit(callback).query)
    landed = browser.get(callback, timeout=TIMEOUT)
    assert landed.status_code == 200
    assert "Calendar connected" in landed.text
    return {"code": query["code"][0], "state": query["state"][0]}


def _sandbox_push(wiring: Wiring, app: Flask, people: People) -> None:
    """An external change: the sandbox sends a signed push to our served webhook."""
    delivered_before = _delivered(wiring)
    calendar_id = wiring.sandbox.control.calendar_id("ada@demo.test")
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    wiring.sandbox.control.add_event(calendar_id, "Dentist", start, start + timedelta(hours=1))
    wait_until(lambda: _delivered(wiring) > delivered_before)
    assert the_connection(app, people.instructor_id) is not None


def _delivered(wiring: Wiring) -> int:
    return sum(
        1
        for d in wiring.sandbox.control.deliveries()
        if d["channel_id"] and d["status"] is not None and 200 <= d["status"] < 300
    )


def _own_push(browser: requests.Session, base: str, wiring: Wiring) -> str:
    """A signed push we send ourselves to the channel's URL; returns the header value."""
    [token] = _channel_path_tokens(wiring)
    [channel_id] = [
        row[0]
        for row in wiring.sandbox.app.extensions[SANDBOX_EXTENSION].store.query(
            "SELECT channel_id FROM channels"
        )
    ]
    notification = {"type": "change", "changes_since": "2026-01-01T00:00:00Z"}
    channel = {"channel_id": channel_id, "callback_url": f"{base}/x", "filters": {}}
    body = json.dumps({"notification": notification, "channel": channel}).encode()
    signature = sign_body(body, wiring.sandbox.client_secret)
    response = browser.post(
        f"{base}/webhooks/cronofy/{token}",
        data=body,
        headers={HMAC_HEADER: signature, "Content-Type": "application/json"},
        timeout=TIMEOUT,
    )
    assert response.status_code == 202
    return signature


def _logged_text(caplog: pytest.LogCaptureFixture, stderr: str) -> str:
    records = caplog.get_records("setup") + caplog.get_records("call")
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return "\n".join([formatter.format(r) for r in records] + [stderr])


@pytest.mark.slow
@pytest.mark.usefixtures("every_logger_at_debug", "app_handler_to_capfd")
def test_a_whole_connection_lifetime_logs_no_secret(
    app: Flask,
    served: str,
    wiring: Wiring,
    people: People,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    recorder = HeaderRecorder(app.wsgi_app)
    app.wsgi_app = recorder  # type: ignore[method-assign]
    secrets: Secrets = {}
    with requests.Session() as browser:
        _lifetime(browser, served, app, wiring, people, secrets)
    assert recorder.values  # the sandbox's signed pushes and ours reached the app
    _collect(secrets, "HMAC header", recorder.values)
    _collect(secrets, "refresh token", (b.get("token") for b in wiring.session.revoke_bodies))
    _collect(secrets, "Fernet key", app.config["TOKEN_ENCRYPTION_KEYS"])
    client_secrets = (wiring.sandbox.client_secret, app.config["CRONOFY_CLIENT_SECRET"])
    _collect(secrets, "client secret", client_secrets)
    _collect(secrets, "session secret key", [app.config["SECRET_KEY"]])
    assert all(len(v) >= 16 for values in secrets.values() for v in values)

    text = _logged_text(caplog, capfd.readouterr().err)
    # The capture really holds the access-log lines that could carry these values.
    for seen in ("/connect/callback?", "/webhooks/cronofy/", "/oauth/token", "/calendars"):
        assert seen in text, f"nothing about {seen} reached the log handlers"
    leaked = sorted(kind for kind, values in secrets.items() for v in values if v in text)
    assert leaked == []  # kinds only: the failure message must not print the values


def _lifetime(
    browser: requests.Session,
    base: str,
    app: Flask,
    wiring: Wiring,
    people: People,
    secrets: Secrets,
) -> None:
    """Log in, connect, force a refresh, receive signed pushes, view calendars, disconnect."""
    credentials = {"email": people.instructor_email, "password": people.password}
    assert _post_form(browser, f"{base}/login", credentials, f"{base}/login").status_code == 302
    callback = _connect(browser, base)
    _collect(secrets, "authorization code", [callback["code"]])
    _collect(secrets, "OAuth state", [callback["state"]])
    _collect(secrets, "webhook path token", _channel_path_tokens(wiring))
    _issued(secrets, wiring)

    conn = the_connection(app, people.instructor_id)
    assert conn is not None
    assert wiring.sandbox.control.expire_access_tokens(conn.cronofy_sub) >= 1
    calls = token_calls(wiring.sandbox)
    assert browser.get(f"{base}/calendars", timeout=TIMEOUT).status_code == 200
    assert token_calls(wiring.sandbox) == calls + 1  # the forced refresh happened
    _issued(secrets, wiring)

    _sandbox_push(wiring, app, people)
    _collect(secrets, "HMAC header", [_own_push(browser, base, wiring)])
    assert browser.get(f"{base}/calendars", timeout=TIMEOUT).status_code == 200
    _issued(secrets, wiring)

    disconnect = f"{base}/calendars/disconnect"
    assert _post_form(browser, disconnect, {}, disconnect).status_code == 303
    assert wiring.session.revoke_bodies  # revoked with the refresh token

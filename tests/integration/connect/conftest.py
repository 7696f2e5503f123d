"""Fixtures for the Individual Connect tests: the app wired to a served Cronofy sandbox."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
import requests
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from cronofy_client import CronofyClient
from cronofy_sandbox.testing import click_through_consent
from tests.sandbox_fixtures import RunningSandbox
from tests.webapp_fixtures import People, csrf_token, log_in
from webapp.clients import Clients
from webapp.extensions import db
from webapp.mail import CapturingMailer
from webapp.models import CalendarConnection

# Nothing listens on the discard port: push deliveries to it fail fast and harmlessly.
PUBLIC_BASE_URL = "http://127.0.0.1:9"


class RecordingSession(requests.Session):
    """A requests session that remembers the JSON bodies sent to the revoke endpoint."""

    def __init__(self) -> None:
        super().__init__()
        self.revoke_bodies: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        if str(url).endswith("/oauth/token/revoke"):
            with self._lock:
                self.revoke_bodies.append(dict(kwargs.get("json") or {}))
        return super().request(method, url, *args, **kwargs)


@dataclass
class Wiring:
    """What a test needs to look at besides the app: the sandbox, the mailbox, revoke bodies."""

    sandbox: RunningSandbox
    cronofy: CronofyClient
    mailer: CapturingMailer
    session: RecordingSession
    extra: dict[str, Any] = field(default_factory=dict)


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Passwords are not under test here: a cheap hash keeps these tests quick."""
    monkeypatch.setattr("webapp.security.HASH_METHOD", "pbkdf2:sha256:1000")


@pytest.fixture
def wiring(sandbox: RunningSandbox) -> Wiring:
    """A CronofyClient pointed at the served sandbox (fast retries) and a capturing mailer."""
    session = RecordingSession()
    cronofy = CronofyClient(
        sandbox.client_id,
        sandbox.client_secret,
        api_base_url=sandbox.base_url,
        session=session,
        max_retries=1,
        backoff_base=0.01,
        backoff_cap=0.02,
    )
    return Wiring(sandbox, cronofy, CapturingMailer("bridge@test"), session)


@pytest.fixture
def app_clients(wiring: Wiring) -> Clients:
    """The app talks to the sandbox; Bookly is not configured."""
    return Clients(cronofy=wiring.cronofy, bookly=None, mailer=wiring.mailer)


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """Callback and channel URLs point at a port nobody serves."""
    return {"PUBLIC_BASE_URL": PUBLIC_BASE_URL, "CONNECT_START_LIMIT": "1000 per minute"}


@pytest.fixture
def instructor(app: Flask, people: People) -> FlaskClient:
    """A test client logged in as the instructor of `people`."""
    client = app.test_client()
    assert log_in(client, people.instructor_email, people.password).status_code == 302
    return client


def start_connect(client: FlaskClient, access_mode: str, provider_name: str = "google") -> str:
    """Post the connect form; return Cronofy's authorize URL."""
    token = csrf_token(client, "/connect")
    response = client.post(
        "/connect",
        data={"access_mode": access_mode, "provider_name": provider_name, "csrf_token": token},
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    return str(response.headers["Location"])


def local_path(url: str) -> str:
    """Path and query of a URL on our app (the test client needs no host)."""
    parts = urlsplit(url)
    return urlunsplit(("", "", parts.path, parts.query, ""))


def without_param(url: str, name: str) -> str:
    """`url` without one query parameter (simulates the person changing it at Cronofy)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != name]
    return urlunsplit(parts._replace(query=urlencode(query)))


def consent(
    authorize_url: str,
    *,
    person: str = "ada@demo.test",
    allow: bool = True,
    access_mode: str | None = None,
    provider: str | None = None,
) -> str:
    """Click through the sandbox's consent page; return our callback URL with code/state."""
    with requests.Session() as browser:
        return click_through_consent(
            browser,
            authorize_url,
            person=person,
            allow=allow,
            access_mode=access_mode,
            provider=provider,
        )


def connect(
    client: FlaskClient,
    access_mode: str = "read_write",
    provider_name: str = "google",
    *,
    person: str = "ada@demo.test",
) -> Any:
    """The whole Individual Connect round trip; returns the callback response."""
    url = start_connect(client, access_mode, provider_name)
    return client.get(local_path(consent(url, person=person)))


def token_calls(sandbox: RunningSandbox) -> int:
    """How many requests reached the sandbox's token endpoint (exchange or refresh)."""
    return sum(
        1
        for r in sandbox.control.requests()
        if r["path"] == "/oauth/token" and r["method"] == "POST"
    )


def paths(sandbox: RunningSandbox, method: str, prefix: str) -> list[str]:
    """Paths of logged sandbox API calls with this method and path prefix."""
    return [
        r["path"]
        for r in sandbox.control.requests()
        if r["method"] == method and r["path"].startswith(prefix)
    ]


def the_connection(app: Flask, user_id: int) -> CalendarConnection | None:
    """A user's connection, detached, fresh from the database."""
    with app.app_context():
        row = db.session.scalar(
            sa.select(CalendarConnection).where(CalendarConnection.user_id == user_id)
        )
        if row is not None:
            db.session.expunge(row)
        return row


def run_in_app(app: Flask, fn: Callable[[], Any]) -> Any:
    """Run `fn` inside a fresh app context."""
    with app.app_context():
        return fn()

"""Enterprise Connect tests: our app served on a loopback port, the sandbox on another.

The sandbox's signed callbacks must reach our webhook, so the app under test is really served
(werkzeug, threaded) and its PUBLIC_BASE_URL is set to the served address.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from cronofy_client import CronofyClient
from cronofy_sandbox.state import EXTENSION_KEY as SANDBOX_EXTENSION
from cronofy_sandbox.testing import click_through_consent, serve
from tests.sandbox_fixtures import RunningSandbox
from tests.webapp_fixtures import csrf_token, log_in
from webapp.clients import Clients
from webapp.extensions import db
from webapp.mail import CapturingMailer
from webapp.models import Role, ServiceAccountAuthorization
from webapp.security import hash_password
from webapp.services import accounts

PASSWORD = "correct horse battery"
ADMIN = "admin@demo.test"
INSTRUCTORS = ("ada@demo.test", "grace@demo.test", "alan@demo.test")
OTHER_ADMIN = "admin@other.test"
OTHER_INSTRUCTOR = "bob@other.test"


@pytest.fixture
def app_clients(sandbox: RunningSandbox) -> Clients:
    """Clients talking to the served sandbox."""
    cronofy = CronofyClient(
        sandbox.client_id,
        sandbox.client_secret,
        api_base_url=sandbox.base_url,
        app_base_url=sandbox.base_url,
        max_retries=0,
    )
    return Clients(cronofy=cronofy, bookly=None, mailer=CapturingMailer("bridge@test"))


class _InFlight:
    """WSGI middleware counting requests still being handled (to drain before teardown)."""

    def __init__(self, wrapped: Any) -> None:
        self.wrapped = wrapped
        self.count = 0
        self.lock = threading.Lock()

    def __call__(self, environ: Any, start_response: Any) -> Any:
        with self.lock:
            self.count += 1
        try:
            # Materialised so the request (and its database session) ends inside the count.
            return list(self.wrapped(environ, start_response))
        finally:
            with self.lock:
                self.count -= 1


@pytest.fixture
def served(app: Flask, sandbox: RunningSandbox) -> Iterator[str]:
    """Serve the app for real; its PUBLIC_BASE_URL becomes the served address.

    On teardown, waits for the sandbox's callbacks and our handlers to finish, so no request
    thread still holds a database connection when the test database is dropped.
    """
    in_flight = _InFlight(app.wsgi_app)
    app.wsgi_app = in_flight  # type: ignore[method-assign]
    with serve(app) as base_url:
        app.config["PUBLIC_BASE_URL"] = base_url
        yield base_url
        sandbox.app.extensions[SANDBOX_EXTENSION].deliverer.wait_idle(10.0)
        wait_until(lambda: in_flight.count == 0, timeout=10.0)


@functools.cache
def _password_hash() -> str:
    return hash_password(PASSWORD)


@dataclass(frozen=True, slots=True)
class Tenants:
    """Two organisations: Demo School (sandbox domain demo.test) and Other School."""

    admin_id: int
    instructor_ids: dict[str, int]
    other_admin_id: int
    other_instructor_id: int


def add_people(app: Flask, emails: list[str], *, organisation: str = "Demo School") -> list[int]:
    """Create instructors (password PASSWORD) in an organisation."""
    with app.app_context():
        org = accounts.get_or_create_organisation(organisation)
        return [
            accounts.create_user(
                email=email, password=None, role=Role.INSTRUCTOR, organisation=org
            ).id
            for email in emails
        ]


@pytest.fixture
def tenants(app: Flask) -> Tenants:
    """The demo organisation's admin and instructors, plus another organisation."""
    with app.app_context():
        demo = accounts.get_or_create_organisation("Demo School")
        other = accounts.get_or_create_organisation("Other School")

        def make(email: str, role: Role, org: Any, *, login: bool = False) -> int:
            user = accounts.create_user(email=email, password=None, role=role, organisation=org)
            if login:  # scrypt is slow on purpose: hash once per test session
                user.password_hash = _password_hash()
                db.session.commit()
            return user.id

        return Tenants(
            admin_id=make(ADMIN, Role.ADMIN, demo, login=True),
            instructor_ids={
                e: make(e, Role.INSTRUCTOR, demo, login=e == INSTRUCTORS[0]) for e in INSTRUCTORS
            },
            other_admin_id=make(OTHER_ADMIN, Role.ADMIN, other, login=True),
            other_instructor_id=make(OTHER_INSTRUCTOR, Role.INSTRUCTOR, other),
        )


@pytest.fixture
def admin_client(app: Flask, tenants: Tenants) -> FlaskClient:
    """A test client logged in as the demo organisation's admin."""
    client = app.test_client()
    assert log_in(client, ADMIN, PASSWORD).status_code == 302
    return client


def page_token(client: FlaskClient) -> str:
    """A CSRF token from the Enterprise page."""
    return csrf_token(client, "/enterprise")


def local_path(url: str) -> str:
    """Path and query of an absolute URL (for the test client)."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def start_connect(
    client: FlaskClient, *, mode: str = "read_write", provider: str = "google"
) -> str:
    """POST the connect form; return the sandbox consent URL we were sent to."""
    response = client.post(
        "/enterprise/connect",
        data={"access_mode": mode, "provider_name": provider, "csrf_token": page_token(client)},
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    return str(response.headers["Location"])


def consent(authorize_url: str, *, allow: bool = True) -> str:
    """Click through the sandbox consent page as the demo admin; return our callback URL."""
    with requests.Session() as session:
        return click_through_consent(session, authorize_url, person=ADMIN, allow=allow)


def connect_organisation(client: FlaskClient, **choice: str) -> Any:
    """The whole admin flow; returns the response of our callback."""
    return client.get(local_path(consent(start_connect(client, **choice))))


def authorize(client: FlaskClient, emails: str = "", csv: bytes | None = None) -> Any:
    """POST the authorize form (pasted e-mails and/or a CSV upload)."""
    data: dict[str, Any] = {"emails": emails, "csrf_token": page_token(client)}
    if csv is not None:
        import io

        data["csv_file"] = (io.BytesIO(csv), "people.csv")
    return client.post("/enterprise/authorizations", data=data, follow_redirects=True)


def wait_until(check: Callable[[], bool], timeout: float = 15.0) -> None:
    """Poll until ``check()`` is true."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


def authorization_states(app: Flask) -> dict[str, tuple[str, str | None]]:
    """Every authorization: e-mail -> (status, error)."""
    with app.app_context():
        rows = db.session.scalars(sa.select(ServiceAccountAuthorization)).all()
        result = {row.email: (row.status.value, row.error) for row in rows}
        db.session.remove()
        return result


def wait_settled(
    app: Flask, count: int, timeout: float = 20.0
) -> dict[str, tuple[str, str | None]]:
    """Wait until ``count`` authorizations exist and none is pending."""
    states: dict[str, tuple[str, str | None]] = {}

    def settled() -> bool:
        nonlocal states
        states = authorization_states(app)
        return len(states) == count and all(s != "pending" for s, _ in states.values())

    wait_until(settled, timeout)
    return states


def token_calls(sandbox: RunningSandbox) -> int:
    """How many /oauth/token requests the sandbox received."""
    return sum(1 for r in sandbox.control.requests() if r["path"].endswith("/oauth/token"))

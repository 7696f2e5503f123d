"""A school wired for bookings: our app + Bookly + a served Cronofy sandbox.

Two stacks, as the product runs: SQLite for us with SQLite as Bookly (the embedded default),
and PostgreSQL for us with MariaDB (strict mode) as Bookly (production).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from bookly_client import BooklyGateway
from cronofy_client import CronofyClient
from tests.bookly_fixtures import BooklyDb, make_bookly_db
from tests.integration.connect.conftest import connect
from tests.sandbox_fixtures import RunningSandbox
from tests.webapp_fixtures import People, log_in
from webapp.clients import Clients
from webapp.extensions import db
from webapp.mail import CapturingMailer
from webapp.models import Booking, OutboxJob, User
from webapp.services import api_keys

PUBLIC_BASE_URL = "http://127.0.0.1:9"
# A Monday well in the future; Ada works Mon-Fri 08:00-18:00 Europe/Berlin (UTC+1 in winter).
MONDAY = datetime(2030, 1, 7, tzinfo=UTC)
NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


def at(hour: int, minute: int = 0, *, day: int = 0) -> datetime:
    """A UTC instant on the test Monday (+ ``day`` days); 09:00 UTC is 10:00 in Berlin."""
    return MONDAY + timedelta(days=day, hours=hour, minutes=minute)


STACKS = [
    pytest.param(("sqlite", "sqlite"), id="sqlite"),
    pytest.param(
        ("postgres", "mariadb"),
        id="postgres-mariadb",
        marks=[pytest.mark.postgres, pytest.mark.mariadb],
    ),
]


@pytest.fixture(params=STACKS)
def stack(request: pytest.FixtureRequest) -> tuple[str, str]:
    """(our database, Bookly's database)."""
    chosen: tuple[str, str] = request.param
    return chosen


@pytest.fixture
def database_url(stack: tuple[str, str], tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """Our database for the stack (overrides the app fixtures' own parametrisation)."""
    if stack[0] == "sqlite":
        return f"sqlite:///{tmp_path / 'bridge.sqlite3'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def bookly_site(stack: tuple[str, str], request: pytest.FixtureRequest) -> Iterator[BooklyDb]:
    """Bookly for the stack: a SQLite file, or a fresh MariaDB database (strict mode)."""
    if stack[1] == "sqlite":
        site = make_bookly_db("sqlite", request.getfixturevalue("sqlite_bookly_url"))
    else:
        site = make_bookly_db("mariadb", request.getfixturevalue("mariadb_url"))
    yield site
    site.engine.dispose()


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Passwords are not under test here."""
    monkeypatch.setattr("webapp.security.HASH_METHOD", "pbkdf2:sha256:1000")


@pytest.fixture
def cronofy(sandbox: RunningSandbox) -> CronofyClient:
    """A client of the served sandbox with quick retries."""
    return CronofyClient(
        sandbox.client_id,
        sandbox.client_secret,
        api_base_url=sandbox.base_url,
        max_retries=1,
        backoff_base=0.01,
        backoff_cap=0.02,
    )


@pytest.fixture
def mailer() -> CapturingMailer:
    """Captured mail."""
    return CapturingMailer("bridge@test")


@pytest.fixture
def gateway(bookly_site: BooklyDb) -> BooklyGateway:
    """The Bookly gateway the app uses; its clock says NOW."""
    return bookly_site.gateway(clock=lambda: NOW)


@pytest.fixture
def app_clients(cronofy: CronofyClient, gateway: BooklyGateway, mailer: CapturingMailer) -> Clients:
    """The app talks to the sandbox and to the Bookly site."""
    return Clients(cronofy=cronofy, bookly=gateway, mailer=mailer)


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """Callback and channel URLs point at a port nobody serves."""
    return {"PUBLIC_BASE_URL": PUBLIC_BASE_URL, "CONNECT_START_LIMIT": "1000 per minute"}


@dataclass(frozen=True)
class School:
    """Ada teaches a 60-minute lesson and a 30-minute theory class in Bookly."""

    site: BooklyDb
    instructor_id: int
    staff_id: int
    lesson: int
    theory: int


@pytest.fixture
def school(app: Flask, people: People, bookly_site: BooklyDb) -> School:
    """Ada (the `people` instructor) linked to her Bookly staff row."""
    staff = bookly_site.add_staff("Ada Lovelace")
    lesson = bookly_site.add_service("Driving lesson", 60, staff=(staff,))
    theory = bookly_site.add_service("Theory", 30, staff=(staff,))
    with app.app_context():
        user = db.session.get(User, people.instructor_id)
        assert user is not None
        user.bookly_staff_id = staff
        db.session.commit()
    return School(bookly_site, people.instructor_id, staff, lesson, theory)


@pytest.fixture
def key(app: Flask, people: People) -> str:
    """An API key of the school's organisation."""
    with app.app_context():
        admin = db.session.get(User, people.admin_id)
        assert admin is not None
        return api_keys.create_key(admin=admin, name="Website").key


def api_body(school: School, **change: Any) -> dict[str, Any]:
    """A valid POST /api/v1/bookings body for Ada's lesson at 10:00 Berlin (``change``d)."""
    payload: dict[str, Any] = {
        "service": school.lesson,
        "instructor": school.instructor_id,
        "start": at(9).isoformat(),
        "customer": {"name": "Kim Doe", "email": "kim@example.com", "phone": "+49 30 1"},
    }
    payload.update(change)
    return payload


def connect_instructor(app: Flask, people: People, access_mode: str) -> None:
    """Ada connects her sandbox calendar in ``access_mode`` (the real OAuth round trip)."""
    client: FlaskClient = app.test_client()
    assert log_in(client, people.instructor_email, people.password).status_code == 302
    provider = "google" if access_mode != "no_calendar" else "cronofy"
    response = connect(client, access_mode, provider)
    assert response.status_code in (302, 303), response.get_data(as_text=True)


def counts(app: Flask, site: BooklyDb) -> dict[str, int]:
    """Rows everywhere a booking writes: Bookly's tables, our bookings and outbox."""
    found = {k: v for k, v in site.counts().items() if "log" not in k}
    with app.app_context():
        for model in (Booking, OutboxJob):
            found[model.__tablename__] = db.session.scalar(
                sa.select(sa.func.count()).select_from(model)
            )
    return found

"""A school on Bookly (SQLite) and the app wired to a served sandbox, for availability tests.

Ada and Grace (our instructors) are Bookly staff members who work Mon-Fri 09:00-17:00 in
Europe/Berlin and offer a 60-minute lesson; "now" is Sun 2026-11-22 12:00 UTC (the Bookly
clock), the test day is Tue 2026-11-24.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from tests.bookly_fixtures import BooklyDb, make_bookly_db
from tests.integration.connect.conftest import (  # noqa: F401 - fixtures used here
    Wiring,
    app_overrides,
    connect,
    fast_password_hashing,
    wiring,
)
from tests.webapp_fixtures import People, log_in
from webapp.availability_cache import get_availability_cache
from webapp.clients import Clients
from webapp.extensions import db
from webapp.models import CalendarConnection, Role, User
from webapp.services import accounts
from webapp.services.availability.finder import AvailabilityRequest, find_availability
from webapp.services.availability.results import AvailabilityView

BERLIN = ZoneInfo("Europe/Berlin")
GRACE_EMAIL = "grace@school.test"
HOURS = dict.fromkeys(range(2, 7), ("09:00", "17:00"))


def berlin(text: str) -> datetime:
    """``"2026-11-24 10:00"`` Berlin wall time -> aware UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN).astimezone(UTC)


TUESDAY = (berlin("2026-11-24 00:00"), berlin("2026-11-25 00:00"))


def quarter_hours(first: str, last: str) -> list[str]:
    """Starts every 15 minutes from ``first`` to ``last`` inclusive, as HH:MM."""

    def minutes(text: str) -> int:
        hours, mins = text.split(":")
        return int(hours) * 60 + int(mins)

    return [f"{m // 60:02d}:{m % 60:02d}" for m in range(minutes(first), minutes(last) + 1, 15)]


BASELINE = quarter_hours("09:00", "16:00")


@dataclass
class School:
    """Bookly ids and our users."""

    bookly: BooklyDb
    ada_staff: int
    grace_staff: int
    lesson: int
    ada_id: int
    grace_id: int


@pytest.fixture
def school_db(tmp_path: Path) -> BooklyDb:
    return make_bookly_db("sqlite", f"sqlite:///{tmp_path / 'bookly.db'}")


@pytest.fixture
def app_clients(wiring: Wiring, school_db: BooklyDb) -> Clients:  # noqa: F811
    """The app talks to the sandbox and to the Bookly test database (fixed clock)."""
    return Clients(cronofy=wiring.cronofy, bookly=school_db.gateway(), mailer=wiring.mailer)


@pytest.fixture
def school(app: Flask, people: People, school_db: BooklyDb) -> School:
    ada_staff = school_db.add_staff("Ada Lovelace", hours=HOURS)
    grace_staff = school_db.add_staff("Grace Hopper", hours=HOURS)
    lesson = school_db.add_service("Lesson", 60, staff=(ada_staff, grace_staff))
    with app.app_context():
        ada = db.session.get(User, people.instructor_id)
        assert ada is not None
        ada.bookly_staff_id = ada_staff
        ada.time_zone = "Europe/Berlin"
        grace = accounts.create_user(
            email=GRACE_EMAIL, password=people.password, role=Role.INSTRUCTOR,
            organisation=ada.organisation, name="Grace Hopper",
        )  # fmt: skip
        grace.bookly_staff_id = grace_staff
        grace.time_zone = "America/New_York"
        db.session.commit()
        grace_id = grace.id
    return School(school_db, ada_staff, grace_staff, lesson, people.instructor_id, grace_id)


def logged_in(app: Flask, email: str, password: str) -> FlaskClient:
    client = app.test_client()
    assert log_in(client, email, password).status_code == 302
    return client


def connect_as(
    app: Flask, email: str, password: str, mode: str, person: str, provider: str = "google"
) -> None:
    """Run Individual Connect for one of our users with a sandbox person."""
    client = logged_in(app, email, password)
    response = connect(client, mode, provider, person=person)
    assert response.status_code == 302, response.get_data(as_text=True)


def find(
    app: Flask, user_ids: list[int], service_id: int, window: tuple[datetime, datetime] = TUESDAY,
    *, any_instructor: bool = False,
) -> AvailabilityView:  # fmt: skip
    """Run the availability service as a view would."""
    with app.app_context():
        users = tuple(db.session.get(User, i) for i in user_ids)
        clients: Clients = app.extensions["clients"]
        return find_availability(
            clients.cronofy,
            clients.bookly,
            get_availability_cache(),
            AvailabilityRequest(service_id, users, *window, any_instructor=any_instructor),  # type: ignore[arg-type]
        )


def hhmm(view: AvailabilityView, instructor_id: int | None = None) -> list[str]:
    """Berlin start times of a view's slots (of one instructor when given)."""
    return [
        s.start.astimezone(BERLIN).strftime("%H:%M")
        for s in view.slots
        if instructor_id is None or instructor_id in s.instructor_ids
    ]


def update_connection(app: Flask, user_id: int, **values: Any) -> None:
    with app.app_context():
        db.session.execute(
            sa.update(CalendarConnection)
            .where(CalendarConnection.user_id == user_id)
            .values(**values)
        )
        db.session.commit()


def connection_of(app: Flask, user_id: int) -> CalendarConnection:
    with app.app_context():
        conn = db.session.scalar(
            sa.select(CalendarConnection).where(CalendarConnection.user_id == user_id)
        )
        assert conn is not None
        db.session.expunge(conn)
        return conn


def availability_calls(wiring: Wiring) -> list[dict[str, Any]]:  # noqa: F811
    """Availability requests the sandbox received."""
    return [
        r
        for r in wiring.sandbox.control.requests()
        if r["method"] == "POST" and r["path"] == "/v1/availability"
    ]

"""The profile page: name, time zone, and the linked Bookly staff member by name."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask

from tests.bookly_fixtures import BooklyDb, make_bookly_db
from tests.webapp_fixtures import People, csrf_token, log_in
from webapp.clients import Clients
from webapp.extensions import db
from webapp.mail import CapturingMailer
from webapp.models import User


@pytest.fixture
def bookly(sqlite_bookly_url: str) -> Iterator[BooklyDb]:
    """A Bookly database with one staff member."""
    database = make_bookly_db("sqlite", sqlite_bookly_url)
    yield database
    database.engine.dispose()


@pytest.fixture
def staff_id(bookly: BooklyDb) -> int:
    return bookly.add_staff("Ada Lovelace (Piano)")


@pytest.fixture
def app_clients(bookly: BooklyDb) -> Clients:
    return Clients(cronofy=None, bookly=bookly.gateway(), mailer=CapturingMailer("t@test"))  # type: ignore[arg-type]


def _link(app: Flask, user_id: int, staff_id: int) -> None:
    with app.app_context():
        db.session.execute(
            sa.update(User).where(User.id == user_id).values(bookly_staff_id=staff_id)
        )
        db.session.commit()


def test_profile_names_the_linked_bookly_staff_member(
    app: Flask, people: People, staff_id: int
) -> None:
    _link(app, people.instructor_id, staff_id)
    client = app.test_client()
    log_in(client, people.instructor_email, people.password)
    page = client.get("/profile").get_data(as_text=True)
    assert "Ada Lovelace (Piano)" in page
    assert f"#{staff_id}" not in page
    dashboard = client.get("/").get_data(as_text=True)
    assert "Ada Lovelace (Piano)" in dashboard


def test_time_zone_and_name_can_be_changed(app: Flask, people: People) -> None:
    client = app.test_client()
    log_in(client, people.instructor_email, people.password)
    response = client.post(
        "/profile",
        data={
            "name": "  Ada   King ",
            "time_zone": "Europe/Berlin",
            "csrf_token": csrf_token(client, "/profile"),
        },
        follow_redirects=True,
    )
    assert "Profile saved" in response.get_data(as_text=True)
    with app.app_context():
        user = db.session.get(User, people.instructor_id)
        assert user is not None
        assert (user.name, user.time_zone) == ("Ada King", "Europe/Berlin")


@pytest.mark.parametrize(
    ("name", "zone", "message"),
    [
        ("Ada", "Mars/Olympus", "Choose your time zone from the list"),
        ("   ", "Europe/Berlin", "Give your name."),
    ],
)
def test_a_bad_profile_is_refused_and_changes_nothing(
    app: Flask, people: People, name: str, zone: str, message: str
) -> None:
    client = app.test_client()
    log_in(client, people.instructor_email, people.password)
    response = client.post(
        "/profile",
        data={"name": name, "time_zone": zone, "csrf_token": csrf_token(client, "/profile")},
    )
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    with app.app_context():
        user = db.session.get(User, people.instructor_id)
        assert user is not None
        assert (user.name, user.time_zone) == ("Ada Lovelace", "UTC")

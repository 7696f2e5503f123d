"""JSON API tests: two organisations, API keys, and a helper that calls the API with a key.

``tenants`` makes organisation A (admin, instructors Ada and Grace) and organisation B (admin,
instructor Bob); ``key_a``/``key_b`` are API keys of each. Every test that uses ``app`` runs on
SQLite and on PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from webapp.extensions import db
from webapp.models import Role, User
from webapp.services import accounts, api_keys

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Passwords are not under test here: a cheap hash keeps these tests quick."""
    monkeypatch.setattr("webapp.security.HASH_METHOD", "pbkdf2:sha256:1000")


@dataclass(frozen=True, slots=True)
class Tenants:
    """Ids of the people of the two organisations."""

    org_a: int
    admin_a: int
    ada: int
    grace: int
    org_b: int
    admin_b: int
    bob: int
    admin_a_email: str = "admin@a.test"
    admin_b_email: str = "admin@b.test"
    instructor_email: str = "ada@a.test"


def _user(email: str, role: Role, org_name: str, name: str, **extra: Any) -> User:
    org = accounts.get_or_create_organisation(org_name)
    user = accounts.create_user(
        email=email, password=PASSWORD, role=role, organisation=org, name=name
    )
    for attribute, value in extra.items():
        setattr(user, attribute, value)
    db.session.commit()
    return user


@pytest.fixture
def tenants(app: Flask) -> Tenants:
    """Organisation A (admin, Ada, Grace) and organisation B (admin, Bob)."""
    with app.app_context():
        admin_a = _user("admin@a.test", Role.ADMIN, "Alpha School", "Alma Admin")
        ada = _user(
            "ada@a.test", Role.INSTRUCTOR, "Alpha School", "Ada Lovelace",
            time_zone="Europe/Berlin", bookly_staff_id=1,
        )  # fmt: skip
        grace = _user(
            "grace@a.test", Role.INSTRUCTOR, "Alpha School", "Grace Hopper",
            time_zone="America/New_York", bookly_staff_id=2,
        )  # fmt: skip
        admin_b = _user("admin@b.test", Role.ADMIN, "Beta School", "Bea Admin")
        bob = _user("bob@b.test", Role.INSTRUCTOR, "Beta School", "Bob Builder", bookly_staff_id=3)
        return Tenants(
            org_a=admin_a.organisation_id,
            admin_a=admin_a.id,
            ada=ada.id,
            grace=grace.id,
            org_b=admin_b.organisation_id,
            admin_b=admin_b.id,
            bob=bob.id,
        )


def issue_key(app: Flask, admin_id: int, name: str = "Booking website") -> str:
    """A new API key of the admin's organisation (the key itself)."""
    with app.app_context():
        admin = db.session.get(User, admin_id)
        assert admin is not None
        return api_keys.create_key(admin=admin, name=name).key


@pytest.fixture
def key_a(app: Flask, tenants: Tenants) -> str:
    """An API key of organisation A."""
    return issue_key(app, tenants.admin_a)


@pytest.fixture
def key_b(app: Flask, tenants: Tenants) -> str:
    """An API key of organisation B."""
    return issue_key(app, tenants.admin_b)


def bearer(key: str) -> dict[str, str]:
    """The Authorization header for a key."""
    return {"Authorization": f"Bearer {key}"}


def api_get(client: FlaskClient, path: str, key: str, **kwargs: Any) -> TestResponse:
    """GET an API path with a key."""
    return client.get(path, headers=bearer(key), **kwargs)


def assert_error(
    response: TestResponse, status: int, code: str, fields: dict[str, str] | None = None
) -> dict[str, Any]:
    """The response is the API's error shape with this status and code; returns the error."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.json
    assert body is not None
    assert set(body) == {"error"}
    error: dict[str, Any] = body["error"]
    assert set(error) == {"code", "message", "fields"}
    assert error["code"] == code
    assert error["message"]
    if fields is not None:
        assert set(error["fields"]) == set(fields)
        for name, words in fields.items():
            assert words in error["fields"][name]
    return error

"""GET /api/v1/services: Bookly services and which of the key's organisation's instructors offer
them, on a Bookly site on SQLite and on real MariaDB (tests/bookly_fixtures.py), with our
database on SQLite and PostgreSQL.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.bookly_fixtures import BooklyDb
from tests.integration.api.conftest import Tenants, api_get, assert_error
from webapp.extensions import db
from webapp.models import User


@pytest.fixture
def app_overrides(bookly_db: BooklyDb) -> dict[str, Any]:
    """The app reads the test's Bookly site."""
    return {"BOOKLY_DATABASE_URL": bookly_db.url}


@pytest.fixture
def site(app: Flask, tenants: Tenants, bookly_db: BooklyDb) -> dict[str, int]:
    """Bookly staff linked to Ada, Grace (org A) and Bob (org B), one unlinked; four services."""
    with bookly_db.batch():
        staff = {name: bookly_db.add_staff(name) for name in ("Ada", "Grace", "Bob", "Nobody")}
        services = {
            "lesson": bookly_db.add_service("Lesson", 60, staff=(staff["Ada"], staff["Grace"])),
            "shared": bookly_db.add_service("Theory", 45, staff=(staff["Ada"], staff["Bob"])),
            "beta": bookly_db.add_service("Beta only", 30, staff=(staff["Bob"],)),
            "orphan": bookly_db.add_service("Unlinked", 90, staff=(staff["Nobody"],)),
        }
    with app.app_context():
        for user_id, name in ((tenants.ada, "Ada"), (tenants.grace, "Grace"), (tenants.bob, "Bob")):
            user = db.session.get(User, user_id)
            assert user is not None
            user.bookly_staff_id = staff[name]
        db.session.commit()
    return services


def _services(client: FlaskClient, key: str, query: str = "") -> list[dict[str, Any]]:
    response = api_get(client, f"/api/v1/services{query}", key)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json is not None
    services: list[dict[str, Any]] = response.json["services"]
    return services


def test_services_list_who_of_the_organisation_offers_them(
    client: FlaskClient, tenants: Tenants, site: dict[str, int], key_a: str
) -> None:
    assert _services(client, key_a) == [
        {
            "id": site["lesson"],
            "title": "Lesson",
            "duration_minutes": 60,
            "instructors": sorted([tenants.ada, tenants.grace]),
        },
        {
            "id": site["shared"],
            "title": "Theory",
            "duration_minutes": 45,
            "instructors": [tenants.ada],
        },
    ]


def test_services_never_show_another_organisations_instructors(
    client: FlaskClient, tenants: Tenants, site: dict[str, int], key_b: str
) -> None:
    assert [(s["id"], s["instructors"]) for s in _services(client, key_b)] == [
        (site["shared"], [tenants.bob]),
        (site["beta"], [tenants.bob]),
    ]


def test_services_of_one_instructor(
    client: FlaskClient, tenants: Tenants, site: dict[str, int], key_a: str
) -> None:
    grace = _services(client, key_a, f"?instructor={tenants.grace}")
    assert [s["id"] for s in grace] == [site["lesson"]]


def test_another_organisations_instructor_is_unknown(
    client: FlaskClient, tenants: Tenants, site: dict[str, int], key_a: str
) -> None:
    response = api_get(client, f"/api/v1/services?instructor={tenants.bob}", key_a)
    assert_error(response, 404, "unknown_instructor", {"instructor": "No instructor with this id"})

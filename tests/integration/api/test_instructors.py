"""GET /api/v1/instructors: the key's organisation's instructors and their calendar state."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.integration.api.conftest import Tenants, api_get
from webapp.extensions import db
from webapp.models import AccessMode, CalendarConnection, ConnectionStatus, ConnectMethod, User


def _connect(app: Flask, user_id: int, status: ConnectionStatus) -> None:
    with app.app_context():
        db.session.add(
            CalendarConnection(
                user_id=user_id,
                cronofy_sub=f"acc_{user_id}",
                data_center="us",
                method=ConnectMethod.INDIVIDUAL,
                access_mode=AccessMode.READ_WRITE,
                status=status,
            )
        )
        db.session.commit()


def _instructors(client: FlaskClient, key: str) -> list[dict[str, Any]]:
    response = api_get(client, "/api/v1/instructors", key)
    assert response.status_code == 200
    assert response.json is not None
    instructors: list[dict[str, Any]] = response.json["instructors"]
    return instructors


def test_instructors_show_zone_and_whether_the_calendar_is_checked(
    app: Flask, client: FlaskClient, tenants: Tenants, key_a: str
) -> None:
    _connect(app, tenants.ada, ConnectionStatus.CONNECTED)
    assert _instructors(client, key_a) == [
        {
            "id": tenants.ada,
            "name": "Ada Lovelace",
            "time_zone": "Europe/Berlin",
            "calendar": "connected",
        },
        {
            "id": tenants.grace,
            "name": "Grace Hopper",
            "time_zone": "America/New_York",
            "calendar": "schedule_only",
        },
    ]


@pytest.mark.parametrize("status", [ConnectionStatus.NEEDS_RECONNECT, ConnectionStatus.REVOKED])
def test_an_unusable_connection_is_schedule_only(
    app: Flask, client: FlaskClient, tenants: Tenants, key_a: str, status: ConnectionStatus
) -> None:
    _connect(app, tenants.ada, status)
    calendars = {i["id"]: i["calendar"] for i in _instructors(client, key_a)}
    assert calendars[tenants.ada] == "schedule_only"


def test_a_key_sees_only_its_own_organisations_active_instructors(
    app: Flask, client: FlaskClient, tenants: Tenants, key_a: str, key_b: str
) -> None:
    with app.app_context():
        grace = db.session.get(User, tenants.grace)
        assert grace is not None
        grace.active = False
        db.session.commit()
    assert [i["id"] for i in _instructors(client, key_a)] == [tenants.ada]
    assert [i["id"] for i in _instructors(client, key_b)] == [tenants.bob]

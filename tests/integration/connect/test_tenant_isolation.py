"""Every connect route acts on the logged-in instructor only; admins and others get nothing."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.integration.connect.conftest import Wiring, connect, the_connection
from tests.webapp_fixtures import People, csrf_token, log_in
from webapp.models import Role
from webapp.services import accounts

pytestmark = pytest.mark.requirement(21)

OTHER_PASSWORD = "another good password"
GET_ROUTES = ["/connect", "/calendars", "/calendars/disconnect"]
POST_ROUTES = [
    "/connect",
    "/calendars/write-calendar",
    "/calendars/conflict-calendars",
    "/calendars/disconnect",
]


@pytest.fixture
def victim(app: Flask, instructor: FlaskClient, people: People) -> int:
    """The `people` instructor (organisation Lightkeepers) with a connected calendar."""
    assert connect(instructor, "read_write").status_code == 302
    return people.instructor_id


def _login_new(app: Flask, email: str, role: Role, org_name: str) -> FlaskClient:
    with app.app_context():
        org = accounts.get_or_create_organisation(org_name)
        accounts.create_user(email=email, password=OTHER_PASSWORD, role=role, organisation=org)
    client = app.test_client()
    assert log_in(client, email, OTHER_PASSWORD).status_code == 302
    return client


@pytest.mark.parametrize("org_name", ["Lightkeepers", "Other School"])
def test_another_instructor_sees_and_changes_only_their_own(
    app: Flask, victim: int, wiring: Wiring, org_name: str
) -> None:
    before = the_connection(app, victim)
    other = _login_new(app, "eve@other.test", Role.INSTRUCTOR, org_name)
    page = other.get("/calendars").get_data(as_text=True)
    assert "Not connected" in page
    assert "ada@demo.test" not in page
    ada_calendar = wiring.sandbox.control.calendar_id("ada@demo.test")
    token = csrf_token(other, "/calendars")
    for path, data in (
        ("/calendars/write-calendar", {"calendar_id": ada_calendar}),
        ("/calendars/conflict-calendars", {"calendar_ids": [ada_calendar]}),
    ):
        assert other.post(path, data={**data, "csrf_token": token}).status_code == 400
    assert other.post("/calendars/disconnect", data={"csrf_token": token}).status_code == 303
    after = the_connection(app, victim)
    assert before is not None
    assert after is not None
    assert (after.write_calendar_id, after.conflict_calendar_ids, after.status) == (
        before.write_calendar_id,
        before.conflict_calendar_ids,
        before.status,
    )


@pytest.mark.parametrize("org_name", ["Lightkeepers", "Other School"])
def test_admins_get_403_on_every_instructor_connect_route(
    app: Flask, victim: int, org_name: str
) -> None:
    admin = _login_new(app, "boss@other.test", Role.ADMIN, org_name)
    for path in GET_ROUTES:
        assert admin.get(path).status_code == 403, path
    token = csrf_token(admin, "/")
    for path in POST_ROUTES:
        response = admin.post(path, data={"csrf_token": token, "access_mode": "read_write"})
        assert response.status_code == 403, path
    assert the_connection(app, victim) is not None


def test_anonymous_visitors_are_sent_to_login(app: Flask) -> None:
    client = app.test_client()
    for path in [*GET_ROUTES, "/connect/callback"]:
        response = client.get(path)
        assert response.status_code == 302, path
        assert "/login" in response.headers["Location"], path

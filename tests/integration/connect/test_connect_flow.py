"""Individual Connect end to end against the sandbox: each access mode, granted mode wins."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from tests.integration.connect.conftest import (
    Wiring,
    connect,
    consent,
    local_path,
    start_connect,
    the_connection,
    without_param,
)
from tests.webapp_fixtures import People, csrf_token, log_in
from webapp.extensions import db
from webapp.models import AccessMode, ConnectionStatus, OAuthState, Role
from webapp.services import accounts

MODES = [
    pytest.param("read_write", "google", "google", "Read-write", id="read_write-google"),
    pytest.param(
        "free_busy", "ms_graph", "ms_graph_free_busy", "Free/busy only", id="free_busy-ms"
    ),
    pytest.param("no_calendar", "google", "cronofy", "No calendar access", id="no_calendar"),
]


def test_connect_page_explains_the_three_modes_and_permissions(instructor: FlaskClient) -> None:
    page = instructor.get("/connect").get_data(as_text=True)
    for text in (
        'name="access_mode" value="read_write"',
        'name="access_mode" value="free_busy"',
        'name="access_mode" value="no_calendar"',
        'name="provider_name" value="google"',
        'name="provider_name" value="ms_graph"',
        'name="provider_name" value="choose"',
        "straight into your calendar",
        "e-mailed calendar",
        "double bookings are possible",
        "What permissions are requested and why",
    ):
        assert text in page


@pytest.mark.parametrize(("mode", "provider", "provider_name", "label"), MODES)
def test_connect_in_each_access_mode_stores_the_granted_mode(
    app: Flask,
    instructor: FlaskClient,
    people: People,
    wiring: Wiring,
    mode: str,
    provider: str,
    provider_name: str,
    label: str,
) -> None:
    url = start_connect(instructor, mode, provider)
    assert f"access_mode={mode}" in url
    assert "avoid_linking=true" in url
    assert ("provider_name=" in url) is (mode != "no_calendar")
    response = instructor.get(local_path(consent(url)))
    assert response.status_code == 302
    assert response.headers["Location"] == "/calendars"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    conn = the_connection(app, people.instructor_id)
    assert conn is not None
    assert conn.access_mode is AccessMode(mode)
    assert conn.provider_name == provider_name
    assert conn.status is ConnectionStatus.CONNECTED
    assert conn.channel_id
    assert conn.channel_token_hash
    person = wiring.sandbox.control.person("ada@demo.test")
    assert conn.cronofy_sub == person["sub"]
    writable = {
        c["calendar_id"] for p in person["profiles"] for c in p["calendars"] if c["primary"]
    }
    assert conn.write_calendar_id in writable
    page = instructor.get("/calendars").get_data(as_text=True)
    assert f"Calendar connected ({label})" in page
    assert label in page
    if mode != "read_write":
        assert "e-mailed calendar invitation" in page


def test_granted_mode_differs_from_requested_mode(
    app: Flask, instructor: FlaskClient, people: People
) -> None:
    url = start_connect(instructor, "read_write", "google")
    # The person switches to free/busy on Cronofy's screens.
    callback = consent(without_param(url, "access_mode"), access_mode="free_busy")
    assert instructor.get(local_path(callback)).status_code == 302
    conn = the_connection(app, people.instructor_id)
    assert conn is not None
    assert conn.access_mode is AccessMode.FREE_BUSY


@pytest.mark.requirement(6)
def test_next_parameter_is_never_honoured(instructor: FlaskClient) -> None:
    url = start_connect(instructor, "read_write")
    callback = local_path(consent(url)) + "&next=https://evil.example/"
    response = instructor.get(callback)
    assert response.headers["Location"] == "/calendars"


def test_reconnecting_replaces_the_connection(
    app: Flask, instructor: FlaskClient, people: People
) -> None:
    connect(instructor, "read_write")
    first = the_connection(app, people.instructor_id)
    connect(instructor, "free_busy")
    second = the_connection(app, people.instructor_id)
    assert first is not None
    assert second is not None
    assert second.id == first.id
    assert second.access_mode is AccessMode.FREE_BUSY
    assert second.channel_id != first.channel_id


def test_one_cronofy_account_cannot_belong_to_two_people(
    app: Flask, instructor: FlaskClient, people: People
) -> None:
    connect(instructor, "read_write", person="ada@demo.test")
    with app.app_context():
        org = accounts.get_or_create_organisation("Lightkeepers")
        accounts.create_user(
            email="bob@school.test",
            password=people.password,
            role=Role.INSTRUCTOR,
            organisation=org,
        )
    other = app.test_client()
    log_in(other, "bob@school.test", people.password)
    response = connect(other, "read_write", person="ada@demo.test")
    assert response.status_code == 400
    assert "already connected to another person" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"access_mode": "everything", "provider_name": "google"}, "Choose how much access"),
        ({"provider_name": "google"}, "Choose how much access"),
        ({"access_mode": "read_write", "provider_name": "yahoo"}, "Choose Google, Microsoft 365"),
    ],
)
def test_bad_connect_form_is_a_400_and_stores_nothing(
    app: Flask, instructor: FlaskClient, form: dict[str, str], message: str
) -> None:
    form = {**form, "csrf_token": csrf_token(instructor, "/connect")}
    response = instructor.post("/connect", data=form)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OAuthState)) == 0


def test_connect_without_csrf_token_is_rejected(app: Flask, instructor: FlaskClient) -> None:
    response = instructor.post("/connect", data={"access_mode": "read_write"})
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OAuthState)) == 0


@pytest.mark.requirement(7)
def test_state_is_stored_only_as_a_digest_bound_to_user_and_data_center(
    app: Flask, instructor: FlaskClient, people: People
) -> None:
    url = start_connect(instructor, "free_busy", "google")
    state = dict(p.split("=", 1) for p in url.split("?", 1)[1].split("&"))["state"]
    with app.app_context():
        row = db.session.scalars(sa.select(OAuthState)).one()
        assert row.state_hash != state
        assert state not in row.state_hash
        assert row.user_id == people.instructor_id
        assert row.data_center == "us"
        assert row.redirect_uri == "http://127.0.0.1:9/connect/callback"
        assert (row.expires_at - row.created_at).total_seconds() == 600


def test_starting_connect_is_rate_limited_per_user(app: Flask, instructor: FlaskClient) -> None:
    app.config["CONNECT_START_LIMIT"] = "2 per minute"
    token = csrf_token(instructor, "/connect")
    form = {"access_mode": "read_write", "provider_name": "google", "csrf_token": token}
    statuses = [instructor.post("/connect", data=form).status_code for _ in range(3)]
    assert statuses == [303, 303, 429]

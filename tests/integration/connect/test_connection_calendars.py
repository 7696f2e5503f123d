"""The calendars page shows the connection's own calendars and only the settings its mode uses;
it says who connected, when (in the person's own zone) and never hides a double-booking risk."""

from __future__ import annotations

from zoneinfo import ZoneInfo

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
)
from tests.webapp_fixtures import People, csrf_token
from webapp.extensions import db
from webapp.models import User

ADA = "ada@demo.test"


def _calendars(wiring: Wiring, provider: str) -> set[str]:
    person = wiring.sandbox.control.person(ADA)
    return {
        c["calendar_id"]
        for p in person["profiles"]
        if p["provider"] == provider
        for c in p["calendars"]
    }


def _listed(page: str, calendar_ids: set[str]) -> set[str]:
    return {cid for cid in calendar_ids if cid in page}


def _post_conflicts(client: FlaskClient, ids: list[str], **extra: str) -> object:
    token = csrf_token(client, "/calendars")
    return client.post(
        "/calendars/conflict-calendars", data={"calendar_ids": ids, "csrf_token": token, **extra}
    )


def test_switching_mode_and_provider_shows_exactly_the_new_profiles_calendars(
    app: Flask, instructor: FlaskClient, people: People, wiring: Wiring
) -> None:
    assert connect(instructor, "read_write", "google").status_code == 302
    assert connect(instructor, "free_busy", "ms_graph").status_code == 302
    google, microsoft = _calendars(wiring, "google"), _calendars(wiring, "ms_graph")
    page = instructor.get("/calendars").get_data(as_text=True)
    assert _listed(page, google) == set()
    assert _listed(page, microsoft) == microsoft
    assert page.count("(Microsoft 365") == len(microsoft)  # each with its provider
    connection = the_connection(app, people.instructor_id)
    assert connection is not None
    assert set(connection.conflict_calendar_ids) == microsoft


def test_a_calendar_of_the_previous_profile_is_refused(
    app: Flask, instructor: FlaskClient, people: People, wiring: Wiring
) -> None:
    connect(instructor, "read_write", "google")
    connect(instructor, "read_write", "ms_graph")
    old = wiring.sandbox.control.calendar_id(ADA, "google")
    response = _post_conflicts(instructor, [old])
    assert response.status_code == 400  # type: ignore[attr-defined]
    token = csrf_token(instructor, "/calendars")
    write = instructor.post(
        "/calendars/write-calendar", data={"calendar_id": old, "csrf_token": token}
    )
    assert write.status_code == 400


def test_switching_profile_revokes_the_old_grant_so_cronofy_unlinks_it(
    instructor: FlaskClient, wiring: Wiring
) -> None:
    connect(instructor, "read_write", "google")
    connect(instructor, "free_busy", "ms_graph")
    linked = {p["provider"]: p["linked"] for p in wiring.sandbox.control.person(ADA)["profiles"]}
    assert linked == {"google": False, "ms_graph": True, "cronofy": False}


def test_no_calendar_shows_only_the_cronofy_calendar_and_no_settings(
    app: Flask, instructor: FlaskClient, people: People, wiring: Wiring
) -> None:
    connect(instructor, "read_write", "google")
    assert connect(instructor, "no_calendar").status_code == 302
    page = instructor.get("/calendars").get_data(as_text=True)
    cronofy = _calendars(wiring, "cronofy")
    assert _listed(page, cronofy) == cronofy
    assert _listed(page, _calendars(wiring, "google") | _calendars(wiring, "ms_graph")) == set()
    assert 'name="calendar_ids"' not in page
    assert "Write bookings to" not in page
    connection = the_connection(app, people.instructor_id)
    assert connection is not None
    assert set(connection.conflict_calendar_ids) == cronofy
    refused = _post_conflicts(instructor, sorted(cronofy))
    assert refused.status_code == 400  # type: ignore[attr-defined]


def test_free_busy_offers_conflict_calendars_but_no_booking_calendar(
    app: Flask, instructor: FlaskClient, people: People, wiring: Wiring
) -> None:
    connect(instructor, "free_busy", "google")
    page = instructor.get("/calendars").get_data(as_text=True)
    assert "Write bookings to" not in page
    assert "Save booking calendar" not in page
    assert 'name="calendar_ids"' in page
    before = the_connection(app, people.instructor_id)
    token = csrf_token(instructor, "/calendars")
    primary = wiring.sandbox.control.calendar_id(ADA, "google")
    response = instructor.post(
        "/calendars/write-calendar", data={"calendar_id": primary, "csrf_token": token}
    )
    assert response.status_code == 400
    assert "e-mailed invitations" in response.get_data(as_text=True)
    after = the_connection(app, people.instructor_id)
    assert before is not None
    assert after is not None
    assert after.write_calendar_id == before.write_calendar_id


def test_unticking_every_conflict_calendar_warns_and_asks_to_confirm(
    app: Flask, instructor: FlaskClient, people: People
) -> None:
    connect(instructor, "read_write", "google")
    before = the_connection(app, people.instructor_id)
    assert before is not None
    assert before.conflict_calendar_ids
    asked = _post_conflicts(instructor, [])
    assert asked.status_code == 409  # type: ignore[attr-defined]
    text = asked.get_data(as_text=True)  # type: ignore[attr-defined]
    assert "double bookings become possible" in text
    assert 'name="confirm_none" value="yes"' in text
    unchanged = the_connection(app, people.instructor_id)
    assert unchanged is not None
    assert unchanged.conflict_calendar_ids == before.conflict_calendar_ids
    confirmed = instructor.post(
        "/calendars/conflict-calendars",
        data={"confirm_none": "yes", "csrf_token": csrf_token(instructor, "/calendars")},
        follow_redirects=True,
    )
    page = confirmed.get_data(as_text=True)
    assert "flash-warning" in page
    assert "double bookings are possible" in page
    assert "now count for conflicts" not in page
    after = the_connection(app, people.instructor_id)
    assert after is not None
    assert after.conflict_calendar_ids == []


def test_choosing_one_conflict_calendar_says_so_in_words(
    instructor: FlaskClient, wiring: Wiring
) -> None:
    connect(instructor, "read_write", "google")
    primary = wiring.sandbox.control.calendar_id(ADA, "google")
    token = csrf_token(instructor, "/calendars")
    page = instructor.post(
        "/calendars/conflict-calendars",
        data={"calendar_ids": [primary], "csrf_token": token},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "1 calendar now counts for conflicts." in page


def test_denying_consent_while_connected_says_the_connection_is_kept(
    app: Flask, instructor: FlaskClient, people: People
) -> None:
    connect(instructor, "read_write", "google")
    url = start_connect(instructor, "free_busy", "ms_graph")
    response = instructor.get(local_path(consent(url, allow=False)))
    text = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "is unchanged and still in use" in text
    assert "Bookly working hours" not in text
    connection = the_connection(app, people.instructor_id)
    assert connection is not None
    assert connection.provider_name == "google"


def test_page_says_who_connected_when_in_the_persons_own_zone(
    app: Flask, instructor: FlaskClient, people: People
) -> None:
    with app.app_context():
        db.session.execute(
            sa.update(User).where(User.id == people.instructor_id).values(time_zone="Europe/Berlin")
        )
        db.session.commit()
    connect(instructor, "read_write", "google")
    page = instructor.get("/calendars").get_data(as_text=True)
    assert '<dd id="connected-by">You</dd>' in page
    assert "Access you granted" not in page
    connection = the_connection(app, people.instructor_id)
    assert connection is not None
    assert connection.connected_at is not None
    berlin = connection.connected_at.astimezone(ZoneInfo("Europe/Berlin"))
    assert f"{berlin:%Y-%m-%d %H:%M} {berlin.tzname()}" in page
    assert " UTC</dd>" not in page

"""The calendars page: status, write calendar, conflict calendars, friendly Cronofy errors."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.integration.connect.conftest import Wiring, connect, the_connection
from tests.webapp_fixtures import People, csrf_token


@pytest.fixture
def connected(app: Flask, instructor: FlaskClient, people: People) -> FlaskClient:
    """The instructor with Ada's sandbox calendar connected read-write (Google)."""
    assert connect(instructor, "read_write", "google").status_code == 302
    return instructor


def _cal(wiring: Wiring, provider: str = "google", *, primary: bool = True) -> str:
    return wiring.sandbox.control.calendar_id("ada@demo.test", provider, primary=primary)


def test_page_shows_status_mode_provider_and_calendars(
    connected: FlaskClient, wiring: Wiring
) -> None:
    page = connected.get("/calendars").get_data(as_text=True)
    for text in ("Connected", "Read-write", "Google", "ada@demo.test", "Troubleshooting"):
        assert text in page
    write_select = page.split('name="calendar_id"', 1)[1].split("</select>", 1)[0]
    assert _cal(wiring) in write_select
    assert _cal(wiring, primary=False) not in write_select  # read-only calendars are not offered
    assert f'name="calendar_ids" value="{_cal(wiring, primary=False)}"' in page


@pytest.mark.parametrize("which", ["read_only", "foreign", "empty"])
def test_write_calendar_must_be_ours_and_writable(
    app: Flask, connected: FlaskClient, people: People, wiring: Wiring, which: str
) -> None:
    calendar_id = {
        "read_only": _cal(wiring, primary=False),
        "foreign": wiring.sandbox.control.calendar_id("grace@demo.test"),
        "empty": "",
    }[which]
    token = csrf_token(connected, "/calendars")
    response = connected.post(
        "/calendars/write-calendar", data={"calendar_id": calendar_id, "csrf_token": token}
    )
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert (
        "read-only" in text
        if which == "read_only"
        else "not one of your connected calendars" in text
    )
    conn = the_connection(app, people.instructor_id)
    assert conn is not None
    assert conn.write_calendar_id == _cal(wiring)


def test_conflict_calendars_can_be_chosen(
    app: Flask, connected: FlaskClient, people: People, wiring: Wiring
) -> None:
    token = csrf_token(connected, "/calendars")
    chosen = [_cal(wiring, primary=False)]
    response = connected.post(
        "/calendars/conflict-calendars", data={"calendar_ids": chosen, "csrf_token": token}
    )
    assert response.status_code == 303
    conn = the_connection(app, people.instructor_id)
    assert conn is not None
    assert conn.conflict_calendar_ids == chosen
    page = connected.get("/calendars").get_data(as_text=True)
    assert f'value="{chosen[0]}" checked' in page


def test_conflict_calendars_refuse_someone_elses_calendar(
    app: Flask, connected: FlaskClient, people: People, wiring: Wiring
) -> None:
    before = the_connection(app, people.instructor_id)
    token = csrf_token(connected, "/calendars")
    foreign = wiring.sandbox.control.calendar_id("grace@demo.test")
    response = connected.post(
        "/calendars/conflict-calendars", data={"calendar_ids": [foreign], "csrf_token": token}
    )
    assert response.status_code == 400
    after = the_connection(app, people.instructor_id)
    assert before is not None
    assert after is not None
    assert after.conflict_calendar_ids == before.conflict_calendar_ids


def test_cronofy_outage_gives_a_friendly_page_not_a_500(
    connected: FlaskClient, wiring: Wiring
) -> None:
    token = csrf_token(connected, "/calendars")
    wiring.sandbox.control.fail_next(503, count=20, path_prefix="/v1/")
    page = connected.get("/calendars")
    assert page.status_code == 200
    assert "Cronofy could not be reached" in page.get_data(as_text=True)
    response = connected.post(
        "/calendars/write-calendar", data={"calendar_id": _cal(wiring), "csrf_token": token}
    )
    assert response.status_code == 503
    assert "Cronofy could not be reached" in response.get_data(as_text=True)


def test_not_connected_page_offers_to_connect(instructor: FlaskClient) -> None:
    page = instructor.get("/calendars").get_data(as_text=True)
    assert "Not connected" in page
    assert "/connect" in page


def test_free_busy_connection_explains_emailed_invites(
    instructor: FlaskClient, people: People
) -> None:
    assert connect(instructor, "free_busy", "google").status_code == 302
    page = instructor.get("/calendars").get_data(as_text=True)
    assert "e-mailed calendar invitation" in page
    assert "Free/busy only" in page
    assert "<dd>Google (free/busy only)</dd>" in page  # the profile's provider, named


def test_connect_page_offers_each_provider_by_name(instructor: FlaskClient) -> None:
    page = instructor.get("/connect").get_data(as_text=True)
    assert 'value="google" checked> Google</label>' in page
    assert 'value="ms_graph"> Microsoft 365</label>' in page
    assert 'value="choose"> Let me choose on Cronofy' in page


def _sync_card(client: FlaskClient) -> str:
    page = client.get("/calendars").get_data(as_text=True)
    return page[
        page.index('id="sync-health"') : page.index("</section>", page.index('id="sync-health"'))
    ]


def test_the_sync_card_counts_mirrored_times_and_says_when_changes_wait_too_long(
    app: Flask, connected: FlaskClient, people: People
) -> None:
    from datetime import timedelta

    from webapp.database import utcnow
    from webapp.extensions import db
    from webapp.models import BusyBlock, InboundNotification

    conn = the_connection(app, people.instructor_id)
    assert conn is not None
    card = _sync_card(connected)
    assert "nothing waiting" in card
    assert "all delivered" in card
    assert 'id="sync-behind"' not in card
    with app.app_context():
        now = utcnow()
        for hours in (1, 2):
            db.session.add(BusyBlock(connection_id=conn.id, starts_at=now + timedelta(hours=hours),
                                     ends_at=now + timedelta(hours=hours, minutes=30)))  # fmt: skip
        db.session.add(InboundNotification(body_hash="c" * 64, notification_type="change",
                                           connection_id=conn.id, body="{}",
                                           received_at=now - timedelta(minutes=12)))  # fmt: skip
        db.session.commit()
    card = _sync_card(connected)
    assert "2 busy times from your calendar block Bookly" in card
    assert "1 change waiting since" in card
    assert 'id="sync-behind"' in card
    assert "flask sync status" in card

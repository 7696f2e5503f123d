"""The "My availability" page and "why not?" for instructors and admins."""

from __future__ import annotations

from flask import Flask

from tests.integration.availability.conftest import (
    GRACE_EMAIL,
    School,
    berlin,
    connect_as,
    logged_in,
)
from tests.integration.connect.conftest import Wiring
from tests.webapp_fixtures import People

WEEK = "/availability?week=2026-11-23"


def test_a_schedule_only_instructor_sees_the_week_with_a_banner(
    app: Flask, people: People, school: School
) -> None:
    page = logged_in(app, people.instructor_email, people.password).get(WEEK)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Schedule only: calendar not checked (no calendar is connected)" in html
    assert 'data-start="2026-11-24T09:00"' in html
    assert 'data-start="2026-11-24T16:00"' in html
    assert 'data-start="2026-11-24T16:15"' not in html
    assert 'data-start="2026-11-29T09:00"' not in html  # Sunday: no hours
    assert "times in Europe/Berlin" in html


def test_a_connected_instructor_sees_calendar_busy_time_removed(
    app: Flask, people: People, school: School, wiring: Wiring
) -> None:
    connect_as(app, people.instructor_email, people.password, "read_write", "ada@demo.test")
    calendar = wiring.sandbox.control.calendar_id("ada@demo.test")
    wiring.sandbox.control.add_event(
        calendar, "Dentist", berlin("2026-11-24 10:00"), berlin("2026-11-24 11:00")
    )
    html = logged_in(app, people.instructor_email, people.password).get(WEEK).get_data(as_text=True)
    assert "Schedule only" not in html
    assert 'data-start="2026-11-24T09:00"' in html
    assert 'data-start="2026-11-24T10:00"' not in html
    assert 'data-start="2026-11-24T11:00"' in html


def test_why_not_explains_calendar_busy_without_titles(
    app: Flask, people: People, school: School, wiring: Wiring
) -> None:
    connect_as(app, people.instructor_email, people.password, "read_write", "ada@demo.test")
    calendar = wiring.sandbox.control.calendar_id("ada@demo.test")
    wiring.sandbox.control.add_event(
        calendar, "Secret dentist", berlin("2026-11-24 10:00"), berlin("2026-11-24 11:00")
    )
    client = logged_in(app, people.instructor_email, people.password)
    url = f"/availability/why-not?service={school.lesson}&date=2026-11-24&time=10:00"
    html = client.get(url).get_data(as_text=True)
    assert 'data-code="calendar_busy"' in html
    assert "Secret dentist" not in html
    sunday = client.get(url.replace("2026-11-24", "2026-11-29")).get_data(as_text=True)
    assert 'data-code="day_off"' in sunday


def test_an_admin_views_any_instructor_of_their_organisation(
    app: Flask, people: People, school: School
) -> None:
    admin = logged_in(app, people.admin_email, people.password)
    picker = admin.get("/availability").get_data(as_text=True)
    assert "Grace Hopper" in picker
    html = admin.get(f"{WEEK}&instructor={school.grace_id}").get_data(as_text=True)
    assert "Availability of Grace Hopper" in html
    assert "times in America/New_York" in html
    assert 'data-start="2026-11-24T03:00"' in html  # 09:00 Berlin


def test_an_instructor_cannot_look_at_a_colleague(
    app: Flask, people: People, school: School
) -> None:
    ada = logged_in(app, people.instructor_email, people.password)
    assert ada.get(f"{WEEK}&instructor={school.grace_id}").status_code == 404
    grace = logged_in(app, GRACE_EMAIL, people.password)
    why = f"/availability/why-not?service={school.lesson}&date=2026-11-24&time=10:00"
    assert grace.get(f"{why}&instructor={school.ada_id}").status_code == 404


def test_why_not_without_a_time_is_a_400(app: Flask, people: People, school: School) -> None:
    client = logged_in(app, people.instructor_email, people.password)
    response = client.get(f"/availability/why-not?service={school.lesson}&date=2026-11-24")
    assert response.status_code == 400
    assert "Choose a service, a date and a time" in response.get_data(as_text=True)

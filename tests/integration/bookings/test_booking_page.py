"""The public booking page: a week of free times in the visitor's zone, the form, the
confirmation, and the next free times when the chosen one was just taken."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from bookly_client import BooklyGateway
from cronofy_client import CronofyClient
from tests.webapp_fixtures import csrf_token
from webapp.extensions import db
from webapp.models import Booking, Role, User
from webapp.services import accounts

from .conftest import School, at, counts
from .test_service import book, request_for


def _form(client: FlaskClient, path: str, start: str, **extra: str) -> dict[str, str]:
    page = client.get(path).get_data(as_text=True)
    key = page.split('name="form_key" value="', 1)[1].split('"', 1)[0]
    return {"csrf_token": csrf_token(client, path), "form_key": key, "start": start,
            "name": "Kim Doe", "email": "kim@example.com", **extra}  # fmt: skip


def test_the_week_is_shown_in_the_visitor_s_time_zone(app: Flask, school: School) -> None:
    page = app.test_client().get(
        f"/book/{school.instructor_id}?tz=America/New_York&service={school.lesson}"
    )
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Mon 07 Jan, 04:00" in text  # 10:00 in Berlin = 09:00 UTC = 04:00 in New York
    assert at(9).isoformat() in text


def test_an_unknown_zone_is_said_and_utc_is_shown(app: Flask, school: School) -> None:
    page = app.test_client().get(
        f"/book/{school.instructor_id}?tz=Mars/Olympus_Mons&service={school.lesson}"
    )
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "“Mars/Olympus_Mons” is not a time zone we know; times are shown in UTC." in text
    assert "Mon 07 Jan, 09:00" in text  # 10:00 in Berlin, shown in UTC
    assert 'data-chosen="yes"' in text  # the browser will not replace what the visitor typed


def test_a_first_visit_lets_the_browser_choose_the_zone(app: Flask, school: School) -> None:
    text = app.test_client().get(f"/book/{school.instructor_id}").get_data(as_text=True)
    assert 'data-chosen="no"' in text
    assert "booking-zone.js" in text


def test_booking_through_the_page_confirms_in_the_visitor_s_zone(
    app: Flask, school: School
) -> None:
    client = app.test_client()
    path = f"/book/{school.instructor_id}?tz=America/New_York&service={school.lesson}"
    done = client.post(path, data=_form(client, path, at(9).isoformat()))
    assert done.status_code == 303, done.get_data(as_text=True)
    confirmation = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Monday 07 January 2030, 04:00 (America/New_York)" in confirmation
    assert counts(app, school.site)["bookings"] == 1


def test_a_slot_taken_meanwhile_shows_the_next_free_times_and_writes_nothing(
    app: Flask, school: School, gateway: BooklyGateway, cronofy: CronofyClient
) -> None:
    client = app.test_client()
    path = f"/book/{school.instructor_id}?service={school.lesson}"
    form = _form(client, path, at(9).isoformat())
    book(app, gateway, cronofy, request_for(school, at(9)), key="someone-else")
    before = counts(app, school.site)
    taken = client.post(path, data=form)
    assert taken.status_code == 409
    text = taken.get_data(as_text=True)
    assert "just taken" in text
    assert at(10).isoformat() in text
    assert counts(app, school.site) == before


def test_a_malformed_e_mail_is_explained_and_writes_nothing(app: Flask, school: School) -> None:
    client = app.test_client()
    path = f"/book/{school.instructor_id}?service={school.lesson}"
    before = counts(app, school.site)
    answer = client.post(path, data=_form(client, path, at(9).isoformat(), email="nope"))
    assert answer.status_code == 422
    assert "Enter a valid e-mail address." in answer.get_data(as_text=True)
    assert counts(app, school.site) == before


def test_an_unknown_instructor_has_no_page(app: Flask, school: School) -> None:
    assert app.test_client().get("/book/999").status_code == 404


def _school_with_two(app: Flask, school: School) -> tuple[str, int]:
    """Ada and Bob (a second instructor of her school) both teach a group lesson."""
    bob_staff = school.site.add_staff("Bob Builder")
    both = school.site.add_service("Group lesson", 60, staff=(school.staff_id, bob_staff))
    with app.app_context():
        ada = db.session.get(User, school.instructor_id)
        assert ada is not None
        bob = accounts.create_user(
            email="bob@school.test", password="correct horse battery", role=Role.INSTRUCTOR,
            organisation=ada.organisation, name="Bob Builder",
        )  # fmt: skip
        bob.bookly_staff_id = bob_staff
        db.session.commit()
        return f"/book/school/{ada.organisation_id}?service={both}&tz=UTC", bob.id


def _booked_with(app: Flask) -> list[int]:
    with app.app_context():
        return list(db.session.scalars(sa.select(Booking.instructor_id).order_by(Booking.id)))


def test_the_school_page_books_whichever_instructor_is_free(app: Flask, school: School) -> None:
    path, bob = _school_with_two(app, school)
    client = app.test_client()
    page = client.get(path)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Book a time at" in text
    assert "Group lesson" in text
    assert at(9).isoformat() in text

    first = client.post(path, data=_form(client, path, at(9).isoformat()))
    assert first.status_code == 303, first.get_data(as_text=True)
    second = client.post(path, data=_form(client, path, at(9).isoformat(), email="lee@x.org"))
    assert second.status_code == 303, second.get_data(as_text=True)
    assert _booked_with(app) == [school.instructor_id, bob]  # both taken at 10:00 Berlin

    before = counts(app, school.site)
    third = client.post(path, data=_form(client, path, at(9).isoformat(), email="max@x.org"))
    assert third.status_code == 409
    assert "just taken" in third.get_data(as_text=True)
    assert counts(app, school.site) == before


def test_the_school_form_sent_twice_makes_one_booking(app: Flask, school: School) -> None:
    path, _ = _school_with_two(app, school)
    client = app.test_client()
    form = _form(client, path, at(9).isoformat())
    first = client.post(path, data=form)
    again = client.post(path, data=form)
    assert first.status_code == again.status_code == 303
    assert first.headers["Location"] == again.headers["Location"]
    assert len(_booked_with(app)) == 1


def test_an_unknown_school_or_one_without_services_is_404(app: Flask, school: School) -> None:
    client = app.test_client()
    assert client.get("/book/school/999").status_code == 404
    with app.app_context():
        org = accounts.get_or_create_organisation("Empty school")
        db.session.commit()
        empty = org.id
    assert client.get(f"/book/school/{empty}").status_code == 404

"""Booking pages: the customer's signed cancel/reschedule links, and the instructor's list
with "calendar not updated" and a retry."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import TimestampSigner

from bookly_client import BooklyGateway
from cronofy_client import CronofyClient
from tests.webapp_fixtures import People, csrf_token, log_in
from webapp.extensions import db
from webapp.mail import CapturingMailer
from webapp.models import Booking, BookingStatus, DeliveryState
from webapp.services.bookings.links import ManageLinks
from webapp.tasks import deliver_bookings

from .conftest import School, at, counts
from .test_service import book, request_for


def _link(app: Flask, public_id: str, action: str) -> str:
    url = ManageLinks.from_config(app.config).url(public_id, action)
    return url.split("://", 1)[1].split("/", 1)[1].join(["/", ""])


def _booking(app: Flask) -> Booking:
    with app.app_context():
        found = db.session.scalars(sa.select(Booking)).one()
        db.session.expunge(found)
        return found


def test_the_customer_cancels_through_the_signed_link(
    app: Flask, school: School, gateway: BooklyGateway, cronofy: CronofyClient,
    mailer: CapturingMailer,
) -> None:  # fmt: skip
    made = book(app, gateway, cronofy, request_for(school, at(9)))
    with app.app_context():
        deliver_bookings()  # the booking's invite went out
    client = app.test_client()
    path = _link(app, made.booking.public_id, "cancel")
    page = client.get(path)
    assert page.status_code == 200
    assert "Cancel this booking" in page.get_data(as_text=True)
    done = client.post(path, data={"csrf_token": csrf_token(client, path)})
    assert done.status_code == 200
    assert "Booking cancelled" in done.get_data(as_text=True)
    assert _booking(app).status is BookingStatus.CANCELLED
    ca = school.site.row(
        school.site.tables.customer_appointments, made.booking.bookly_customer_appointment_id
    )
    assert ca.status == "cancelled"
    assert [m.calendar.method for m in mailer.outbox if m.calendar] == ["REQUEST", "CANCEL"]


def test_a_tampered_or_expired_link_changes_nothing(
    app: Flask, school: School, gateway: BooklyGateway, cronofy: CronofyClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    made = book(app, gateway, cronofy, request_for(school, at(9)))
    client = app.test_client()
    good = _link(app, made.booking.public_id, "cancel")
    token = csrf_token(client, good)
    tampered = good.replace("/cancel", "").rstrip("/")[:-3] + "abc/cancel"
    old = int(time.time()) - int(timedelta(days=61).total_seconds())
    with monkeypatch.context() as patched:
        patched.setattr(TimestampSigner, "get_timestamp", lambda self: old)
        expired = _link(app, made.booking.public_id, "cancel")
    before = counts(app, school.site)
    for path in (tampered, expired):
        response = client.post(path, data={"csrf_token": token})
        assert response.status_code == 400, path
        assert "Nothing was changed" in response.get_data(as_text=True)
    assert "expired" in client.get(expired).get_data(as_text=True)
    assert counts(app, school.site) == before
    assert _booking(app).status is BookingStatus.CONFIRMED


def test_the_customer_moves_the_booking_to_an_offered_time(
    app: Flask, school: School, gateway: BooklyGateway, cronofy: CronofyClient
) -> None:
    made = book(app, gateway, cronofy, request_for(school, at(9)))
    client = app.test_client()
    path = _link(app, made.booking.public_id, "reschedule")
    page = client.get(path).get_data(as_text=True)
    offered = re.findall(r'name="start" value="([^"]+)"', page)
    assert len(offered) == 12
    moved = client.post(path, data={"csrf_token": csrf_token(client, path),
                                    "start": offered[-1]})  # fmt: skip
    assert moved.status_code == 200, moved.get_data(as_text=True)
    assert _booking(app).starts_at == datetime.fromisoformat(offered[-1])


def test_the_instructor_sees_calendar_not_updated_and_retries(
    app: Flask, people: People, school: School, gateway: BooklyGateway, cronofy: CronofyClient
) -> None:
    made = book(app, gateway, cronofy, request_for(school, at(9)))
    with app.app_context():
        row = db.session.get(Booking, made.booking.id)
        assert row is not None
        row.delivery_state = DeliveryState.FAILED
        db.session.commit()
    client: FlaskClient = app.test_client()
    assert log_in(client, people.instructor_email, people.password).status_code == 302
    page = client.get("/bookings").get_data(as_text=True)
    assert "calendar not updated" in page
    assert "Kim Doe" in page
    retried = client.post(f"/bookings/{made.booking.public_id}/retry",
                          data={"csrf_token": csrf_token(client, "/bookings")})  # fmt: skip
    assert retried.status_code == 302
    assert _booking(app).delivery_state is DeliveryState.DELIVERED  # eager in the demo


def test_nobody_else_may_cancel_from_the_list(
    app: Flask, people: People, school: School, gateway: BooklyGateway, cronofy: CronofyClient
) -> None:
    made = book(app, gateway, cronofy, request_for(school, at(9)))
    with app.app_context():
        from webapp.models import Role
        from webapp.services import accounts

        accounts.create_user(
            email="eve@other.test", password=people.password, role=Role.ADMIN,
            organisation=accounts.get_or_create_organisation("Other"), name="Eve",
        )  # fmt: skip
    client = app.test_client()
    assert log_in(client, "eve@other.test", people.password).status_code == 302
    response = client.post(f"/bookings/{made.booking.public_id}/cancel",
                           data={"csrf_token": csrf_token(client, "/bookings")})  # fmt: skip
    assert response.status_code == 404
    assert _booking(app).status is BookingStatus.CONFIRMED

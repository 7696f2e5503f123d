"""An admin erases a customer: upcoming bookings cancelled (the customer told), past ones kept
without the person, in our database, in Bookly and in the instructor's calendar."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from bookly_client import BooklyGateway
from cronofy_client import CronofyClient
from tests.sandbox_fixtures import RunningSandbox
from tests.webapp_fixtures import People, csrf_token, log_in
from webapp.extensions import db
from webapp.mail import CapturingMailer
from webapp.models import AuditEvent, Booking, BookingStatus, CalendarConnection, User
from webapp.services import customer_erasure, tokens
from webapp.services.bookings import sync_jobs
from webapp.services.bookings.delivery import DeliveryContext
from webapp.services.bookings.links import ManageLinks
from webapp.services.privacy import ErasureRefused

from .conftest import NOW, PUBLIC_BASE_URL, School, at, connect_instructor
from .test_privacy import dump
from .test_service import KIM, book, request_for

KIM_EMAIL = "kim@example.com"


@pytest.fixture
def context(cronofy: CronofyClient, gateway: BooklyGateway, mailer: CapturingMailer) -> Any:
    links = ManageLinks(PUBLIC_BASE_URL, "k" * 32)
    return DeliveryContext(cronofy, gateway, mailer, links, f"{PUBLIC_BASE_URL}/cb")


def _bookly_dump(school: School) -> str:
    parts = []
    with school.site.engine.connect() as conn:
        for table in school.site.tables.bookly():
            for row in conn.execute(sa.select(table)):
                parts.append(f"{table.name}: {tuple(row)!r}")
    return "\n".join(parts)


def _events(app: Flask, cronofy: CronofyClient) -> list[Any]:
    with app.app_context():
        connection_id = db.session.scalar(sa.select(CalendarConnection.id))
        token = tokens.access_token(cronofy, int(connection_id or 0))
    return list(cronofy.read_events(token, only_managed=True, include_managed=True))


def test_erasing_a_customer_leaves_nothing_of_them_but_the_lesson_times(
    app: Flask, people: People, school: School, gateway: BooklyGateway, cronofy: CronofyClient,
    sandbox: RunningSandbox, context: DeliveryContext, mailer: CapturingMailer,
) -> None:  # fmt: skip
    connect_instructor(app, people, "read_write")
    past = book(app, gateway, cronofy, request_for(school, at(9)), key="past").booking
    upcoming = book(app, gateway, cronofy, request_for(school, at(13)), key="next").booking
    other = dataclass_replace_customer(school)
    lee = book(app, gateway, cronofy, other, key="lee").booking
    with app.app_context():
        assert sync_jobs.run_due(context, now=NOW).done == 3
        admin = db.session.get(User, people.admin_id)
        assert admin is not None
        report = customer_erasure.erase_customer(
            gateway, admin.organisation_id, " KIM@Example.com ", admin, now=at(10)
        )  # "now" is 10:00 UTC on the lesson day: 09:00 is past, 13:00 upcoming
    assert (report.bookings, report.cancelled, report.past) == (2, 1, 1)
    cancelled = gateway.find_booking_by_reference(upcoming.public_id)
    assert cancelled is not None
    assert cancelled.status == "cancelled"

    with app.app_context():  # the cancellation goes out first: it needs the address
        assert customer_erasure.run_due(cronofy, gateway, now=NOW).waiting == 1
        assert sync_jobs.run_due(context, now=NOW).done == 1
        assert customer_erasure.run_due(cronofy, gateway, now=at(12)).done == 1
    assert [m.calendar.method for m in mailer.outbox if m.to == KIM_EMAIL and m.calendar] == [
        "REQUEST", "REQUEST", "CANCEL",
    ]  # fmt: skip

    ours, bookly = dump(app), _bookly_dump(school)
    for trace in (KIM_EMAIL, "Kim Doe", KIM.phone):
        assert trace not in ours, trace
        assert trace not in bookly, trace
    assert "lee@example.com" in ours  # another customer is untouched
    assert "lee@example.com" in bookly
    with app.app_context():
        rows = {b.public_id: b for b in db.session.scalars(sa.select(Booking))}
        assert rows[past.public_id].customer_name == customer_erasure.ERASED_NAME
        assert rows[past.public_id].status is BookingStatus.CONFIRMED  # the lesson happened
        assert rows[past.public_id].starts_at == at(9)
        assert rows[upcoming.public_id].status is BookingStatus.CANCELLED
        assert rows[lee.public_id].customer_name == "Lee Roe"
        entry = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "customer.erased")
        ).one()
        assert entry.target == customer_erasure.subject_of(KIM_EMAIL)
    events = {e.event_id: e for e in _events(app, cronofy)}
    kept = events[f"bridge-booking-{past.public_id}"]
    assert "Kim" not in kept.summary
    assert "Kim" not in kept.description
    assert KIM_EMAIL not in [a.email for a in kept.attendees]
    assert f"bridge-booking-{upcoming.public_id}" not in events


def dataclass_replace_customer(school: School) -> Any:
    import dataclasses

    from webapp.services.bookings import Customer

    return dataclasses.replace(
        request_for(school, at(15)), customer=Customer("Lee Roe", "lee@example.com", "", "UTC")
    )


def test_a_malformed_address_is_refused_and_changes_nothing(
    app: Flask, people: People, school: School, gateway: BooklyGateway,
) -> None:  # fmt: skip
    with app.app_context():
        admin = db.session.get(User, people.admin_id)
        assert admin is not None
        with pytest.raises(ErasureRefused):
            customer_erasure.erase_customer(gateway, admin.organisation_id, "not-an-address", admin)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "customer.erased")) == 0  # fmt: skip


def test_the_admin_page_needs_the_address_twice_and_reports(
    app: Flask, people: People, school: School,
) -> None:  # fmt: skip
    client = app.test_client()
    assert log_in(client, people.admin_email, people.password).status_code == 302
    token = csrf_token(client, "/customers/erase")
    mismatch = client.post("/customers/erase", data={
        "email": KIM_EMAIL, "confirm_email": "kim@example.org", "csrf_token": token})  # fmt: skip
    assert mismatch.status_code == 400
    done = client.post("/customers/erase", data={
        "email": KIM_EMAIL, "confirm_email": KIM_EMAIL, "csrf_token": token})  # fmt: skip
    assert done.status_code == 200
    assert "0 booking(s) found" in done.get_data(as_text=True)
    instructor = app.test_client()
    assert log_in(instructor, people.instructor_email, people.password).status_code == 302
    assert instructor.get("/customers/erase").status_code == 404

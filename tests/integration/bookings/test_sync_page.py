"""The admins' sync health page: instructors both ways, dead jobs with Retry, the policy."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from bookly_client import BooklyGateway
from cronofy_client import CronofyClient
from tests.sandbox_fixtures import RunningSandbox
from tests.webapp_fixtures import People, csrf_token, log_in
from webapp.extensions import db
from webapp.mail import CapturingMailer
from webapp.models import (
    AuditEvent,
    Booking,
    BookingEventPolicy,
    DeliveryState,
    Organisation,
    OutboxJob,
    OutboxStatus,
    Role,
)
from webapp.services import accounts
from webapp.services.bookings import sync_jobs
from webapp.services.bookings.delivery import DeliveryContext
from webapp.services.bookings.links import ManageLinks

from .conftest import NOW, PUBLIC_BASE_URL, School, at, connect_instructor
from .test_service import book, request_for


def _admin(app: Flask, people: People) -> FlaskClient:
    client = app.test_client()
    assert log_in(client, people.admin_email, people.password).status_code == 302
    return client


def _dead_booking_job(app: Flask, people: People, school: School, gateway: BooklyGateway,
                      cronofy: CronofyClient, sandbox: RunningSandbox,
                      context: DeliveryContext) -> int:  # fmt: skip
    connect_instructor(app, people, "read_write")
    book(app, gateway, cronofy, request_for(school, at(9)))
    sandbox.control.fail_next(503, count=50)
    with app.app_context():
        job = db.session.scalars(sa.select(OutboxJob).where(OutboxJob.kind == "booking.sync")).one()
        job.attempts = sync_jobs.MAX_ATTEMPTS - 1
        db.session.commit()
        assert sync_jobs.run_due(context, now=NOW).dead == 1
        return job.id


def _context(
    cronofy: CronofyClient, gateway: BooklyGateway, mailer: CapturingMailer
) -> DeliveryContext:
    return DeliveryContext(cronofy, gateway, mailer, ManageLinks(PUBLIC_BASE_URL, "k" * 32),
                           f"{PUBLIC_BASE_URL}/cb")  # fmt: skip


@pytest.mark.requirement(18)
def test_the_page_shows_each_instructor_and_a_dead_job_that_retry_revives(
    app: Flask, people: People, school: School, gateway: BooklyGateway, cronofy: CronofyClient,
    sandbox: RunningSandbox, mailer: CapturingMailer,
) -> None:  # fmt: skip
    context = _context(cronofy, gateway, mailer)
    job_id = _dead_booking_job(app, people, school, gateway, cronofy, sandbox, context)
    client = _admin(app, people)
    page = client.get("/sync")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert f'data-instructor="{people.instructor_id}"' in text
    assert "Some bookings are not in the calendar" in text
    assert f'data-job="{job_id}"' in text
    assert "Cronofy did not accept the calendar change" in text
    assert "CronofyServerError" in text or "Cronofy" in text

    sandbox.control.clear_faults()
    retried = client.post(f"/sync/jobs/{job_id}/retry",
                          data={"csrf_token": csrf_token(client, "/sync")})  # fmt: skip
    assert retried.status_code == 303
    with app.app_context():  # tasks run inline here: the retry delivered at once
        job = db.session.get(OutboxJob, job_id)
        assert job is not None
        assert (job.status, job.attempts) == (OutboxStatus.DONE, 1)
        booking = db.session.scalars(sa.select(Booking)).one()
        assert booking.delivery_state is DeliveryState.DELIVERED
        retries = sa.select(sa.func.count()).where(AuditEvent.action == "job.retried")
        assert db.session.scalar(retries.select_from(AuditEvent)) == 1
    assert "No job has given up." in client.get("/sync").get_data(as_text=True)


def test_another_school_s_admin_neither_sees_nor_retries_the_job(
    app: Flask, people: People, school: School, gateway: BooklyGateway, cronofy: CronofyClient,
    sandbox: RunningSandbox, mailer: CapturingMailer,
) -> None:  # fmt: skip
    job_id = _dead_booking_job(app, people, school, gateway, cronofy, sandbox,
                               _context(cronofy, gateway, mailer))  # fmt: skip
    with app.app_context():
        other = accounts.get_or_create_organisation("Other school")
        accounts.create_user(email="boss@other.test", password=people.password,
                             role=Role.ADMIN, organisation=other, name="Boss")  # fmt: skip
        db.session.commit()
    client = app.test_client()
    assert log_in(client, "boss@other.test", people.password).status_code == 302
    assert f'data-job="{job_id}"' not in client.get("/sync").get_data(as_text=True)
    refused = client.post(f"/sync/jobs/{job_id}/retry",
                          data={"csrf_token": csrf_token(client, "/sync")})  # fmt: skip
    assert refused.status_code == 404
    with app.app_context():
        assert db.session.get(OutboxJob, job_id).status is OutboxStatus.DEAD  # type: ignore[union-attr]


def test_instructors_do_not_see_the_page(app: Flask, people: People) -> None:
    client = app.test_client()
    assert log_in(client, people.instructor_email, people.password).status_code == 302
    assert client.get("/sync").status_code == 404


def test_the_admin_chooses_the_policy_and_it_is_audited(app: Flask, people: People) -> None:
    client = _admin(app, people)
    assert 'value="bookly_wins" checked' in client.get("/sync").get_data(as_text=True)
    token = csrf_token(client, "/sync")
    saved = client.post("/sync/policy", data={"policy": "calendar_wins", "csrf_token": token})
    assert saved.status_code == 303
    wrong = client.post("/sync/policy", data={"policy": "whatever", "csrf_token": token})
    assert wrong.status_code == 303
    with app.app_context():
        school = db.session.scalars(sa.select(Organisation)).one()
        assert school.booking_event_policy is BookingEventPolicy.CALENDAR_WINS
        wanted = AuditEvent.action == "organisation.policy_changed"
        changes = list(db.session.scalars(sa.select(AuditEvent).where(wanted)))
        assert [c.details for c in changes] == [{"from": "bookly_wins", "to": "calendar_wins"}]
    assert "Choose one of the two policies." in client.get("/sync").get_data(as_text=True)

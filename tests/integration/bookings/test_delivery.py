"""Delivery of a booking: the instructor's calendar (or e-mailed invite) and the customer's
Smart Invite, idempotent by the booking's ids; failures leave Bookly alone."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from bookly_client import BooklyGateway
from cronofy_client import CronofyClient
from tests.sandbox_fixtures import RunningSandbox
from tests.webapp_fixtures import People
from webapp.extensions import db
from webapp.mail import CapturingMailer
from webapp.models import Booking, CalendarConnection, DeliveryState, OutboxJob
from webapp.services import bookings, tokens
from webapp.services.bookings import delivery, sync_jobs
from webapp.services.bookings.delivery import DeliveryContext, DeliveryFailed, sync
from webapp.services.bookings.links import InvalidLink, ManageLinks

from .conftest import PUBLIC_BASE_URL, School, at, connect_instructor
from .test_service import book, request_for

LINKS = ManageLinks(PUBLIC_BASE_URL, "k" * 48)


@pytest.fixture
def context(cronofy: CronofyClient, gateway: BooklyGateway, mailer: CapturingMailer) -> Any:
    return DeliveryContext(
        cronofy, gateway, mailer, LINKS, f"{PUBLIC_BASE_URL}/webhooks/cronofy/smart-invites"
    )


def _deliver(app: Flask, context: DeliveryContext, public_id: str) -> Booking:
    with app.app_context():
        sync(context, public_id)
        db.session.commit()
        booking = db.session.scalars(sa.select(Booking).where(Booking.public_id == public_id)).one()
        db.session.expunge(booking)
        return booking


def _calendar(app: Flask, people: People) -> str:
    with app.app_context():
        connection = db.session.scalars(
            sa.select(CalendarConnection).where(CalendarConnection.user_id == people.instructor_id)
        ).one()
        return str(connection.write_calendar_id)


def _read_back(app: Flask, cronofy: CronofyClient, people: People) -> list[Any]:
    with app.app_context():
        connection = db.session.scalars(
            sa.select(CalendarConnection).where(CalendarConnection.user_id == people.instructor_id)
        ).one()
        token = tokens.access_token(cronofy, connection.id)
    return list(cronofy.read_events(token, only_managed=True, include_managed=True))


def _ours(sandbox: RunningSandbox, calendar: str) -> list[dict[str, Any]]:
    return [
        e for e in sandbox.control.events(calendar)
        if str(e.get("event_id") or "").startswith("bridge-booking-") and not e.get("deleted")
    ]  # fmt: skip


@pytest.mark.requirement(17)
def test_read_write_puts_the_event_in_the_write_calendar_once(
    app: Flask, people: People, school: School, gateway: BooklyGateway, cronofy: CronofyClient,
    sandbox: RunningSandbox, context: DeliveryContext, mailer: CapturingMailer,
) -> None:  # fmt: skip
    connect_instructor(app, people, "read_write")
    made = book(app, gateway, cronofy, request_for(school, at(9)))
    _deliver(app, context, made.booking.public_id)
    delivered = _deliver(app, context, made.booking.public_id)  # a retry changes nothing
    events = _ours(sandbox, _calendar(app, people))
    assert len(events) == 1
    assert events[0]["event_id"] == f"bridge-booking-{made.booking.public_id}"
    (event,) = _read_back(app, cronofy, people)
    assert [a.email for a in event.attendees] == ["kim@example.com"]
    assert event.description.startswith("Driving lesson\nCustomer: Kim Doe (kim@example.com")
    assert delivered.delivery_state is DeliveryState.DELIVERED
    assert sandbox.control.mailbox(people.instructor_email) == []


@pytest.mark.parametrize("access_mode", ["free_busy", "no_calendar"])
def test_other_modes_make_cronofy_mail_the_instructor_an_invite(
    app: Flask, people: People, school: School, gateway: BooklyGateway, cronofy: CronofyClient,
    sandbox: RunningSandbox, context: DeliveryContext, access_mode: str,
) -> None:  # fmt: skip
    connect_instructor(app, people, access_mode)
    made = book(app, gateway, cronofy, request_for(school, at(9)))
    _deliver(app, context, made.booking.public_id)
    mails = [m for m in sandbox.control.mailbox() if m["method"] == "REQUEST"]
    assert len(mails) == 1
    assert "Driving lesson" in mails[0]["subject"]


def test_the_customer_gets_a_smart_invite_with_signed_links(
    app: Flask, school: School, gateway: BooklyGateway, cronofy: CronofyClient,
    context: DeliveryContext, mailer: CapturingMailer,
) -> None:  # fmt: skip
    made = book(app, gateway, cronofy, request_for(school, at(9)))
    _deliver(app, context, made.booking.public_id)
    (mail,) = mailer.outbox
    assert mail.to == "kim@example.com"
    assert mail.calendar is not None
    assert mail.calendar.method == "REQUEST"
    assert b"BEGIN:VCALENDAR" in mail.calendar.content
    cancel_url = next(line for line in mail.body.splitlines() if line.startswith("Cancel: "))
    token = cancel_url.split("/bookings/manage/", 1)[1].split("/", 1)[0]
    assert LINKS.public_id(token) == made.booking.public_id
    with pytest.raises(InvalidLink):
        LINKS.public_id(token[:-2] + "xx")
    with pytest.raises(InvalidLink):
        ManageLinks(PUBLIC_BASE_URL, "other-key" * 6).public_id(token)


def test_cancelling_removes_the_event_and_sends_the_cancelling_invite(
    app: Flask, people: People, school: School, gateway: BooklyGateway, cronofy: CronofyClient,
    sandbox: RunningSandbox, context: DeliveryContext, mailer: CapturingMailer,
) -> None:  # fmt: skip
    connect_instructor(app, people, "read_write")
    made = book(app, gateway, cronofy, request_for(school, at(9)))
    _deliver(app, context, made.booking.public_id)
    with app.app_context():
        bookings.cancel(gateway, made.booking.public_id)
    _deliver(app, context, made.booking.public_id)
    assert _ours(sandbox, _calendar(app, people)) == []
    assert [m.calendar.method for m in mailer.outbox if m.calendar] == ["REQUEST", "CANCEL"]


@pytest.mark.parametrize("status", [503, 429, 500])
@pytest.mark.requirement(18)
def test_a_calendar_failure_raises_for_a_retry_and_leaves_bookly_alone(
    app: Flask, people: People, school: School, gateway: BooklyGateway, cronofy: CronofyClient,
    sandbox: RunningSandbox, context: DeliveryContext, status: int,
) -> None:  # fmt: skip
    connect_instructor(app, people, "read_write")
    made = book(app, gateway, cronofy, request_for(school, at(9)))
    sandbox.control.fail_next(status, count=5)
    with app.app_context(), pytest.raises(DeliveryFailed):
        sync(context, made.booking.public_id)
    sandbox.control.clear_faults()
    assert gateway.find_booking_by_reference(made.booking.public_id) is not None
    with app.app_context():
        still = db.session.scalars(sa.select(Booking)).one()
        assert still.delivery_state is DeliveryState.PENDING
    _deliver(app, context, made.booking.public_id)
    assert len(_ours(sandbox, _calendar(app, people))) == 1


@pytest.mark.requirement(18)
def test_a_calendar_write_that_times_out_is_retried_into_one_event(
    app: Flask, people: People, school: School, gateway: BooklyGateway, cronofy: CronofyClient,
    sandbox: RunningSandbox, context: DeliveryContext,
) -> None:  # fmt: skip
    """The timed-out write may still have landed at Cronofy: the retry upserts the same id."""
    connect_instructor(app, people, "read_write")
    made = book(app, gateway, cronofy, request_for(school, at(9)))
    impatient = dataclasses.replace(context, cronofy=CronofyClient(
        sandbox.client_id, sandbox.client_secret, api_base_url=sandbox.base_url,
        max_retries=0, timeout=(1.0, 0.3),
    ))  # fmt: skip
    sandbox.control.fail_next(0, 1, latency_ms=1500, path_prefix="/v1/calendars/")
    with app.app_context(), pytest.raises(DeliveryFailed):
        sync(impatient, made.booking.public_id)
    _deliver(app, context, made.booking.public_id)
    assert len(_ours(sandbox, _calendar(app, people))) == 1


def _job_states(app: Flask) -> list[tuple[str, int]]:
    with app.app_context():
        return [(j.status.value, j.attempts) for j in db.session.scalars(sa.select(OutboxJob))]


def test_the_sync_job_delivers_and_finishes_with_the_booking(
    app: Flask, school: School, gateway: BooklyGateway, cronofy: CronofyClient,
    context: DeliveryContext, mailer: CapturingMailer,
) -> None:  # fmt: skip
    made = book(app, gateway, cronofy, request_for(school, at(9)))
    with app.app_context():
        run = sync_jobs.run_due(context)
        again = sync_jobs.run_due(context)
        state = db.session.scalars(sa.select(Booking)).one().delivery_state
    assert (run.done, again.done) == (1, 0)
    assert state is DeliveryState.DELIVERED
    assert _job_states(app) == [("done", 1)]
    assert [m.to for m in mailer.outbox] == ["kim@example.com"]
    assert made.created


@pytest.mark.requirement(18)
def test_failures_retry_then_show_calendar_not_updated_and_keep_bookly(
    app: Flask, people: People, school: School, gateway: BooklyGateway, cronofy: CronofyClient,
    sandbox: RunningSandbox, context: DeliveryContext,
) -> None:  # fmt: skip
    connect_instructor(app, people, "read_write")
    made = book(app, gateway, cronofy, request_for(school, at(9)))
    sandbox.control.fail_next(503, count=50)
    with app.app_context():
        first = sync_jobs.run_due(context)
        assert sync_jobs.run_due(context).retried == 0  # not due again yet (backoff)
        job = db.session.scalars(sa.select(OutboxJob)).one()
        job.attempts = sync_jobs.MAX_ATTEMPTS - 1
        job.next_attempt_at = job.created_at
        db.session.commit()
        last = sync_jobs.run_due(context)
        state = db.session.scalars(sa.select(Booking)).one().delivery_state
    assert (first.retried, last.dead) == (1, 1)
    assert state is DeliveryState.FAILED
    assert gateway.find_booking_by_reference(made.booking.public_id) is not None
    sandbox.control.clear_faults()
    with app.app_context():
        retried = delivery.retry(made.booking.public_id)
        assert retried.delivery_state is DeliveryState.PENDING
        assert sync_jobs.run_due(context).done == 1
        state = db.session.scalars(sa.select(Booking)).one().delivery_state
    assert state is DeliveryState.DELIVERED
    assert len(_ours(sandbox, _calendar(app, people))) == 1


def test_a_booking_cancelled_before_its_invite_went_out_sends_nothing(
    app: Flask, school: School, gateway: BooklyGateway, cronofy: CronofyClient,
    context: DeliveryContext, mailer: CapturingMailer,
) -> None:  # fmt: skip
    made = book(app, gateway, cronofy, request_for(school, at(9)))
    with app.app_context():
        bookings.cancel(gateway, made.booking.public_id)
        run = sync_jobs.run_due(context)
    assert (run.done, run.retried) == (2, 0)
    assert mailer.outbox == []

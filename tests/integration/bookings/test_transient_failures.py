"""Deadlocks, serialization failures and rows Bookly gained behind our back (reliability §8
items 14 and 15): a booking is retried a bounded number of times, never answers 500, and
never leaves an overlap or an orphaned Bookly appointment."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from bookly_client import BooklyGateway
from cronofy_client import CronofyClient
from webapp.extensions import db
from webapp.models import Booking, User
from webapp.services import bookings
from webapp.services.availability.cache import AvailabilityCache, InProcessStore
from webapp.services.availability.finder import AvailabilityRequest, find_availability
from webapp.services.bookings import BookingRequest, Customer, store

from .conftest import NOW, School, api_body, at, counts

KIM = Customer(name="Kim Doe", email="kim@example.com")


class _DriverError(Exception):
    """What psycopg raises for a deadlock or a serialization failure: it has a sqlstate."""

    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"injected failure {sqlstate}")
        self.sqlstate = sqlstate


@contextmanager
def failing_commits(app: Flask, sqlstate: str, times: int) -> Iterator[list[int]]:
    """The next ``times`` commits of the booking store (``store.commit_retrying``, the one
    place a booking change is committed) fail as the database would.

    Yields the list of failures so far (one entry each).
    """
    failed: list[int] = []
    inside = [False]
    original = store.commit_retrying

    def commit_retrying(stage: Any) -> Any:
        inside[0] = True
        try:
            return original(stage)
        finally:
            inside[0] = False

    def before_commit(session: Any) -> None:
        if inside[0] and len(failed) < times:
            failed.append(1)
            raise sa.exc.OperationalError("COMMIT", None, _DriverError(sqlstate))

    with app.app_context():
        sa.event.listen(db.session, "before_commit", before_commit)
    try:
        with mock.patch.object(store, "commit_retrying", commit_retrying):
            yield failed
    finally:
        with app.app_context():
            sa.event.remove(db.session, "before_commit", before_commit)


def book(app: Flask, gateway: BooklyGateway, cronofy: CronofyClient, school: School,
         key: str = "key-1") -> bookings.BookResult:  # fmt: skip
    request = BookingRequest(instructor_id=school.instructor_id, service_id=school.lesson,
                             start=at(9), customer=KIM)  # fmt: skip
    with app.app_context():
        result = bookings.book(gateway, cronofy, request, idempotency_key=key, now=NOW)
        db.session.expunge(result.booking)
        return result


def busy_in_bookly(gateway: BooklyGateway) -> list[Any]:
    return [a for a in gateway.list_appointments(at(0), at(23)) if a.is_busy]


@pytest.mark.requirement(14)
@pytest.mark.parametrize("sqlstate", ["40P01", "40001"])
def test_a_deadlock_or_serialization_failure_is_retried_into_one_booking(
    app: Flask, school: School, gateway: BooklyGateway, cronofy: CronofyClient, sqlstate: str
) -> None:
    with failing_commits(app, sqlstate, times=store.TRANSIENT_ATTEMPTS - 1) as failed:
        made = book(app, gateway, cronofy, school)
    assert len(failed) == store.TRANSIENT_ATTEMPTS - 1
    assert made.created
    assert [a.id for a in busy_in_bookly(gateway)] == [made.booking.bookly_appointment_id]
    assert counts(app, school.site)["bookings"] == 1


@pytest.mark.requirement(14)
def test_a_database_that_stays_deadlocked_is_unavailable_and_leaves_nothing(
    app: Flask, school: School, gateway: BooklyGateway, cronofy: CronofyClient
) -> None:
    before = counts(app, school.site)
    with (
        failing_commits(app, "40P01", times=store.TRANSIENT_ATTEMPTS) as failed,
        pytest.raises(bookings.BookingUnavailable),
    ):
        book(app, gateway, cronofy, school)
    assert len(failed) == store.TRANSIENT_ATTEMPTS  # bounded: no endless retrying
    assert busy_in_bookly(gateway) == []  # the Bookly appointment was taken back
    after = counts(app, school.site)
    assert after["bookings"] == before["bookings"] == 0
    assert after["outbox_jobs"] == before["outbox_jobs"]
    made = book(app, gateway, cronofy, school)  # the same key works once the database does
    assert made.created
    assert [a.id for a in busy_in_bookly(gateway)] == [made.booking.bookly_appointment_id]


@pytest.mark.requirement(14)
def test_the_api_answers_503_never_500_when_the_database_stays_deadlocked(
    app: Flask, client: FlaskClient, school: School, key: str
) -> None:
    payload = api_body(school)
    headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": "k1"}
    with failing_commits(app, "40001", times=store.TRANSIENT_ATTEMPTS):
        response = client.post("/api/v1/bookings", json=payload, headers=headers)
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.json["error"]["code"] == "unavailable"  # type: ignore[index]
    assert counts(app, school.site)["bookings"] == 0
    retried = client.post("/api/v1/bookings", json=payload, headers=headers)
    assert retried.status_code == 201, retried.get_data(as_text=True)
    assert len(busy_in_bookly(school.site.gateway(clock=lambda: NOW))) == 1


@pytest.mark.requirement(14)
def test_a_reschedule_that_cannot_commit_puts_bookly_back(
    app: Flask, school: School, gateway: BooklyGateway, cronofy: CronofyClient
) -> None:
    made = book(app, gateway, cronofy, school)
    with (
        failing_commits(app, "40P01", times=store.TRANSIENT_ATTEMPTS),
        app.app_context(),
        pytest.raises(bookings.BookingUnavailable),
    ):
        bookings.reschedule(gateway, cronofy, made.booking.public_id, at(13), now=NOW)
    [appointment] = busy_in_bookly(gateway)
    assert appointment.start == at(9)
    with app.app_context():
        ours = db.session.get(Booking, made.booking.id)
        assert ours is not None
        assert ours.starts_at == at(9)


@pytest.mark.requirement(15)
def test_a_bookly_row_written_after_the_availability_view_makes_the_booking_409(
    app: Flask,
    client: FlaskClient,
    school: School,
    gateway: BooklyGateway,
    cronofy: CronofyClient,
    key: str,
) -> None:
    with app.app_context():
        ada = db.session.get(User, school.instructor_id)
        assert ada is not None
        view = AvailabilityRequest(school.lesson, (ada,), at(8), at(12))
        cache = AvailabilityCache(InProcessStore(), ttl_seconds=300)
        offered = [slot.start for slot in find_availability(cronofy, gateway, cache, view).slots]
    assert at(9) in offered
    # Someone books 10:30-11:00 Berlin time straight into Bookly (its own PHP, wp-admin).
    direct = school.site.bookly_appointment(
        school.staff_id, school.theory, "2030-01-07 10:30:00", "2030-01-07 11:00:00"
    )
    payload = api_body(school)
    headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": "k1"}
    response = client.post("/api/v1/bookings", json=payload, headers=headers)
    assert response.status_code == 409, response.get_data(as_text=True)
    assert response.json["error"]["code"] == "slot_taken"  # type: ignore[index]
    assert [a.id for a in busy_in_bookly(gateway)] == [direct]
    assert counts(app, school.site)["bookings"] == 0


@pytest.mark.requirement(14)
def test_a_locked_database_when_noting_the_key_s_use_does_not_refuse_the_request(
    app: Flask, client: FlaskClient, school: School, key: str
) -> None:
    def before_commit(session: Any) -> None:
        raise sa.exc.OperationalError("COMMIT", None, _DriverError("40P01"))

    with app.app_context():
        sa.event.listen(db.session, "before_commit", before_commit, once=True)
    window = {"from": at(0).isoformat(), "to": at(23).isoformat()}
    auth = {"Authorization": f"Bearer {key}"}
    response = client.get("/api/v1/bookings", headers=auth, query_string=window)
    assert response.status_code == 200, response.get_data(as_text=True)

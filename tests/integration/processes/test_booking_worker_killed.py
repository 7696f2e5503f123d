"""A booking's calendar write survives its worker being killed (SIGKILL), without duplicates.

The booking is taken through the JSON API of the served app (PostgreSQL, MariaDB Bookly); its
calendar event is written by a real ``celery worker`` subprocess on Redis. The worker is killed
while it waits on the calendar write; after a restart the job runs again (once its claim has
lapsed) and there is exactly one Bookly appointment and one calendar event.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from tests.integration.processes.conftest import ADA, Stack, wait_until
from webapp.extensions import db
from webapp.models import Booking, CalendarConnection, DeliveryState, OutboxJob, User
from webapp.services import api_keys
from webapp.services.bookings.store import SYNC_JOB


def _api_key(stack: Stack) -> str:
    with stack.app.app_context():
        admin = db.session.scalars(sa.select(User).where(User.email == "admin@demo.test")).one()
        return api_keys.create_key(admin=admin, name="kill test").key


def _ada(stack: Stack) -> tuple[int, int, str]:
    with stack.app.app_context():
        user = db.session.scalars(sa.select(User).where(User.email == ADA)).one()
        calendar = db.session.scalar(
            sa.select(CalendarConnection.write_calendar_id).where(
                CalendarConnection.user_id == user.id
            )
        )
        assert user.bookly_staff_id is not None
        return user.id, int(user.bookly_staff_id), str(calendar)


def _first_free_slot(stack: Stack, key: str, instructor: int, service: int) -> str:
    start = (datetime.now(UTC) + timedelta(days=2)).replace(hour=0, minute=0, second=0)
    response = stack.client().get(
        "/api/v1/availability",
        query_string={
            "service": service, "instructor": instructor, "from": start.isoformat(),
            "to": (start + timedelta(days=7)).isoformat(), "tz": "UTC",
        },
        headers={"Authorization": f"Bearer {key}"},
    )  # fmt: skip
    assert response.status_code == 200, response.get_data(as_text=True)
    slots: list[dict[str, Any]] = response.get_json()["slots"]
    assert slots
    return str(slots[0]["start"])


def _events(stack: Stack, calendar: str, booking: str) -> list[dict[str, Any]]:
    return [
        e for e in stack.control.events(calendar)
        if e.get("event_id") == f"bridge-booking-{booking}" and not e.get("deleted")
    ]  # fmt: skip


@pytest.mark.requirement(17)
def test_a_worker_killed_during_the_calendar_write_leaves_one_appointment_and_one_event(
    stack: Stack,
) -> None:
    worker = stack.start_worker()
    stack.connect("read_write")
    instructor, staff, calendar = _ada(stack)
    key = _api_key(stack)
    service = stack.gateway.list_services(staff_id=staff)[0].id
    start = _first_free_slot(stack, key, instructor, service)

    # The calendar answers the event write only after 4 s: the worker is inside that call.
    stack.control.fail_next(0, 1, latency_ms=4000, path_prefix="/v1/calendars/")
    response = stack.client().post(
        "/api/v1/bookings",
        json={"service": service, "instructor": instructor, "start": start,
              "customer": {"name": "Kim Doe", "email": "kim@example.com"}},
        headers={"Authorization": f"Bearer {key}", "Idempotency-Key": str(uuid.uuid4())},
    )  # fmt: skip
    assert response.status_code == 201, response.get_data(as_text=True)
    booking = str(response.get_json()["id"])
    wait_until(lambda: "deliver_bookings" in worker.output(), 10, worker)
    time.sleep(1.5)  # the job has read Bookly and waits on the slow calendar write
    worker.kill()  # SIGKILL mid-job: no ack, no clean-up, the job still claimed

    with stack.app.app_context():
        row = db.session.scalars(sa.select(Booking).where(Booking.public_id == booking)).one()
        assert row.delivery_state is DeliveryState.PENDING
        appointment_id = row.bookly_appointment_id
        # Time passes: the dead worker's claim on the job lapses (DEFAULT_CLAIM, 2 minutes).
        db.session.execute(
            sa.update(OutboxJob)
            .where(OutboxJob.kind == SYNC_JOB, OutboxJob.status == "pending")
            .values(locked_until=datetime.now(UTC) - timedelta(seconds=1))
        )
        db.session.commit()
        db.session.remove()

    restarted = stack.start_worker()
    stack.start_beat()  # its deliver_bookings sweep takes the job up again
    wait_until(lambda: _delivered(stack, booking), 60, restarted)
    assert len(_events(stack, calendar, booking)) == 1
    found = stack.gateway.appointments_by_id([int(appointment_id or 0)])
    assert list(found) == [appointment_id]
    assert len(found[int(appointment_id or 0)].customers) == 1


def _delivered(stack: Stack, booking: str) -> bool:
    with stack.app.app_context():
        row = db.session.scalars(sa.select(Booking).where(Booking.public_id == booking)).one()
        state = row.delivery_state
        db.session.remove()
    return state is DeliveryState.DELIVERED

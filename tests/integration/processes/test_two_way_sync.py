"""Two-way sync on the production shape: PostgreSQL, Redis, MariaDB Bookly, and a real
``celery worker`` and ``celery beat`` (subprocesses). Each change must land within 5 s.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
import sqlalchemy as sa

from cronofy_client import HMAC_HEADER, sign_body
from tests.integration.processes.conftest import ADA, Stack, wait_until
from webapp.clients import get_clients
from webapp.extensions import db
from webapp.models import CalendarConnection, InboundNotification, User
from webapp.services import tokens

WITHIN = 5.0  # seconds, the acceptance bound for each change
SITE = ZoneInfo("Europe/Berlin")  # the demo Bookly site's time zone


def _day(days: int, hour: int) -> datetime:
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today + timedelta(days=days, hours=hour)


def _ada(stack: Stack) -> tuple[int, str]:
    """Ada's Bookly staff id and her write calendar."""
    with stack.app.app_context():
        user = db.session.scalars(sa.select(User).where(User.email == ADA)).one()
        calendar = db.session.scalar(
            sa.select(CalendarConnection.write_calendar_id).where(
                CalendarConnection.user_id == user.id
            )
        )
        assert user.bookly_staff_id is not None
        assert calendar
        return int(user.bookly_staff_id), str(calendar)


def _blocks(stack: Stack, staff: int) -> set[tuple[datetime, datetime]]:
    found = stack.gateway.list_busy_blocks(_day(-1, 0), _day(60, 0), staff_ids=[staff])
    return {(b.start, b.end) for b in found}


def _mirrored(stack: Stack, calendar: str) -> list[dict[str, Any]]:
    return [
        e for e in stack.control.events(calendar)
        if str(e.get("event_id") or "").startswith("bridge-bookly-") and not e.get("deleted")
    ]  # fmt: skip


def _synced(stack: Stack) -> bool:
    with stack.app.app_context():
        return bool(db.session.scalar(sa.select(CalendarConnection.last_synced_at)))


def _local(moment: datetime) -> str:
    return moment.astimezone(SITE).strftime("%Y-%m-%d %H:%M")


def test_calendar_changes_reach_bookly_and_bookly_changes_reach_the_calendar(
    stack: Stack,
) -> None:
    worker = stack.start_worker()
    beat = stack.start_beat()
    stack.connect("read_write")
    wait_until(lambda: _synced(stack), 30, worker)  # the first full sync, on the worker
    staff, calendar = _ada(stack)
    before = _blocks(stack, staff)

    # Calendar -> Bookly: added, moved, deleted, each within 5 s.
    start, end = _day(3, 9), _day(3, 10)
    uid = stack.control.add_event(calendar, "Dentist", start, end)
    wait_until(lambda: _blocks(stack, staff) == before | {(start, end)}, WITHIN, worker)
    later = (start + timedelta(hours=2), end + timedelta(hours=2))
    stack.control.move_event(uid, *later)
    wait_until(lambda: _blocks(stack, staff) == before | {later}, WITHIN, worker)
    stack.control.delete_event(uid)
    wait_until(lambda: _blocks(stack, staff) == before, WITHIN, worker)

    # Bookly -> calendar: written the way Bookly's own booking form writes it (log rows too).
    wait_until(lambda: "poll_bookly" in worker.output(), 30, worker, beat)  # the feed started
    service = stack.gateway.list_services(staff_id=staff)[0].id
    at = _day(4, 10)
    appointment = stack.bookly.bookly_appointment(
        staff, service, _local(at), _local(at + timedelta(hours=1))
    )
    event_id = f"bridge-bookly-{appointment}"

    def mirrored() -> list[dict[str, Any]]:
        return [e for e in _mirrored(stack, calendar) if e["event_id"] == event_id]

    (event,) = wait_until(mirrored, WITHIN, worker, beat)
    assert event["start"].startswith(at.strftime("%Y-%m-%dT%H:%M"))

    ca = stack.bookly.tables.customer_appointments
    stack.bookly.execute(
        sa.update(ca).where(ca.c.appointment_id == appointment).values(status="cancelled")
    )
    stack.bookly.log_row("update", ca, appointment, {"appointment_id": appointment})
    wait_until(lambda: mirrored() == [], WITHIN, worker, beat)


@pytest.mark.requirement(4)
def test_a_change_acknowledged_while_the_worker_was_down_still_reaches_bookly(
    stack: Stack,
) -> None:
    worker = stack.start_worker()
    stack.connect("read_write")
    wait_until(lambda: _synced(stack), 30, worker)
    staff, calendar = _ada(stack)
    before = _blocks(stack, staff)

    worker.kill()  # SIGKILL
    start, end = _day(5, 9), _day(5, 10)
    stack.control.add_event(calendar, "Gym", start, end)
    with stack.app.app_context():  # acknowledged and stored, not yet applied
        wait_until(
            lambda: db.session.scalar(
                sa.select(sa.func.count()).where(InboundNotification.processed_at.is_(None))
            ),
            WITHIN,
        )
        db.session.remove()
    assert _blocks(stack, staff) == before

    restarted = stack.start_worker()
    wait_until(lambda: _blocks(stack, staff) == before | {(start, end)}, 30, restarted)


def _signed_changes(stack: Stack, count: int) -> tuple[str, list[bytes], str]:
    """``count`` distinct change notifications for Ada's channel, its push URL and secret."""
    with stack.app.app_context():
        connection = db.session.scalars(sa.select(CalendarConnection)).one()
        cronofy = get_clients().cronofy
        token = tokens.access_token(cronofy, connection.id)
        channel = next(
            c for c in cronofy.list_channels(token) if c.channel_id == connection.channel_id
        )
        secret = str(stack.app.config["CRONOFY_CLIENT_SECRET"])
        db.session.remove()
    described = {"channel_id": channel.channel_id, "callback_url": channel.callback_url,
                 "filters": {}}  # fmt: skip
    since = datetime(2026, 1, 1, tzinfo=UTC)
    bodies = [
        json.dumps({
            "notification": {"type": "change",
                             "changes_since": (since + timedelta(seconds=n)).isoformat()},
            "channel": described,
        }).encode()
        for n in range(count)
    ]  # fmt: skip
    path = "/" + channel.callback_url.split("/", 3)[3]
    return f"{stack.base_url}{path}", bodies, secret


def test_a_burst_of_100_change_notifications_costs_at_most_2_free_busy_reads(
    stack: Stack,
) -> None:
    worker = stack.start_worker()
    stack.connect("read_write")
    wait_until(lambda: _synced(stack), 30, worker)
    staff, calendar = _ada(stack)
    start = _day(6, 9)
    stack.control.add_events(
        calendar, [{"summary": "Run", "start": start, "end": start + timedelta(hours=1)}],
        notify=False,
    )  # fmt: skip
    url, bodies, secret = _signed_changes(stack, 100)
    time.sleep(2.5)  # the connect's own read is out of the way
    stack.control.clear_requests()

    def push(body: bytes) -> int:
        headers = {HMAC_HEADER: sign_body(body, secret), "Content-Type": "application/json"}
        return requests.post(url, data=body, headers=headers, timeout=10).status_code

    began = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(push, bodies))
    elapsed = time.monotonic() - began
    assert statuses == [202] * 100
    assert elapsed < 2.0, f"the burst took {elapsed:.2f} s"
    wait_until(lambda: (start, start + timedelta(hours=1)) in _blocks(stack, staff), 10, worker)
    with stack.app.app_context():
        pending = sa.select(sa.func.count()).where(InboundNotification.processed_at.is_(None))
        wait_until(lambda: db.session.scalar(pending.select_from(InboundNotification)) == 0,
                   10, worker)  # fmt: skip
        db.session.remove()
    time.sleep(2.5)  # any delayed run of the burst has had its turn
    reads = [r for r in stack.control.requests() if r["path"].endswith("/v1/free_busy")]
    assert 1 <= len(reads) <= 2

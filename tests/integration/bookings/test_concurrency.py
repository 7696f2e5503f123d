"""Many bookers at once, in threads with their own app contexts and connections: exactly one
wins an overlapping time, on SQLite+SQLite and on PostgreSQL+MariaDB."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask

from bookly_client import BooklyGateway
from cronofy_client import CronofyClient
from webapp.extensions import db
from webapp.services import bookings

from .conftest import NOW, School, at, counts
from .test_service import request_for


def _race(app: Flask, jobs: list[Callable[[], Any]]) -> list[Any]:
    """Run the jobs at the same moment, each in its own thread and app context."""
    barrier = threading.Barrier(len(jobs))

    def run(job: Callable[[], Any]) -> Any:
        with app.app_context():
            barrier.wait()
            try:
                return job()
            except bookings.BookingError as exc:
                return exc
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        return list(pool.map(run, jobs))


@pytest.mark.requirement(12)
def test_sixteen_overlapping_bookings_one_wins(
    app: Flask, school: School, gateway: BooklyGateway, cronofy: CronofyClient
) -> None:
    def attempt(i: int) -> Callable[[], Any]:
        start = at(9) + timedelta(minutes=15 * (i % 4))  # 09:00..09:45: all overlap
        return lambda: bookings.book(
            gateway, cronofy, request_for(school, start), idempotency_key=f"race-{i}", now=NOW
        )

    outcomes = _race(app, [attempt(i) for i in range(16)])
    kinds = Counter(type(o).__name__ for o in outcomes)
    assert kinds == {"BookResult": 1, "SlotTaken": 15}
    assert counts(app, school.site)["bookings"] == 1
    busy = [a for a in gateway.list_appointments(at(0), at(23)) if a.is_busy]
    assert len(busy) == 1


@pytest.mark.requirement(13)
def test_the_same_key_five_times_at_once_makes_one_booking(
    app: Flask, school: School, gateway: BooklyGateway, cronofy: CronofyClient
) -> None:
    def attempt() -> Any:
        result = bookings.book(
            gateway, cronofy, request_for(school, at(9)), idempotency_key="same", now=NOW
        )
        return result.booking.id

    outcomes = _race(app, [attempt] * 5)
    assert len(set(outcomes)) == 1, outcomes
    assert isinstance(outcomes[0], int)
    assert counts(app, school.site)["bookings"] == 1
    assert len([a for a in gateway.list_appointments(at(0), at(23)) if a.is_busy]) == 1

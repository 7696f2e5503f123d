"""Two of our writers never double-book: the staff row lock serialises them."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from bookly_client import BooklyGateway, SlotConflict
from tests.bookly_fixtures import BooklyDb

from .conftest import KIM, utc

THREADS = 16
TUE_10 = utc("2026-11-24 09:00")


def race(gateway: BooklyGateway, staff: int, service: int, starts: list) -> list[object]:
    barrier = threading.Barrier(len(starts))
    results: list[object] = [None] * len(starts)

    def attempt(i: int) -> None:
        barrier.wait()
        try:
            results[i] = gateway.create_booking(
                reference=f"race-{i}", staff_id=staff, service_id=service, start=starts[i],
                customer=KIM,
            )  # fmt: skip
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            results[i] = exc

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(len(starts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def setup_school(db: BooklyDb) -> tuple[int, int]:
    staff = db.add_staff()
    return staff, db.add_service(staff=(staff,))


@pytest.mark.slow
@pytest.mark.requirement(15)
def test_sixteen_overlapping_bookings_exactly_one_wins(bookly_db: BooklyDb) -> None:
    staff, service = setup_school(bookly_db)
    starts = [TUE_10 + timedelta(minutes=15 * (i % 4)) for i in range(THREADS)]  # on the grid
    results = race(bookly_db.gateway(), staff, service, starts)
    wins = [r for r in results if not isinstance(r, Exception)]
    conflicts = [r for r in results if isinstance(r, SlotConflict)]
    assert len(wins) == 1, results
    assert len(conflicts) == THREADS - 1, results
    assert bookly_db.count(bookly_db.tables.appointments) == 1
    assert bookly_db.count(bookly_db.tables.customer_appointments) == 1
    assert bookly_db.count(bookly_db.tables.customers) == 1


def test_adjacent_slots_both_succeed_concurrently(bookly_db: BooklyDb) -> None:
    staff, service = setup_school(bookly_db)
    results = race(bookly_db.gateway(), staff, service, [TUE_10, TUE_10 + timedelta(hours=1)])
    assert not any(isinstance(r, Exception) for r in results), results
    assert bookly_db.count(bookly_db.tables.appointments) == 2

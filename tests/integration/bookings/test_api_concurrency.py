"""The acceptance race through a served app (real HTTP, one thread per client): on SQLite
with SQLite as Bookly, and on PostgreSQL with MariaDB as Bookly."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
import requests
from flask import Flask

from cronofy_sandbox.testing import serve

from .conftest import School, api_body, at, counts

TIMEOUT = 60


@pytest.fixture
def served(app: Flask) -> Iterator[str]:
    """Our app on 127.0.0.1:<free port>, threaded like a real server."""
    with serve(app) as base_url:
        yield base_url


def _race(base_url: str, key: str, requests_to_send: list[tuple[str, dict[str, Any]]]) -> list[Any]:
    barrier = threading.Barrier(len(requests_to_send))

    def send(item: tuple[str, dict[str, Any]]) -> requests.Response:
        idem, payload = item
        with requests.Session() as session:
            barrier.wait()
            return session.post(
                f"{base_url}/api/v1/bookings", json=payload, timeout=TIMEOUT,
                headers={"Authorization": f"Bearer {key}", "Idempotency-Key": idem},
            )  # fmt: skip

    with ThreadPoolExecutor(max_workers=len(requests_to_send)) as pool:
        return list(pool.map(send, requests_to_send))


@pytest.mark.requirement(12)
def test_sixteen_overlapping_posts_give_one_201_and_fifteen_409_with_next_slots(
    app: Flask,
    served: str,
    school: School,
    key: str,
) -> None:
    posts = [
        (f"race-{i}", api_body(school, start=(at(9) + timedelta(minutes=15 * (i % 4))).isoformat()))
        for i in range(16)
    ]
    answers = _race(served, key, posts)
    assert Counter(a.status_code for a in answers) == {201: 1, 409: 15}, [
        a.text for a in answers if a.status_code not in (201, 409)
    ]
    for answer in answers:
        if answer.status_code == 409:
            error = answer.json()["error"]
            assert error["code"] == "slot_taken"
            assert error["next_slots"], error
    assert counts(app, school.site)["bookings"] == 1


@pytest.mark.requirement(12)
def test_adjacent_slots_both_succeed_and_cancelling_frees_the_slot(
    app: Flask,
    served: str,
    school: School,
    key: str,
) -> None:
    answers = _race(served, key, [
        ("a", api_body(school, start=at(9).isoformat())),
        ("b", api_body(school, start=at(10).isoformat())),
    ])  # fmt: skip
    assert [a.status_code for a in answers] == [201, 201]
    auth = {"Authorization": f"Bearer {key}"}
    first = answers[0].json()["id"]
    cancelled = requests.post(f"{served}/api/v1/bookings/{first}/cancel", headers=auth,
                              timeout=TIMEOUT)  # fmt: skip
    assert cancelled.json()["status"] == "cancelled"
    (again,) = _race(served, key, [("c", api_body(school, start=at(9).isoformat()))])
    assert again.status_code == 201


@pytest.mark.requirement(13)
def test_the_same_key_five_times_at_once_makes_one_booking(
    app: Flask,
    served: str,
    school: School,
    key: str,
) -> None:
    answers = _race(served, key, [("same", api_body(school))] * 5)
    assert [a.status_code for a in answers] == [201] * 5, [a.text for a in answers]
    assert len({a.json()["id"] for a in answers}) == 1
    assert counts(app, school.site)["bookings"] == 1

"""A booking's live calendar check inside the request is bounded (issue 12): with Cronofy
answering after 20 s the API gives up within its deadline (about 5 s, one attempt) with a
503 and writes nothing, instead of holding the worker for a minute of retries."""

from __future__ import annotations

import time

from flask import Flask
from flask.testing import FlaskClient

from tests.sandbox_fixtures import RunningSandbox
from tests.webapp_fixtures import People

from .conftest import School, api_body, connect_instructor, counts

DEADLINE_WITH_MARGIN = 9.0  # seconds: the 5 s in-request deadline plus a loaded machine


def test_a_slow_calendar_check_is_a_quick_503_that_writes_nothing(
    app: Flask, client: FlaskClient, people: People, school: School, key: str,
    sandbox: RunningSandbox,
) -> None:  # fmt: skip
    connect_instructor(app, people, "read_write")
    before = counts(app, school.site)
    sandbox.control.fail_next(0, 10, latency_ms=20_000, path_prefix="/v1/free_busy")
    payload = api_body(school)
    headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": "slow-1"}
    started = time.monotonic()
    answer = client.post("/api/v1/bookings", json=payload, headers=headers)
    took = time.monotonic() - started
    assert answer.status_code == 503, answer.get_data(as_text=True)
    assert answer.json["error"]["code"] == "unavailable"  # type: ignore[index]
    assert took < DEADLINE_WITH_MARGIN
    assert counts(app, school.site) == before

"""The cached view is dropped by a real, signed change notification from the sandbox."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from werkzeug.serving import make_server

from tests.integration.availability.conftest import (
    BASELINE,
    School,
    availability_calls,
    berlin,
    connect_as,
    find,
    hhmm,
    quarter_hours,
)
from tests.integration.connect.conftest import Wiring
from tests.webapp_fixtures import People, free_port
from webapp.extensions import db
from webapp.models import InboundNotification


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def app_overrides(port: int) -> dict[str, Any]:
    """Push channel callback URLs point at our served app."""
    return {"PUBLIC_BASE_URL": f"http://127.0.0.1:{port}", "CONNECT_START_LIMIT": "100/minute"}


@pytest.fixture
def served(app: Flask, port: int) -> Iterator[str]:
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    thread.join(5)
    server.server_close()


def _changes(app: Flask) -> int:
    with app.app_context():
        return int(
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(InboundNotification)
                .where(InboundNotification.notification_type == "change")
            )
            or 0
        )


def _wait_for(check: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_a_change_notification_drops_the_cached_view(
    app: Flask, served: str, people: People, school: School, wiring: Wiring
) -> None:
    connect_as(app, people.instructor_email, people.password, "read_write", "ada@demo.test")
    assert hhmm(find(app, [school.ada_id], school.lesson)) == BASELINE
    wiring.sandbox.control.clear_requests()
    assert find(app, [school.ada_id], school.lesson).from_cache
    before = _changes(app)
    calendar = wiring.sandbox.control.calendar_id("ada@demo.test")
    wiring.sandbox.control.add_event(
        calendar, "New", berlin("2026-11-24 09:00"), berlin("2026-11-24 12:00")
    )
    _wait_for(lambda: _changes(app) > before)
    view = find(app, [school.ada_id], school.lesson)
    assert not view.from_cache
    assert hhmm(view) == quarter_hours("12:00", "16:00")
    assert len(availability_calls(wiring)) == 1

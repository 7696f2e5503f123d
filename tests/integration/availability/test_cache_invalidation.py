"""The cached view is dropped by a real, signed change notification from the sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from tests.integration.availability.conftest import (
    BASELINE,
    School,
    berlin,
    connect_as,
    find,
    hhmm,
    quarter_hours,
)
from tests.integration.connect.conftest import Wiring
from tests.webapp_fixtures import People, free_port, serving, wait_for
from webapp.extensions import db
from webapp.models import InboundNotification
from webapp.services.availability.results import AvailabilityView


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def app_overrides(port: int) -> dict[str, Any]:
    """Push channel callback URLs point at our served app."""
    return {"PUBLIC_BASE_URL": f"http://127.0.0.1:{port}", "CONNECT_START_LIMIT": "100/minute"}


@pytest.fixture
def served(app: Flask, port: int) -> Iterator[str]:
    """Our app answering HTTP on `port` (the sandbox delivers pushes to it)."""
    with serving(app, port) as url:
        yield url


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


def test_a_change_notification_drops_the_cached_view(
    app: Flask, served: str, people: People, school: School, wiring: Wiring
) -> None:
    connect_as(app, people.instructor_email, people.password, "read_write", "ada@demo.test")
    # The channel's verification push also drops the cache: wait until a view stays cached.
    wait_for(lambda: find(app, [school.ada_id], school.lesson).from_cache)
    assert hhmm(find(app, [school.ada_id], school.lesson)) == BASELINE
    before = _changes(app)
    calendar = wiring.sandbox.control.calendar_id("ada@demo.test")
    wiring.sandbox.control.add_event(
        calendar, "New", berlin("2026-11-24 09:00"), berlin("2026-11-24 12:00")
    )
    wait_for(lambda: _changes(app) > before)
    # The receiver commits the notification, then drops the cache: the next views recompute.
    fresh = wait_for(lambda: _fresh(app, school))
    assert hhmm(fresh) == quarter_hours("12:00", "16:00")


def _fresh(app: Flask, school: School) -> AvailabilityView | None:
    view = find(app, [school.ada_id], school.lesson)
    return None if view.from_cache else view

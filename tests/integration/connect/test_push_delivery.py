"""The sandbox delivers real signed pushes to our app served on a loopback port."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from tests.integration.connect.conftest import Wiring, connect, the_connection
from tests.webapp_fixtures import People, free_port, serving, wait_for
from webapp.extensions import db
from webapp.models import ConnectionStatus, InboundNotification


@pytest.fixture
def port() -> int:
    """The port our app will be served on (chosen before the app is built)."""
    return free_port()


@pytest.fixture
def app_overrides(port: int) -> dict[str, Any]:
    """Channel callback URLs point at our served app."""
    return {"PUBLIC_BASE_URL": f"http://127.0.0.1:{port}", "CONNECT_START_LIMIT": "100/minute"}


@pytest.fixture
def served(app: Flask, port: int) -> Iterator[str]:
    """Our app answering HTTP on `port`."""
    with serving(app, port) as url:
        yield url


def _types(app: Flask) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(sa.select(InboundNotification.notification_type)))


def test_profile_disconnected_arrives_signed_from_the_sandbox(
    app: Flask,
    served: str,
    instructor: FlaskClient,
    people: People,
    wiring: Wiring,
) -> None:
    assert connect(instructor, "read_write").status_code == 302
    # The verification push races the commit of the new connection: it is acknowledged (2xx)
    # either way, and the profile_disconnected push below must find the committed channel.
    conn = the_connection(app, people.instructor_id)
    assert conn is not None
    assert conn.profile_id
    assert wiring.sandbox.control.disconnect_profile(conn.profile_id) >= 1
    wait_for(lambda: "profile_disconnected" in _types(app))
    stored = the_connection(app, people.instructor_id)
    assert stored is not None
    assert stored.status is ConnectionStatus.NEEDS_RECONNECT
    # The e-mail is sent just after the status commit the wait above can already see.
    wait_for(lambda: wiring.mailer.outbox)
    assert [m.to for m in wiring.mailer.outbox] == [people.instructor_email]
    page = instructor.get("/calendars").get_data(as_text=True)
    assert "Relink your calendar" in page

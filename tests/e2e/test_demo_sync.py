"""The embedded default (`make run`: eager tasks, mounted sandbox, demo Bookly) syncs too.

No browser: Ada connects through the real OAuth round trip; events are added and deleted
through the sandbox's control API of the served app, and Bookly is read back.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import requests
import sqlalchemy as sa

from tests.e2e.conftest import RunningApp
from tests.integration.connect.conftest import connect
from tests.webapp_fixtures import log_in, wait_for
from webapp.clients import get_clients
from webapp.extensions import db
from webapp.models import CalendarConnection, User

ADA = "ada@demo.test"
PASSWORD = "demo-instructor"  # noqa: S105 - the published demo login


def _blocks(demo_app: RunningApp, staff_id: int) -> set[tuple[datetime, datetime]]:
    now = datetime.now(UTC)
    with demo_app.app.app_context():
        bookly = get_clients().bookly
        assert bookly is not None
        found = bookly.list_busy_blocks(now, now + timedelta(days=30), staff_ids=[staff_id])
    return {(b.start, b.end) for b in found}


def test_an_event_added_in_the_sandbox_becomes_a_bookly_block_and_leaves_with_it(
    demo_app: RunningApp,
) -> None:
    client = demo_app.app.test_client()
    assert log_in(client, ADA, PASSWORD).status_code == 302
    assert connect(client, "read_write", person=ADA).status_code in (302, 303)
    with demo_app.app.app_context():
        calendar, staff_id = db.session.execute(
            sa.select(CalendarConnection.write_calendar_id, User.bookly_staff_id).join(
                User, User.id == CalendarConnection.user_id
            )
        ).one()
    assert calendar
    assert staff_id
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=2)
    end = start + timedelta(hours=1)
    control = f"{demo_app.base_url}/sandbox/cronofy/control"
    added = requests.post(
        f"{control}/events",
        json={
            "calendar_id": calendar,
            "events": [
                {
                    "summary": "Dentist",
                    "start": start.isoformat().replace("+00:00", "Z"),
                    "end": end.isoformat().replace("+00:00", "Z"),
                }
            ],  # fmt: skip
        },
        timeout=10,
    )
    assert added.status_code in (200, 201), added.text
    [uid] = added.json()["event_uids"]
    wait_for(lambda: (start, end) in _blocks(demo_app, staff_id), timeout=10)
    deleted = requests.delete(f"{control}/events/{uid}", timeout=10)
    assert deleted.status_code in (200, 204), deleted.text
    wait_for(lambda: (start, end) not in _blocks(demo_app, staff_id), timeout=10)

"""Refreshes under contention with a slow token endpoint: one refresh, no pool exhaustion.

The single-flight refresh is a lease column on SQLite and PostgreSQL alike: nobody holds a row
lock or a pooled connection while Cronofy answers, so twenty waiters never drain the pool
(SQLAlchemy's default: 5 + 10 overflow = 15 connections) and none of them errors.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from cronofy_client import IN_REQUEST
from tests.integration.connect.conftest import Wiring, connect, the_connection, token_calls
from tests.webapp_fixtures import People, log_in
from webapp.database import utcnow
from webapp.extensions import db
from webapp.models import CalendarConnection
from webapp.services import connections
from webapp.services.connection_errors import CalendarUnavailable

pytestmark = pytest.mark.slow

CALLERS = 20
PAGE_LOADS = 12


def _connected_then_expired(
    app: Flask, instructor: FlaskClient, people: People, wiring: Wiring
) -> CalendarConnection:
    assert connect(instructor, "read_write").status_code == 302
    conn = the_connection(app, people.instructor_id)
    assert conn is not None
    wiring.sandbox.control.expire_access_tokens(conn.cronofy_sub)
    with app.app_context():
        db.session.execute(
            sa.update(CalendarConnection).values(access_token_expires_at=utcnow() - timedelta(1))
        )
        db.session.commit()
    wiring.sandbox.control.clear_requests()
    return conn


class PoolWatch:
    """Samples how many connections are checked out of the app's pool while Cronofy is slow."""

    def __init__(self, app: Flask, *, start: float, stop: float) -> None:
        with app.app_context():
            self.pool = db.engine.pool
        self.samples: list[int] = []
        self._thread = threading.Thread(target=self._watch, args=(start, stop))
        self._thread.start()

    def _watch(self, start: float, stop: float) -> None:
        began = time.monotonic()
        time.sleep(start)
        while time.monotonic() - began < stop:
            self.samples.append(self.pool.checkedout())  # type: ignore[attr-defined]
            time.sleep(0.01)

    def most(self) -> int:
        self._thread.join()
        return max(self.samples)


@pytest.mark.requirement(9)
def test_twenty_refreshes_with_a_five_second_token_endpoint_make_one_call_and_keep_the_pool(
    app: Flask, instructor: FlaskClient, people: People, wiring: Wiring
) -> None:
    conn = _connected_then_expired(app, instructor, people, wiring)
    wiring.sandbox.control.fail_next(0, count=CALLERS, latency_ms=5000, path_prefix="/oauth/token")
    barrier = threading.Barrier(CALLERS)
    results: list[str] = []
    errors: list[BaseException] = []

    def call() -> None:
        with app.app_context():
            try:
                barrier.wait()
                info = connections.call_with_token(wiring.cronofy, conn.id, wiring.cronofy.userinfo)
                results.append(info.sub)
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(CALLERS)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    watch = PoolWatch(app, start=1.0, stop=4.5)  # while the one refresh waits on Cronofy
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert results == [conn.cronofy_sub] * CALLERS
    assert token_calls(wiring.sandbox) == 1
    assert time.monotonic() - started < 15  # the waiters saw the new token soon after 5 s
    # Nineteen waiters, yet only brief jittered reads hold a connection: the pool (5 + 10
    # overflow) is never drained, where a row lock held over the call would take all 15.
    assert watch.most() < 10


def test_concurrent_page_loads_during_a_slow_refresh_all_answer_without_a_500(
    app: Flask, instructor: FlaskClient, people: People, wiring: Wiring
) -> None:
    """Inside web requests (5 s call deadline): one refresh, every page renders.

    Each request keeps its own session connection for its whole duration, so twelve requests
    in one process (the pool holds fifteen) stand for a busy threaded web process.
    """
    _connected_then_expired(app, instructor, people, wiring)
    wiring.sandbox.control.fail_next(0, count=CALLERS, latency_ms=3000, path_prefix="/oauth/token")
    browsers = []
    for _ in range(PAGE_LOADS):
        browser = app.test_client()
        assert log_in(browser, people.instructor_email, people.password).status_code == 302
        browsers.append(browser)
    barrier = threading.Barrier(PAGE_LOADS)
    statuses: list[int] = []

    def load(browser: FlaskClient) -> None:
        barrier.wait()
        statuses.append(browser.get("/calendars").status_code)

    threads = [threading.Thread(target=load, args=(b,)) for b in browsers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert statuses == [200] * PAGE_LOADS
    assert token_calls(wiring.sandbox) == 1


def test_a_row_locked_elsewhere_makes_a_refresh_give_up_politely_within_its_deadline(
    app: Flask, instructor: FlaskClient, people: People, wiring: Wiring
) -> None:
    """Another transaction writing the row: no hang, no 500, the refresh waits its deadline.

    On PostgreSQL that is a row lock (``lock_timeout`` bounds each wait); on SQLite the
    writer holds the whole file's write lock, and the busy timeout bounds the wait.
    """
    conn = _connected_then_expired(app, instructor, people, wiring)
    in_request = wiring.cronofy.with_options(IN_REQUEST)
    with app.app_context():
        locker = db.engine.connect()
    try:
        with locker.begin():
            locker.execute(
                sa.update(CalendarConnection)
                .where(CalendarConnection.id == conn.id)
                .values(refresh_lease_until=CalendarConnection.refresh_lease_until)
            )
            started = time.monotonic()
            with app.app_context(), pytest.raises(CalendarUnavailable, match="try again"):
                connections.access_token(in_request, conn.id)
            waited = time.monotonic() - started
    finally:
        locker.close()
    assert 4.0 < waited < 12.0  # the request's 5 s deadline, plus at most one lock wait
    assert token_calls(wiring.sandbox) == 0
    with app.app_context():  # and once the row is free, the refresh works
        assert connections.access_token(in_request, conn.id)
    assert token_calls(wiring.sandbox) == 1

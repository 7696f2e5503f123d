"""sync benchmark: how long a calendar change takes to become a Bookly busy block.

Run with ``python -m bench.run sync``; writes bench/results/sync.md.

The production shape of the real-process tests (tests/process_stack.py): our app served on
loopback with the Cronofy sandbox mounted, PostgreSQL, Redis (database 12, emptied), Bookly
on MariaDB, and a ``celery worker`` subprocess (prefork, 2 children). Ada connects through the
real OAuth round trip. Then CHANGES events are added to her calendar through the sandbox's
control API, one every SPACING seconds; each is timed from the control call until its block
is in Bookly (Bookly polled every 10 ms). The sandbox pushes each change to our receiver,
which stores it and queues the sync; the worker reads free/busy and writes Bookly.

The spacing is wider than the worker's burst gap (2 s), so every change is read on its own:
the figure is the latency of a lone change. A second series adds an event, then another
GAP_IN_BURST s later: the second one waits for the burst gap, by design.

Target (issue 15): p95 <= 1 s with the worker on Redis.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import redis
import sqlalchemy as sa

from bench.measure import machine_line, write_results
from tests.process_stack import ADA, Stack, running_stack, wait_until
from webapp.extensions import db
from webapp.models import CalendarConnection, User

CHANGES = 50
SPACING = 2.6
GAP_IN_BURST = 0.5
POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
MARIADB_ADMIN_URL = os.environ.get("TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/")
BROKER_URL = "redis://127.0.0.1:6379/12"


def _database(admin_url: str, create: str, drop: str) -> tuple[str, sa.Engine, str]:
    name = f"bench_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(create.format(name=name)))
    base = admin_url[:-1] if admin_url.endswith("/") else admin_url.rsplit("/", 1)[0]
    return f"{base}/{name}", admin, drop.format(name=name)


def _day(days: int, hour: int) -> datetime:
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today + timedelta(days=days, hours=hour)


def _synced(stack: Stack) -> bool:
    with stack.app.app_context():
        return bool(db.session.scalar(sa.select(CalendarConnection.last_synced_at)))


def _ada(stack: Stack) -> tuple[int, str]:
    """Ada's Bookly staff id and her write calendar."""
    with stack.app.app_context():
        user = db.session.scalars(sa.select(User).where(User.email == ADA)).one()
        calendar = db.session.scalar(
            sa.select(CalendarConnection.write_calendar_id).where(
                CalendarConnection.user_id == user.id
            )
        )
        return int(user.bookly_staff_id or 0), str(calendar)


def _blocks(stack: Stack, staff: int) -> set[tuple[datetime, datetime]]:
    found = stack.gateway.list_busy_blocks(_day(-1, 0), _day(60, 0), staff_ids=[staff])
    return {(b.start, b.end) for b in found}


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    pg_url, pg_admin, pg_drop = _database(
        POSTGRES_ADMIN_URL,
        'CREATE DATABASE "{name}"',
        'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
    )
    maria_url, maria_admin, maria_drop = _database(
        MARIADB_ADMIN_URL,
        "CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_520_ci",
        "DROP DATABASE IF EXISTS `{name}`",
    )
    maria_url += "?charset=utf8mb4"
    broker = redis.Redis.from_url(BROKER_URL, socket_timeout=5, socket_connect_timeout=5)
    broker.flushdb()
    lone: list[float] = []
    second: list[float] = []
    reads = 0
    try:
        with (
            tempfile.TemporaryDirectory() as tmp,
            running_stack(Path(tmp), pg_url, maria_url, BROKER_URL) as stack,
        ):
            worker = stack.start_worker()
            stack.connect("read_write")
            wait_until(lambda: _synced(stack), 30, worker)
            staff, calendar = _ada(stack)
            stack.control.clear_requests()

            def timed(start: datetime) -> float:
                began = time.perf_counter()
                stack.control.add_event(calendar, "Busy", start, start + timedelta(minutes=30))
                wait_until(lambda: (start, start + timedelta(minutes=30)) in _blocks(stack, staff),
                           30, worker)  # fmt: skip
                return time.perf_counter() - began

            for n in range(CHANGES):
                time.sleep(SPACING)
                lone.append(timed(_day(10 + n // 8, 8 + n % 8)))
            for n in range(10):
                time.sleep(SPACING)
                timed(_day(20 + n, 8))
                time.sleep(GAP_IN_BURST)
                second.append(timed(_day(20 + n, 10)))
            reads = sum(1 for r in stack.control.requests() if r["path"].endswith("/v1/free_busy"))
    finally:
        broker.flushdb()
        with pg_admin.connect() as conn:
            conn.execute(sa.text(pg_drop))
        with maria_admin.connect() as conn:
            conn.execute(sa.text(maria_drop))
        pg_admin.dispose()
        maria_admin.dispose()

    ms = 1000
    lines = [
        "# sync benchmark",
        "",
        machine_line(),
        "",
        "Calendar change -> Bookly busy block, through the sandbox's push, our receiver, Redis and",
        "a `celery worker` subprocess (prefork, 2 children), PostgreSQL for us and MariaDB for",
        f"Bookly. {CHANGES} lone changes, one every {SPACING} s; then 10 pairs {GAP_IN_BURST} s",
        "apart, of which the second is timed (it waits for the 2 s burst gap by design).",
        "",
        "| series | changes | median | p95 | max |",
        "|---|---|---|---|---|",
        f"| lone change | {len(lone)} | {statistics.median(lone) * ms:.0f} ms | "
        f"{_percentile(lone, 0.95) * ms:.0f} ms | {max(lone) * ms:.0f} ms |",
        f"| second of a pair {GAP_IN_BURST} s apart | {len(second)} | "
        f"{statistics.median(second) * ms:.0f} ms | {_percentile(second, 0.95) * ms:.0f} ms | "
        f"{max(second) * ms:.0f} ms |",
        "",
        f"Free/busy reads for the {CHANGES + 20} changes: {reads}.",
        "",
        "How to read: the target is p95 <= 1 s for a lone change. A change that follows another",
        "within 2 s is read once the gap has passed (a burst of notifications costs two reads,",
        "not one per notification), so its latency is up to 2 s by design.",
    ]
    write_results("sync", lines)


if __name__ == "__main__":
    main()

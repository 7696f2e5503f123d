"""bookings benchmarks: the booking API end to end on PostgreSQL + MariaDB + the sandbox.

Run with ``python -m bench.run bookings``; writes bench/results/bookings.md.

A served app (threaded werkzeug, real HTTP) with our tables on a throwaway PostgreSQL
database, Bookly (demo school) on a throwaway MariaDB database in strict mode, and a served
Cronofy sandbox. Ada is connected (read_write), so every booking does the live free/busy
re-check, the locked Bookly write, our commit, and (eager, as in the embedded default) the
calendar upsert and the customer's Smart Invite inside the request.

* latency: sequential ``POST /api/v1/bookings`` into free slots, p50/p95;
* race: 16 threads POST overlapping starts at once (1 x 201 + 15 x 409 with next slots);
  wall time from the release to the last answer.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import requests
import sqlalchemy as sa

from bench.bookly_site import MariaDbUnavailable, mariadb_database, open_site
from bench.measure import Timing, machine_line, write_results
from bench.served_sandbox import served_sandbox
from cronofy_sandbox.testing import serve
from webapp import create_app
from webapp.clients import Clients
from webapp.extensions import db
from webapp.mail import CapturingMailer
from webapp.models import ConnectMethod, Role
from webapp.services import accounts, api_keys, connections

POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
BERLIN = ZoneInfo("Europe/Berlin")
BOOKINGS = 40
THREADS = 16
TIMEOUT = 60


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database, dropped afterwards."""
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"bench_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def next_monday(weeks_ahead: int) -> datetime:
    """Midnight UTC of a Monday ``weeks_ahead`` weeks from now."""
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today + timedelta(days=(7 - today.weekday()) % 7 + 7 * weeks_ahead)


def slot_starts(count: int) -> list[datetime]:
    """Free Theory-lesson starts for Ada (Berlin 08-16 Mon-Fri, lunch 12:00-12:30)."""
    berlin_hours = (8, 9, 10, 13, 14, 15)
    starts: list[datetime] = []
    monday = next_monday(8)  # clear of the demo holidays (Christmas, New Year)
    day = 0
    while len(starts) < count:
        date = monday + timedelta(days=day)
        if date.weekday() < 5:
            # Berlin is UTC+1 in winter, UTC+2 in summer: ask the zone.
            from zoneinfo import ZoneInfo

            for hour in berlin_hours:
                local = datetime(
                    date.year, date.month, date.day, hour, tzinfo=ZoneInfo("Europe/Berlin")
                )
                starts.append(local.astimezone(UTC))
        day += 1
    return starts[:count]


@contextmanager
def served_stack() -> Iterator[tuple[str, str, int, int]]:
    """(app URL, API key, Ada's id, the Theory lesson id) on PostgreSQL + MariaDB + sandbox."""
    with mariadb_database() as bookly_url, postgres_database() as our_url, served_sandbox() as box:
        gateway = open_site(bookly_url)
        lesson = next(s.id for s in gateway.list_services() if s.title == "Theory lesson")
        ada_staff = next(s.id for s in gateway.list_staff() if s.email == "ada@demo.test")
        with tempfile.TemporaryDirectory() as instance:
            app = create_app(
                {"TESTING": True, "DATABASE_URL": our_url, "INSTANCE_PATH": instance,
                 "SANDBOX_MOUNT": False, "BOOKLY_DATABASE_URL": None,
                 "PUBLIC_BASE_URL": "http://127.0.0.1:9"},
                clients=Clients(cronofy=box.client, bookly=gateway, mailer=CapturingMailer("b@t")),
            )  # fmt: skip
            with app.app_context():
                db.create_all()
                org = accounts.get_or_create_organisation("Bench school")
                admin = accounts.create_user(
                    email="admin@bench.test",
                    password="x" * 16,
                    role=Role.ADMIN,
                    organisation=org,
                    name="Admin",
                )
                ada = accounts.create_user(
                    email="ada@bench.test",
                    password="x" * 16,
                    role=Role.INSTRUCTOR,
                    organisation=org,
                    name="Ada",
                )
                ada.bookly_staff_id = ada_staff
                db.session.commit()
                connections.store_grant(
                    box.client, user=ada, grant=box.connect("ada@demo.test"),
                    method=ConnectMethod.INDIVIDUAL, data_center="us",
                    webhook_base_url="http://127.0.0.1:9",
                )  # fmt: skip
                key = api_keys.create_key(admin=admin, name="bench").key
                ada_id = ada.id
            with serve(app) as base_url:
                yield base_url, key, ada_id, lesson
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
        gateway.engine.dispose()


def _post(session: requests.Session, base: str, key: str, idem: str, body: dict[str, Any]) -> Any:
    return session.post(
        f"{base}/api/v1/bookings", json=body, timeout=TIMEOUT,
        headers={"Authorization": f"Bearer {key}", "Idempotency-Key": idem},
    )  # fmt: skip


def _body(instructor: int, service: int, start: datetime, n: int) -> dict[str, Any]:
    return {"service": service, "instructor": instructor, "start": start.isoformat(),
            "customer": {"name": f"Customer {n}", "email": f"c{n}@bench.test"}}  # fmt: skip


def bench_latency(base: str, key: str, ada: int, lesson: int) -> Timing:
    """Sequential bookings into free slots."""
    samples = []
    with requests.Session() as session:
        for n, start in enumerate(slot_starts(BOOKINGS)):
            began = time.perf_counter()
            answer = _post(session, base, key, f"lat-{n}", _body(ada, lesson, start, n))
            samples.append(time.perf_counter() - began)
            if answer.status_code != 201:
                raise RuntimeError(f"booking {n} answered {answer.status_code}: {answer.text}")
    return Timing.of(samples)


def bench_race(base: str, key: str, ada: int, lesson: int) -> tuple[float, Counter[int]]:
    """16 overlapping POSTs at once; wall time to the last answer and the status counts."""
    day = next_monday(10)
    first = datetime(day.year, day.month, day.day, 9, tzinfo=BERLIN)
    barrier = threading.Barrier(THREADS + 1)
    statuses: list[int] = [0] * THREADS

    def attempt(i: int) -> None:
        start = (first + timedelta(minutes=15 * (i % 2))).astimezone(UTC)
        with requests.Session() as session:
            barrier.wait()
            statuses[i] = _post(
                session, base, key, f"race-{i}", _body(ada, lesson, start, i)
            ).status_code

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    barrier.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join(timeout=120)
    return time.perf_counter() - began, Counter(statuses)


def main() -> None:
    """Run the booking benchmarks and write bench/results/bookings.md."""
    lines = ["# bookings benchmarks", "", machine_line(), ""]
    try:
        with served_stack() as (base, key, ada, lesson):
            latency = bench_latency(base, key, ada, lesson)
            wall, statuses = bench_race(base, key, ada, lesson)
    except MariaDbUnavailable as exc:
        lines += [f"Skipped: {exc}."]
        write_results("bookings", lines)
        return
    lines += [
        "How to read: one booking = live free/busy re-check at the sandbox, the locked Bookly",
        "write on MariaDB, our PostgreSQL commit, then (eager, as in the embedded default) the",
        "calendar upsert and the customer's Smart Invite, all inside the request.",
        "Each 409 also computes the next free slots (one uncached availability view). The",
        "machine is shared (2 cores, several test runs at once): compare ratios, not absolutes.",
        "",
        "| measurement | p50 | p95 |",
        "|---|---|---|",
        f"| POST /api/v1/bookings, {latency.samples} sequential bookings | {latency.ms()} |",
        "",
        f"16-way race for overlapping starts: {wall * 1e3:.0f} ms wall time to the last answer; "
        f"statuses {dict(sorted(statuses.items()))} (expected {{201: 1, 409: 15}}).",
    ]
    write_results("bookings", lines)


if __name__ == "__main__":
    main()

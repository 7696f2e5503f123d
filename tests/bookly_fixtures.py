"""Bookly databases for tests: MariaDB loaded from tests/fixtures/bookly_schema.sql, or SQLite.

Registered in tests/conftest.py's ``pytest_plugins`` as ``tests.bookly_fixtures``.
Fixture ``bookly_db`` is parametrised over both back ends; ``mariadb_bookly_db`` is MariaDB only.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bookly_client import BooklyGateway
from bookly_client.connection import make_engine
from bookly_client.tables import BooklyTables, build_tables
from tests.bookly_schema import create_bookly_tables

FIXED_NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)  # a Sunday; tests book the week after
PRO_PLUGINS = (
    'a:2:{i:0;s:45:"bookly-responsive-appointment-booking-tool/main.php";'
    'i:1;s:26:"bookly-addon-pro/main.php";}'
)
TOKEN_SECRET = "test-token-secret"


def hhmm(value: str) -> timedelta:
    """``"09:30"`` -> timedelta since midnight."""
    hours, minutes = value.split(":")
    return timedelta(hours=int(hours), minutes=int(minutes))


def local(value: str) -> datetime:
    """``"2026-11-24 10:00"`` -> naive datetime (Bookly's site-local storage)."""
    return datetime.fromisoformat(value)


WEEKDAYS = dict.fromkeys(range(2, 7), ("08:00", "18:00"))  # Bookly's default: Mon-Fri 8-18


@dataclass
class BooklyDb:
    """A Bookly database plus helpers that write rows the way Bookly itself does."""

    backend: str
    url: str
    engine: sa.Engine
    tables: BooklyTables
    stamp: datetime = field(default_factory=lambda: local("2026-11-22 13:00"))
    _batch: sa.Connection | None = None

    @property
    def prefix(self) -> str:
        return self.tables.prefix

    def gateway(self, **kw: Any) -> BooklyGateway:
        kw.setdefault("clock", lambda: FIXED_NOW)
        kw.setdefault("token_secret", TOKEN_SECRET)
        kw.setdefault("table_prefix", self.prefix)
        return BooklyGateway(self.engine, **kw)

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Run the helpers' inserts inside one transaction (fast set-up)."""
        if self._batch is not None:
            yield
            return
        with self.engine.begin() as conn:
            self._batch = conn
            try:
                yield
            finally:
                self._batch = None

    def insert(self, table: sa.Table, **values: Any) -> int:
        with self.batch():
            assert self._batch is not None
            key = self._batch.execute(sa.insert(table).values(**values)).inserted_primary_key
        assert key is not None
        return int(key[0])

    def execute(self, statement: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(statement)

    def set_option(self, name: str, value: str | None) -> None:
        o = self.tables.options
        with self.engine.begin() as conn:
            conn.execute(sa.delete(o).where(o.c.option_name == name))
            if value is not None:
                conn.execute(sa.insert(o).values(option_name=name, option_value=value))

    def count(self, table: sa.Table) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar() or 0)

    def counts(self) -> dict[str, int]:
        return {t.name: self.count(t) for t in self.tables.metadata.sorted_tables}

    def row(self, table: sa.Table, row_id: int) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(table).where(table.c.id == row_id)).one()

    def add_staff(
        self,
        name: str = "Ada Lovelace",
        *,
        email: str | None = None,
        time_zone: str | None = None,
        hours: dict[int, tuple[str, str]] | None = None,
        breaks: dict[int, list[tuple[str, str]]] | None = None,
        **extra: Any,
    ) -> int:
        with self.batch():
            return self._add_staff(name, email, time_zone, hours, breaks, extra)

    def _add_staff(self, name, email, time_zone, hours, breaks, extra) -> int:  # noqa: ANN001
        t = self.tables
        staff_id = self.insert(
            t.staff, full_name=name, email=email or f"{name.split()[0].lower()}@school.example",
            time_zone=time_zone, **extra,
        )  # fmt: skip
        hours = WEEKDAYS if hours is None else hours
        for day_index in range(1, 8):
            start, end = hours.get(day_index, (None, None))
            item = self.insert(
                t.schedule_items, staff_id=staff_id, day_index=day_index,
                start_time=hhmm(start) if start else None, end_time=hhmm(end) if end else None,
            )  # fmt: skip
            for b_start, b_end in (breaks or {}).get(day_index, []):
                self.insert(t.schedule_breaks, staff_schedule_item_id=item,
                            start_time=hhmm(b_start), end_time=hhmm(b_end))  # fmt: skip
        return staff_id

    def add_service(
        self, title: str = "Lesson", minutes: int = 60, *, staff: tuple[int, ...] = (), **extra: Any
    ) -> int:
        service_id = self.insert(self.tables.services, title=title, duration=minutes * 60, **extra)
        for staff_id in staff:
            self.insert(self.tables.staff_services, staff_id=staff_id, service_id=service_id,
                        price=Decimal("40.00"))  # fmt: skip
        return service_id

    def add_holiday(self, staff_id: int, day: date, *, repeat: bool = False) -> int:
        return self.insert(
            self.tables.holidays, staff_id=staff_id, date=day, repeat_event=int(repeat)
        )

    def add_customer(self, email: str, name: str = "Kim Doe") -> int:
        return self.insert(self.tables.customers, full_name=name, email=email, notes="",
                           created_at=self.stamp)  # fmt: skip

    def bookly_appointment(
        self,
        staff_id: int,
        service_id: int | None,
        start: str,
        end: str,
        *,
        statuses: tuple[str, ...] = ("approved",),
        extras_duration: int = 0,
        log: bool = True,
        created_from: str = "bookly",
        label: str | None = None,
    ) -> int:
        """An appointment (+ customer rows, + log rows) as Bookly's own PHP writes it."""
        with self.batch():
            return self._appointment(staff_id, service_id, start, end, statuses,
                                     extras_duration, log, created_from, label)  # fmt: skip

    def _appointment(
        self,
        staff_id,
        service_id,
        start,
        end,
        statuses,
        extras_duration,  # noqa: ANN001
        log,
        created_from,
        label,
    ) -> int:  # noqa: ANN001
        t = self.tables
        appointment_id = self.insert(
            t.appointments, staff_id=staff_id, service_id=service_id, start_date=local(start),
            end_date=local(end), extras_duration=extras_duration, created_from=created_from,
            custom_service_name=label, created_at=self.stamp, updated_at=self.stamp,
        )  # fmt: skip
        if log:
            self.log_row("create", t.appointments, appointment_id, {"staff_id": staff_id})
        for n, status in enumerate(statuses):
            customer = self.add_customer(f"c{appointment_id}-{n}@customers.example")
            ca_id = self.insert(
                t.customer_appointments, customer_id=customer, appointment_id=appointment_id,
                status=status, status_changed_at=self.stamp, extras="[]", custom_fields="[]",
                token=f"{appointment_id:016d}{n:016d}", created_from="frontend",
                created_at=self.stamp, updated_at=self.stamp,
            )  # fmt: skip
            if log:
                self.log_row("create", t.customer_appointments, ca_id,
                             {"appointment_id": appointment_id, "status": status})  # fmt: skip
        return appointment_id

    def log_row(self, action: str, table: sa.Table, target_id: int, details: dict[str, Any]) -> int:
        return self.insert(
            self.tables.log, action=action, target=table.name, target_id=target_id,
            author="admin", details=json.dumps(details), ref="Bookly\\Lib\\Entity::save",
            created_at=self.stamp,
        )  # fmt: skip


def _site_options(db: BooklyDb, **overrides: str | None) -> None:
    options: dict[str, str | None] = {
        "timezone_string": "Europe/Berlin", "gmt_offset": "1", "bookly_db_version": "27.4",
        "active_plugins": PRO_PLUGINS,
    }  # fmt: skip
    options.update(overrides)
    for name, value in options.items():
        db.set_option(name, value)


def _fast_sqlite(dbapi_connection: Any, _record: Any) -> None:
    """Tests need no durability; skipping fsync keeps SQLite set-up fast."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous = OFF")
    cursor.close()


def make_bookly_db(backend: str, url: str, prefix: str = "wp_") -> BooklyDb:
    """Create the Bookly tables (MariaDB: from bookly_schema.sql; SQLite: from our metadata)."""
    tables = build_tables(prefix)
    engine = make_engine(url)
    if backend == "sqlite":
        sa.event.listen(engine, "connect", _fast_sqlite)
    if backend == "mariadb":
        with engine.begin() as conn:
            create_bookly_tables(conn, prefix)
    else:
        tables.metadata.create_all(engine)
    db = BooklyDb(backend, url, engine, tables)
    with db.batch():
        _site_options(db)
    return db


@pytest.fixture
def sqlite_bookly_url(tmp_path: Path) -> str:
    """A SQLite file URL (a file, so several threads/connections share it)."""
    return f"sqlite:///{tmp_path / 'bookly.db'}"


def _wipe_mariadb(url: str) -> None:
    """Empty every Bookly table and drop tables a test added (e.g. another prefix)."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS = 0")
            for name in sa.inspect(conn).get_table_names():
                if name.startswith("wp_bookly_") or name == "wp_options":
                    conn.exec_driver_sql(f"DELETE FROM `{name}`")  # noqa: S608 - test table
                else:
                    conn.exec_driver_sql(f"DROP TABLE `{name}`")
            conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS = 1")
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def _shared_mariadb_bookly(mariadb_admin_url: str) -> Iterator[str]:
    """One MariaDB database loaded from bookly_schema.sql per session; tests get it emptied."""
    name = f"bk_{uuid.uuid4().hex[:16]}"
    admin = sa.create_engine(mariadb_admin_url)
    with admin.begin() as conn:
        conn.exec_driver_sql(
            f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_520_ci"
        )
    url = f"{mariadb_admin_url.rstrip('/')}/{name}?charset=utf8mb4"
    make_bookly_db("mariadb", url).engine.dispose()
    try:
        yield url
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
        admin.dispose()


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("mariadb", id="mariadb", marks=pytest.mark.mariadb),
    ]
)
def bookly_db(request: pytest.FixtureRequest) -> Iterator[BooklyDb]:
    """A Bookly site (Europe/Berlin, Bookly 27.4 + Pro) on SQLite and on MariaDB, empty."""
    if request.param == "sqlite":
        db = make_bookly_db("sqlite", request.getfixturevalue("sqlite_bookly_url"))
    else:
        url = request.getfixturevalue("_shared_mariadb_bookly")
        _wipe_mariadb(url)
        db = BooklyDb("mariadb", url, make_engine(url), build_tables("wp_"))
        with db.batch():
            _site_options(db)
    yield db
    db.engine.dispose()


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("mariadb", id="mariadb", marks=pytest.mark.mariadb),
    ]
)
def fresh_bookly_db(request: pytest.FixtureRequest) -> Iterator[BooklyDb]:
    """Like bookly_db but in a database of its own (for tests that change the schema)."""
    backend = request.param
    url = request.getfixturevalue("mariadb_url" if backend == "mariadb" else "sqlite_bookly_url")
    db = make_bookly_db(backend, url)
    yield db
    db.engine.dispose()


@pytest.fixture
def mariadb_bookly_db(mariadb_url: str) -> Iterator[BooklyDb]:
    """A fresh Bookly site on MariaDB only."""
    db = make_bookly_db("mariadb", mariadb_url)
    yield db
    db.engine.dispose()

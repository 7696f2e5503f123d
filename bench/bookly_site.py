"""Bookly databases for benchmarks: a SQLite file, or a MariaDB database of our own.

MariaDB tables come from the project's Bookly layout (tests/fixtures/bookly_schema.sql: the
tables we use, as Bookly's installer creates them); SQLite tables from bookly_client's
metadata. Both get the demo school of bookly_client.demo.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import sqlalchemy as sa

from bookly_client import BooklyGateway
from bookly_client.connection import make_engine
from bookly_client.demo import create_demo_site
from bookly_client.tables import build_tables
from tests.bookly_schema import create_bookly_tables

MARIADB_ADMIN_URL = os.environ.get("TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/")
TOKEN_SECRET = "bench-token-secret"  # noqa: S105 - signs tokens in a throwaway database


class MariaDbUnavailable(RuntimeError):
    """The MariaDB server cannot be reached (the MariaDB rows are skipped)."""


@contextmanager
def mariadb_database() -> Iterator[str]:
    """A fresh MariaDB database with the Bookly tables (strict mode), dropped afterwards."""
    admin = sa.create_engine(MARIADB_ADMIN_URL, connect_args={"connect_timeout": 3})
    name = f"bench_{uuid.uuid4().hex[:12]}"
    try:
        with admin.begin() as conn:
            conn.exec_driver_sql(
                f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_520_ci"
            )
    except sa.exc.OperationalError as exc:
        admin.dispose()
        raise MariaDbUnavailable(
            f"MariaDB not reachable at {admin.url.host}:{admin.url.port}"
        ) from exc
    url = f"{MARIADB_ADMIN_URL.rstrip('/')}/{name}?charset=utf8mb4"
    try:
        engine = make_engine(url)
        with engine.begin() as conn:
            create_bookly_tables(conn)
        engine.dispose()
        yield url
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
        admin.dispose()


def open_site(url: str) -> BooklyGateway:
    """Seed the demo school (tables made from metadata where missing) and return a gateway."""
    create_demo_site(url)
    return BooklyGateway(url, token_secret=TOKEN_SECRET)


def bulk_appointments(
    gateway: BooklyGateway, rows: list[tuple[int, int, datetime, datetime]]
) -> None:
    """Insert (staff, service, local start, local end) appointments with one approved customer
    row each, the way Bookly's front end stores them, in one transaction."""
    t = build_tables(gateway.table_prefix)
    stamp = datetime(2026, 11, 1, 12, 0)  # noqa: DTZ001 - Bookly stores site-local naive times
    with gateway.engine.begin() as conn:
        customer = conn.execute(
            sa.insert(t.customers).values(
                full_name="Bulk Customer",
                email="bulk@bench.test",
                notes="",
                info_fields="[]",
                created_at=stamp,
            )
        ).inserted_primary_key
        assert customer is not None
        first = conn.execute(
            sa.select(sa.func.coalesce(sa.func.max(t.appointments.c.id), 0))
        ).scalar_one()
        conn.execute(sa.insert(t.appointments), [
            {"id": first + n + 1, "staff_id": staff, "service_id": service, "start_date": start,
             "end_date": end, "created_from": "bookly", "created_at": stamp, "updated_at": stamp}
            for n, (staff, service, start, end) in enumerate(rows)
        ])  # fmt: skip
        conn.execute(sa.insert(t.customer_appointments), [
            {"customer_id": customer[0], "appointment_id": first + n + 1, "notes": "",
             "extras": "[]", "custom_fields": "[]", "status": "approved",
             "status_changed_at": stamp, "created_from": "frontend", "created_at": stamp,
             "updated_at": stamp,
             "token": hashlib.md5(f"bulk-{n}".encode(), usedforsecurity=False).hexdigest()}
            for n in range(len(rows))
        ])  # fmt: skip

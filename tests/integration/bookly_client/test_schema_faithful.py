"""Our Bookly table layout (tests/fixtures/bookly_schema.sql) equals a real Bookly install's.

The reference is a dump of the tables Bookly 27.4's installer created on MariaDB
(``../shared/bookly/schema.sql`` + ``wp-options.sql``), which only the team's CI has beside
the project. Both are loaded into MariaDB in strict mode and compared with SHOW CREATE TABLE:
column order, types, nullability, defaults, keys, foreign keys, engine, charset, collation.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from bookly_client.connection import make_engine
from bookly_client.tables import build_tables
from tests.bookly_schema import bookly_ddl, split_sql

REFERENCE = Path(__file__).resolve().parents[3].parent / "shared" / "bookly"
REFERENCE_FILES = ("schema.sql", "wp-options.sql")
# Bookly links these columns to its series, payments and orders tables, which we neither read
# nor write; our fixture keeps their keys but not these three constraints.
UNLINKED = {
    "wp_bookly_customer_appointments": (
        "CONSTRAINT `wp_bookly_customer_appointments_ibfk_3` FOREIGN KEY (`series_id`)",
        "CONSTRAINT `wp_bookly_customer_appointments_ibfk_4` FOREIGN KEY (`payment_id`)",
        "CONSTRAINT `wp_bookly_customer_appointments_ibfk_5` FOREIGN KEY (`order_id`)",
    )
}


@contextmanager
def database(admin_url: str, statements: list[str]) -> Iterator[sa.Engine]:
    """A new MariaDB database (strict mode, through make_engine) with ``statements`` run."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    admin = sa.create_engine(admin_url)
    with admin.begin() as conn:
        conn.exec_driver_sql(
            f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_520_ci"
        )
    engine = make_engine(f"{admin_url.rstrip('/')}/{name}?charset=utf8mb4")
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.exec_driver_sql(statement.replace("%", "%%"))
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
        admin.dispose()


def layout(engine: sa.Engine, table: str) -> list[str]:
    """SHOW CREATE TABLE, one line per column/key, without the AUTO_INCREMENT counter."""
    with engine.connect() as conn:
        ddl = conn.exec_driver_sql(f"SHOW CREATE TABLE `{table}`").one()[1]
    ddl = re.sub(r" AUTO_INCREMENT=\d+", "", ddl)
    return [line.strip().rstrip(",") for line in ddl.splitlines()]


@pytest.mark.mariadb
def test_our_bookly_tables_are_laid_out_as_bookly_creates_them(
    request: pytest.FixtureRequest,
) -> None:
    missing = [name for name in REFERENCE_FILES if not (REFERENCE / name).is_file()]
    if missing:
        pytest.skip(
            f"faithfulness of tests/fixtures/bookly_schema.sql NOT checked: no Bookly reference "
            f"dump at {REFERENCE} (missing {', '.join(missing)}); the team's CI has it"
        )
    admin_url = request.getfixturevalue("mariadb_admin_url")
    reference = [
        statement
        for name in REFERENCE_FILES
        for statement in split_sql((REFERENCE / name).read_text(encoding="utf-8"))
    ]
    ours = [t.name for t in build_tables("wp_").metadata.sorted_tables]
    with database(admin_url, reference) as real, database(admin_url, bookly_ddl()) as fixture:
        differences = {}
        for table in ours:
            expected = [
                line for line in layout(real, table) if not line.startswith(UNLINKED.get(table, ()))
            ]
            got = layout(fixture, table)
            if got != expected:
                differences[table] = {
                    "only in ours": [line for line in got if line not in expected],
                    "only in Bookly's": [line for line in expected if line not in got],
                    "same lines, other order": sorted(got) == sorted(expected),
                }
    assert differences == {}

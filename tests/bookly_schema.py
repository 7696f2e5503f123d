"""The project's own Bookly table layout (tests/fixtures/bookly_schema.sql), for tests and bench.

No pytest here: ``bench/bookly_site.py`` loads the same tables.
"""

from __future__ import annotations

import re
from pathlib import Path

import sqlalchemy as sa

BOOKLY_SCHEMA = Path(__file__).resolve().parent / "fixtures" / "bookly_schema.sql"
_TABLE_NAME = re.compile(r"`wp_(bookly_\w+|options)`")


def split_sql(text: str) -> list[str]:
    """The statements of a DDL file: ``--`` comment lines dropped, split at a final ``;``."""
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))
    return [part.strip() for part in re.split(r";\s*(?:\n|$)", body) if part.strip()]


def bookly_ddl(prefix: str = "wp_") -> list[str]:
    """Our CREATE TABLE statements (FK parents first), with ``wp_`` replaced by ``prefix``."""
    statements = split_sql(BOOKLY_SCHEMA.read_text(encoding="utf-8"))
    return [_TABLE_NAME.sub(lambda m: f"`{prefix}{m.group(1)}`", s) for s in statements]


def create_bookly_tables(conn: sa.Connection, prefix: str = "wp_") -> None:
    """Create the tables on a MariaDB/MySQL connection (``make_engine`` sets strict mode)."""
    for statement in bookly_ddl(prefix):
        conn.exec_driver_sql(statement.replace("%", "%%"))  # no parameters: escape

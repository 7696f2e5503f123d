"""Engines and transactions: strict SQL mode on MariaDB, foreign keys and BEGIN IMMEDIATE on SQLite.

Session settings are applied on first use of each DBAPI connection (tracked in its ``info``),
so they also hold for engines created by the caller.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from bookly_client.errors import BooklyError, BooklyUnavailable, IncompatibleSchema

log = logging.getLogger(__name__)

# What a plain MariaDB 10.11 session has; WordPress's $wpdb strips the strict modes, we do not.
STRICT_SQL_MODE = (
    "STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION"
)
_READY = "bookly_client_session_ready"
# MariaDB "unknown column" / "no such table"; SQLite says so in the message.
_SCHEMA_ERRORS = (1054, 1146)
_SQLITE_SCHEMA_WORDS = ("no such table", "no such column", "has no column")


def is_mysql(bind: sa.Engine | sa.Connection) -> bool:
    """True for MySQL/MariaDB dialects."""
    return bind.dialect.name in ("mysql", "mariadb")


def make_engine(engine_or_url: sa.Engine | str) -> sa.Engine:
    """Use the given engine, or create one for a URL (SQLite gets a busy timeout)."""
    if isinstance(engine_or_url, sa.Engine):
        return engine_or_url
    url = sa.make_url(engine_or_url)
    if url.get_backend_name() == "sqlite":
        return sa.create_engine(url, connect_args={"timeout": 30})
    return sa.create_engine(url, pool_pre_ping=True)


def _prepare_session(conn: sa.Connection) -> None:
    info = conn.connection.info
    if info.get(_READY):
        return
    if is_mysql(conn):
        # GROUP_CONCAT packs a staff member's busy time into one value (availability reads);
        # MySQL's default limit of 1 KiB would cut it short.
        conn.exec_driver_sql(
            f"SET SESSION sql_mode = '{STRICT_SQL_MODE}', group_concat_max_len = 67108864"
        )
    elif conn.dialect.name == "sqlite":
        conn.exec_driver_sql("PRAGMA foreign_keys = ON")
    conn.commit()
    info[_READY] = True


def _translate(exc: sa.exc.SQLAlchemyError) -> BooklyError:
    cause = getattr(exc, "orig", None) or exc
    code = getattr(cause, "args", (None,))[0] if getattr(cause, "args", None) else None
    if code in _SCHEMA_ERRORS or any(w in str(cause) for w in _SQLITE_SCHEMA_WORDS):
        return IncompatibleSchema([f"Bookly table layout differs: {cause}"[:300]])
    if isinstance(exc, sa.exc.OperationalError):
        return BooklyUnavailable(f"Bookly database unavailable: {cause!r}"[:500])
    return BooklyError(f"Bookly database error: {type(exc).__name__}: {cause!r}"[:500])


@contextmanager
def reading(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A connection for reads; database errors become BooklyError."""
    try:
        with engine.connect() as conn:
            _prepare_session(conn)
            yield conn
            conn.rollback()
    except sa.exc.SQLAlchemyError as exc:
        raise _translate(exc) from exc


@contextmanager
def writing(engine: sa.Engine) -> Iterator[sa.Connection]:
    """One write transaction: READ COMMITTED on MariaDB, BEGIN IMMEDIATE on SQLite."""
    try:
        with engine.connect() as conn:
            if is_mysql(conn):
                conn.execution_options(isolation_level="READ COMMITTED")
            _prepare_session(conn)
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.rollback()
                raise
            conn.commit()
    except sa.exc.SQLAlchemyError as exc:
        log.warning("Bookly write failed: %s", type(exc).__name__)
        raise _translate(exc) from exc

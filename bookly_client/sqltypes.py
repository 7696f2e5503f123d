"""Column types that behave the same on MariaDB (Bookly's home) and SQLite (the sandbox)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, sqlite
from sqlalchemy.engine.interfaces import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ColumnElement

_MYSQL = ("mysql", "mariadb")

# Bookly writes DATETIMEs with whole seconds; SQLite stores the same text shape so string
# comparison in SQL orders correctly and datetime(x, '+N seconds') yields comparable values.
_SQLITE_DATETIME = sqlite.DATETIME(  # type: ignore[no-untyped-call]
    storage_format="%(year)04d-%(month)02d-%(day)02d %(hour)02d:%(minute)02d:%(second)02d",
    regexp=r"(\d+)-(\d+)-(\d+) (\d+):(\d+):(\d+)",
)


def new_id(result: sa.CursorResult[Any]) -> int:
    """Primary key of the row an INSERT just created."""
    key = result.inserted_primary_key
    if key is None or key[0] is None:
        raise RuntimeError("INSERT returned no primary key")
    return int(key[0])


def uint() -> sa.types.TypeEngine[int]:
    """INT(10) UNSIGNED on MariaDB, INTEGER elsewhere."""
    return sa.Integer().with_variant(mysql.INTEGER(unsigned=True), *_MYSQL)


def ubigint() -> sa.types.TypeEngine[int]:
    """BIGINT(20) UNSIGNED on MariaDB, INTEGER elsewhere."""
    return sa.Integer().with_variant(mysql.BIGINT(unsigned=True), *_MYSQL)


def tinyint() -> sa.types.TypeEngine[int]:
    """TINYINT(1) on MariaDB (Bookly's booleans), INTEGER elsewhere."""
    return sa.Integer().with_variant(mysql.TINYINT(1), *_MYSQL)


def local_datetime() -> sa.types.TypeEngine[datetime]:
    """Naive DATETIME holding Bookly's site-local wall time (whole seconds)."""
    return sa.DateTime().with_variant(_SQLITE_DATETIME, "sqlite")


def long_text() -> sa.types.TypeEngine[str]:
    """LONGTEXT on MariaDB (WordPress option values), TEXT elsewhere."""
    return sa.Text().with_variant(mysql.LONGTEXT(), *_MYSQL)


class _RawMysqlTime(mysql.TIME):
    """MariaDB TIME without SQLAlchemy's conversion to datetime.time (Bookly allows 24:00+)."""

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        """No conversion: keep PyMySQL's timedelta."""
        return None


class WallTime(sa.types.TypeDecorator[timedelta]):
    """A TIME column as a timedelta since local midnight (``24:00:00`` is valid in Bookly)."""

    impl = sa.String(10)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine[Any]:
        """TIME on MariaDB, text ``HH:MM:SS`` elsewhere."""
        if dialect.name in _MYSQL:
            return dialect.type_descriptor(_RawMysqlTime())
        return dialect.type_descriptor(sa.String(10))

    def process_bind_param(self, value: timedelta | None, dialect: Dialect) -> str | None:
        """Render as ``HH:MM:SS``."""
        if value is None:
            return None
        total = int(value.total_seconds())
        hours, rest = divmod(total, 3600)
        return f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"

    def process_result_value(self, value: Any, dialect: Dialect) -> timedelta | None:
        """Accept timedelta (PyMySQL), time or ``HH:MM:SS`` text."""
        if value is None or isinstance(value, timedelta):
            return value
        if isinstance(value, time):
            return timedelta(hours=value.hour, minutes=value.minute, seconds=value.second)
        hours, minutes, seconds = (int(float(part)) for part in str(value).split(":"))
        return timedelta(hours=hours, minutes=minutes, seconds=seconds)


class Money(sa.types.TypeDecorator[Decimal]):
    """DECIMAL(10,2) on MariaDB; exact text on SQLite (which has no decimal type)."""

    impl = sa.String(16)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine[Any]:
        """DECIMAL(10,2) where supported, text otherwise."""
        if dialect.name in _MYSQL:
            return dialect.type_descriptor(sa.Numeric(10, 2, asdecimal=True))
        return dialect.type_descriptor(sa.String(16))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        """Quantize to cents; text on SQLite."""
        if value is None:
            return None
        cents = Decimal(value).quantize(Decimal("0.01"))
        return cents if dialect.name in _MYSQL else str(cents)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        """Always a Decimal with two places."""
        return None if value is None else Decimal(str(value)).quantize(Decimal("0.01"))


class EffectiveEnd(ColumnElement[datetime]):
    """``end_date + extras_duration seconds``: the end Bookly itself uses for overlaps."""

    inherit_cache = True

    def __init__(self, end: sa.ColumnElement[Any], extras_seconds: sa.ColumnElement[Any]) -> None:
        self.end = end
        self.extras_seconds = extras_seconds
        self.type = local_datetime()


@compiles(EffectiveEnd, "mysql")
@compiles(EffectiveEnd, "mariadb")
def _effective_end_mysql(element: EffectiveEnd, compiler: SQLCompiler, **kw: Any) -> str:
    end = compiler.process(element.end, **kw)
    extras = compiler.process(element.extras_seconds, **kw)
    return f"DATE_ADD({end}, INTERVAL {extras} SECOND)"


@compiles(EffectiveEnd)
def _effective_end_sqlite(element: EffectiveEnd, compiler: SQLCompiler, **kw: Any) -> str:
    end = compiler.process(element.end, **kw)
    extras = compiler.process(element.extras_seconds, **kw)
    return f"datetime({end}, '+' || {extras} || ' seconds')"


class WallSeconds(ColumnElement[int]):
    """Seconds from 1970-01-01 00:00 to a naive local DATETIME, as plain wall-clock arithmetic
    (no zone): an integer is far cheaper to fetch than a DATETIME, and ``LocalEpochs`` turns it
    into UTC epoch seconds."""

    inherit_cache = True

    def __init__(self, value: sa.ColumnElement[Any]) -> None:
        self.value = value
        self.type = sa.BigInteger()


@compiles(WallSeconds, "mysql")
@compiles(WallSeconds, "mariadb")
def _wall_seconds_mysql(element: WallSeconds, compiler: SQLCompiler, **kw: Any) -> str:
    return f"TIMESTAMPDIFF(SECOND, '1970-01-01 00:00:00', {compiler.process(element.value, **kw)})"


@compiles(WallSeconds)
def _wall_seconds_sqlite(element: WallSeconds, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(strftime('%s', {compiler.process(element.value, **kw)}) AS INTEGER)"


class PackedIntegers(ColumnElement[str]):
    """``GROUP_CONCAT`` of integer expressions: per group one text of ``a,b,c;a,b,c;...``.

    One row per staff member instead of one per appointment: a thousand appointments then
    cost one short string to fetch and split, not a thousand rows through the driver. On
    MySQL/MariaDB the session's ``group_concat_max_len`` is raised when the connection is
    prepared (connection.py); callers still compare the count of parts with ``COUNT(*)``.
    """

    inherit_cache = True

    def __init__(self, *values: sa.ColumnElement[Any]) -> None:
        self.values = values
        self.type = sa.Text()


@compiles(PackedIntegers, "mysql")
@compiles(PackedIntegers, "mariadb")
def _packed_mysql(element: PackedIntegers, compiler: SQLCompiler, **kw: Any) -> str:
    parts = ", ',', ".join(compiler.process(v, **kw) for v in element.values)
    return f"GROUP_CONCAT(CONCAT({parts}) SEPARATOR ';')"


@compiles(PackedIntegers)
def _packed_sqlite(element: PackedIntegers, compiler: SQLCompiler, **kw: Any) -> str:
    parts = " || ',' || ".join(f"({compiler.process(v, **kw)})" for v in element.values)
    return f"group_concat({parts}, ';')"

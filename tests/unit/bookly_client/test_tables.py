"""Our SQLAlchemy tables match tests/fixtures/bookly_schema.sql (names, types, nullability,
defaults); test_schema_faithful.py compares that file with a real Bookly install's tables."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from bookly_client.tables import build_tables
from tests.bookly_schema import bookly_ddl

ATTRIBUTE = r"\s+(?:NOT NULL|NULL|DEFAULT|AUTO_INCREMENT)\b"
COLUMN = re.compile(rf"^\s*`(?P<name>\w+)`\s+(?P<type>.+?)(?P<rest>(?:{ATTRIBUTE}.*)?),?$")
Column = tuple[str, bool, str | None]


def parse_ddl() -> dict[str, dict[str, Column]]:
    """{table: {column: (type, NOT NULL, default)}} from our DDL file."""
    tables: dict[str, dict[str, Column]] = {}
    for statement in bookly_ddl():
        name = re.search(r"CREATE TABLE `(\w+)`", statement)
        assert name is not None
        columns = {}
        for line in statement.splitlines()[1:]:
            match = COLUMN.match(line)
            if match:
                rest = match["rest"]
                default = re.search(r"DEFAULT ('[^']*'|\S+?)(?:,|$| )", rest)
                value = default.group(1).strip("'") if default else None
                columns[match["name"]] = (match["type"], "NOT NULL" in rest, value)
        tables[name.group(1)] = columns
    return tables


def mysql_type(column: sa.Column[object]) -> str:
    """How MariaDB DDL spells our column's type (INTEGER -> INT, NUMERIC -> DECIMAL)."""
    text = column.type.compile(dialect=mysql.dialect())
    text = text.replace("INTEGER", "INT").replace("NUMERIC", "DECIMAL")
    return re.sub(r",\s+", ",", text)


DDL = parse_ddl()
OURS = build_tables("wp_")


def test_the_fixture_has_exactly_our_tables() -> None:
    assert set(DDL) == {t.name for t in OURS.metadata.sorted_tables}


@pytest.mark.parametrize("table", OURS.metadata.sorted_tables, ids=lambda t: t.name)
def test_columns_match_the_fixture(table: sa.Table) -> None:
    expected = DDL[table.name]
    assert [c.name for c in table.columns] == list(expected)
    for column in table.columns:
        type_, not_null, default = expected[column.name]
        assert mysql_type(column) == type_, column.name
        assert column.nullable is not not_null or column.primary_key, column.name
        ours = column.server_default.arg.text if column.server_default is not None else None
        if default in (None, "NULL"):
            assert ours is None, column.name
        else:
            assert ours is not None, column.name
            assert ours.strip("'") == default, column.name


def test_prefix_is_applied_and_validated() -> None:
    names = {t.name for t in build_tables("wp_2_").metadata.sorted_tables}
    assert "wp_2_bookly_appointments" in names
    assert "wp_2_options" in names
    with pytest.raises(ValueError, match="prefix"):
        build_tables("wp_; DROP TABLE x; --")


def test_fixture_is_re_prefixed_with_its_constraints() -> None:
    ddl = "\n".join(bookly_ddl("wp_2_"))
    assert "`wp_2_bookly_appointments`" in ddl
    assert "`wp_2_bookly_appointments_ibfk_1`" in ddl
    assert "`wp_2_options`" in ddl
    assert "`wp_bookly_" not in ddl


def test_sqlite_sandbox_tables_from_metadata() -> None:
    engine = sa.create_engine("sqlite://")
    OURS.metadata.create_all(engine)
    assert set(sa.inspect(engine).get_table_names()) == {
        t.name for t in OURS.metadata.sorted_tables
    }
    engine.dispose()

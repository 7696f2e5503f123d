"""Our SQLAlchemy tables match shared/bookly/schema.sql (names, nullability, defaults)."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from bookly_client.tables import build_tables
from tests.bookly_fixtures import bookly_ddl

COLUMN = re.compile(r"^\s*`(?P<name>\w+)`\s+(?P<type>[a-z]+)(?P<rest>.*?),?$")


def parse_ddl() -> dict[str, dict[str, tuple[str, bool, str | None]]]:
    tables: dict[str, dict[str, tuple[str, bool, str | None]]] = {}
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


DDL = parse_ddl()
OURS = build_tables("wp_")


@pytest.mark.parametrize("table", OURS.metadata.sorted_tables, ids=lambda t: t.name)
def test_columns_match_schema_sql(table: sa.Table) -> None:
    expected = DDL[table.name]
    assert [c.name for c in table.columns] == list(expected)
    for column in table.columns:
        _type, not_null, default = expected[column.name]
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


def test_sqlite_sandbox_tables_from_metadata() -> None:
    engine = sa.create_engine("sqlite://")
    OURS.metadata.create_all(engine)
    assert set(sa.inspect(engine).get_table_names()) == {
        t.name for t in OURS.metadata.sorted_tables
    }
    engine.dispose()

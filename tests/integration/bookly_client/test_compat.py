"""Start-up compatibility check."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from bookly_client import IncompatibleSchema

from .conftest import School


def test_faithful_site_passes(school: School) -> None:
    report = school.gateway.check_compatibility()
    assert (report.db_version, report.site_time_zone, report.table_prefix) == (
        "27.4", "Europe/Berlin", "wp_",
    )  # fmt: skip
    assert report.warnings == ()


@pytest.mark.parametrize("version", ["26.9", "28.0", "", "abc"])
def test_untested_version_is_refused(school: School, version: str) -> None:
    school.db.set_option("bookly_db_version", version)
    with pytest.raises(IncompatibleSchema, match="bookly_db_version"):
        school.gateway.check_compatibility()


def test_missing_time_zone_is_refused(school: School) -> None:
    school.db.set_option("timezone_string", None)
    school.db.set_option("gmt_offset", None)
    with pytest.raises(IncompatibleSchema, match="time zone"):
        school.gateway.check_compatibility()


def test_unknown_time_zone_is_refused(school: School) -> None:
    school.db.set_option("timezone_string", "Mars/Olympus_Mons")
    with pytest.raises(IncompatibleSchema, match="time zone"):
        school.gateway.check_compatibility()


def test_missing_column_is_named(fresh_bookly_db) -> None:
    db = fresh_bookly_db
    ca = db.tables.customer_appointments.name
    if db.backend == "sqlite":
        statement = f"ALTER TABLE {ca} DROP COLUMN time_zone_offset"
    else:
        statement = f"ALTER TABLE `{ca}` DROP COLUMN `time_zone_offset`"
    with db.engine.begin() as conn:
        conn.execute(sa.text(statement))
    with pytest.raises(IncompatibleSchema, match="time_zone_offset"):
        db.gateway().check_compatibility()


def test_wrong_prefix_reports_missing_tables(school: School) -> None:
    with pytest.raises(IncompatibleSchema, match="wp_9_bookly_appointments is missing"):
        school.db.gateway(table_prefix="wp_9_").check_compatibility()


def test_own_calendar_sync_is_a_warning(school: School) -> None:
    staff = school.db.tables.staff
    school.db.execute(
        sa.update(staff).where(staff.c.id == school.grace).values(google_data='{"token": "x"}')
    )
    report = school.gateway.check_compatibility()
    assert report.staff_with_own_sync == (school.grace,)
    assert "Google/Outlook/Apple" in report.warnings[0]
    assert school.gateway.check_compatibility(managed_staff_ids=[school.ada]).warnings == ()

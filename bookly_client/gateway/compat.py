"""Start-up check: tables and columns present, tested Bookly version, site time zone set."""

from __future__ import annotations

import logging
from collections.abc import Iterable

import sqlalchemy as sa

from bookly_client.connection import reading
from bookly_client.errors import IncompatibleSchema, SiteTimeZoneError
from bookly_client.gateway.context import GatewayContext
from bookly_client.gateway.reads import list_staff
from bookly_client.models import CompatibilityReport
from bookly_client.site import read_options
from bookly_client.timezone import LocalZone

log = logging.getLogger(__name__)

# 27.3 added the apple_* columns we read; 27.4 is the version the tests' schema comes from.
MIN_VERSION = (27, 3)
BELOW_VERSION = (28, 0)


def parse_version(text: str) -> tuple[int, ...]:
    """``"27.4"`` -> ``(27, 4)``; raises ValueError for anything else."""
    parts = tuple(int(part) for part in text.strip().split("."))
    if not parts:
        raise ValueError(text)
    return parts


def _schema_problems(conn: sa.Connection, ctx: GatewayContext) -> list[str]:
    inspector = sa.inspect(conn)
    present = set(inspector.get_table_names())
    problems = []
    for table in ctx.tables.metadata.sorted_tables:
        if table.name not in present:
            problems.append(f"table {table.name} is missing")
            continue
        columns = {col["name"] for col in inspector.get_columns(table.name)}
        missing = [col.name for col in table.columns if col.name not in columns]
        if missing:
            problems.append(f"table {table.name} lacks columns {', '.join(missing)}")
    return problems


def _option_problems(options: dict[str, str], warnings: list[str]) -> tuple[list[str], str]:
    problems: list[str] = []
    version = options.get("bookly_db_version", "")
    try:
        if not MIN_VERSION <= parse_version(version) < BELOW_VERSION:
            problems.append(f"bookly_db_version {version} is outside the tested range 27.3–27.x")
    except ValueError:
        problems.append(f"bookly_db_version {version!r} is missing or not a version")
    zone_name = ""
    try:
        zone = LocalZone.from_wordpress(options.get("timezone_string"), options.get("gmt_offset"))
        zone_name = zone.name
        if not zone.has_dst:
            warnings.append(
                f"site time zone is a fixed offset ({zone.name}, no DST); set a city in WordPress"
            )
    except SiteTimeZoneError as exc:
        problems.append(f"site time zone is not set: {exc}")
    return problems, zone_name


def check_compatibility(
    ctx: GatewayContext, managed_staff_ids: Iterable[int] | None = None
) -> CompatibilityReport:
    """Raise IncompatibleSchema listing every problem, or return the report with warnings."""
    warnings: list[str] = []
    with reading(ctx.engine) as conn:
        problems = _schema_problems(conn, ctx)
        if problems:
            raise IncompatibleSchema(problems)
        options = read_options(conn, ctx.tables)
    option_problems, zone_name = _option_problems(options, warnings)
    if option_problems:
        raise IncompatibleSchema(option_problems)
    ctx.forget_settings()
    managed = None if managed_staff_ids is None else set(managed_staff_ids)
    syncing = tuple(
        s.id
        for s in list_staff(ctx)
        if s.has_own_calendar_sync and (managed is None or s.id in managed)
    )
    for staff_id in syncing:
        warnings.append(
            f"staff member {staff_id} still has Bookly's own Google/Outlook/Apple sync "
            "configured; each booking would appear twice in their calendar"
        )
    for warning in warnings:
        log.warning("Bookly compatibility: %s", warning)
    return CompatibilityReport(
        db_version=options["bookly_db_version"],
        site_time_zone=zone_name,
        table_prefix=ctx.tables.prefix,
        warnings=tuple(warnings),
        staff_with_own_sync=syncing,
    )

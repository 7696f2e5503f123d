"""Checks made inside a write transaction: staff lock, working hours, overlap."""

from __future__ import annotations

import logging
from datetime import timedelta

import sqlalchemy as sa

from bookly_client.errors import OffGrid, OutsideWorkingHours, SlotConflict, UnknownStaff
from bookly_client.gateway.appointments import load_window, max_padding
from bookly_client.gateway.context import GatewayContext, staff_zone
from bookly_client.gateway.reads import fetch_schedule, fetch_staff
from bookly_client.models import StaffMember, TimeWindow
from bookly_client.schedule import working_windows
from bookly_client.site import SiteSettings

log = logging.getLogger(__name__)


def lock_staff(conn: sa.Connection, ctx: GatewayContext, staff_id: int) -> StaffMember:
    """Lock the staff row (FOR UPDATE; SQLite holds BEGIN IMMEDIATE) and return it."""
    s = ctx.tables.staff
    locked = conn.execute(sa.select(s.c.id).where(s.c.id == staff_id).with_for_update()).first()
    if locked is None:
        raise UnknownStaff(f"no Bookly staff member with id {staff_id}")
    return fetch_staff(conn, ctx.tables, staff_id)


def require_bookable(staff: StaffMember) -> None:
    """Archived staff members take no bookings."""
    if staff.visibility == "archive":
        raise UnknownStaff(f"Bookly staff member {staff.id} is archived")


def check_working_hours(
    conn: sa.Connection,
    ctx: GatewayContext,
    staff: StaffMember,
    slot: TimeWindow,
    *,
    grid: timedelta | None = None,
) -> None:
    """Raise OutsideWorkingHours unless ``slot`` lies inside one working period, and OffGrid
    unless it starts a whole number of ``grid`` steps after that period's start (as Bookly's
    booking form offers starts: 09:00, 09:15, ... for a range from 09:00)."""
    settings = ctx.settings(conn)
    schedule = fetch_schedule(conn, ctx, staff)
    zone = staff_zone(settings, staff.time_zone)
    around = TimeWindow(slot.start - timedelta(days=1), slot.end + timedelta(days=1))
    period = next((p for p in working_windows(schedule, zone, around) if p.contains(slot)), None)
    if period is None:
        raise OutsideWorkingHours(
            f"{slot.start.isoformat()}–{slot.end.isoformat()} is outside the working hours "
            f"of staff member {staff.id} (or in a break or on a day off)"
        )
    if grid is not None and (slot.start - period.start) % grid:
        minutes = int(grid.total_seconds() // 60)
        raise OffGrid(
            f"{slot.start.isoformat()} is not on the {minutes}-minute slot grid of the working "
            f"period starting {period.start.isoformat()}"
        )


def check_no_overlap(
    conn: sa.Connection,
    ctx: GatewayContext,
    settings: SiteSettings,
    staff_id: int,
    padded: TimeWindow,
    *,
    exclude_id: int | None = None,
) -> None:
    """Raise SlotConflict when a busy appointment (with its padding) overlaps ``padded``."""
    margin = max_padding(conn, ctx.tables)
    nearby = load_window(conn, ctx.tables, settings, padded, staff_ids=[staff_id], margin=margin)
    clashes = tuple(
        ap.id
        for ap in nearby
        if ap.is_busy and ap.id != exclude_id and ap.busy_window.overlaps(padded)
    )
    if clashes:
        log.info("slot conflict for staff %s with appointments %s", staff_id, clashes)
        raise SlotConflict(
            f"staff member {staff_id} is busy then (appointments {list(clashes)})",
            conflicting_ids=clashes,
        )

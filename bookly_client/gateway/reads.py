"""Read operations: staff, services with offers, schedules and appointments."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from bookly_client.connection import reading
from bookly_client.errors import UnknownService, UnknownStaff
from bookly_client.gateway.appointments import load_appointments, load_window
from bookly_client.gateway.context import GatewayContext, staff_zone
from bookly_client.models import (
    Appointment,
    Break,
    DayOff,
    Service,
    ServiceOffer,
    StaffMember,
    StaffSchedule,
    TimeWindow,
    WorkingDay,
)
from bookly_client.schedule import working_windows
from bookly_client.tables import BooklyTables
from bookly_client.timezone import require_aware


def _staff_member(row: Any) -> StaffMember:
    return StaffMember(
        id=row.id,
        full_name=row.full_name or "",
        email=row.email or "",
        phone=row.phone or "",
        time_zone=row.time_zone or None,
        visibility=row.visibility,
        wp_user_id=row.wp_user_id,
        has_own_calendar_sync=any((row.google_data, row.outlook_data, row.apple_data)),
    )


def _staff_query(t: BooklyTables) -> sa.Select[Any]:
    s = t.staff
    return sa.select(
        s.c.id, s.c.full_name, s.c.email, s.c.phone, s.c.time_zone, s.c.visibility,
        s.c.wp_user_id, s.c.google_data, s.c.outlook_data, s.c.apple_data,
    ).order_by(s.c.position, s.c.id)  # fmt: skip


def list_staff(ctx: GatewayContext, *, include_archived: bool = False) -> list[StaffMember]:
    """Staff members, archived ones only on request."""
    query = _staff_query(ctx.tables)
    if not include_archived:
        query = query.where(ctx.tables.staff.c.visibility != "archive")
    with reading(ctx.engine) as conn:
        return [_staff_member(row) for row in conn.execute(query)]


def fetch_staff(conn: sa.Connection, t: BooklyTables, staff_id: int) -> StaffMember:
    """One staff member (archived included); raises UnknownStaff."""
    row = conn.execute(_staff_query(t).where(t.staff.c.id == staff_id)).first()
    if row is None:
        raise UnknownStaff(f"no Bookly staff member with id {staff_id}")
    return _staff_member(row)


def _offers(conn: sa.Connection, t: BooklyTables) -> dict[int, list[ServiceOffer]]:
    ss = t.staff_services
    query = (
        sa.select(ss.c.service_id, ss.c.staff_id, ss.c.price, ss.c.capacity_min, ss.c.capacity_max)
        .join(t.staff, t.staff.c.id == ss.c.staff_id)
        .where(ss.c.location_id.is_(None), t.staff.c.visibility != "archive")
        .order_by(ss.c.staff_id)
    )
    offers: dict[int, list[ServiceOffer]] = defaultdict(list)
    for row in conn.execute(query):
        offers[row.service_id].append(
            ServiceOffer(row.staff_id, row.price, row.capacity_min, row.capacity_max)
        )
    return offers


def _service(row: Any, offers: list[ServiceOffer]) -> Service:
    return Service(
        id=row.id,
        title=row.title or "",
        type=row.type,
        duration=timedelta(seconds=row.duration),
        padding_left=timedelta(seconds=row.padding_left),
        padding_right=timedelta(seconds=row.padding_right),
        price=row.price,
        capacity_max=row.capacity_max,
        visibility=row.visibility,
        offers=tuple(offers),
    )


def fetch_services(
    conn: sa.Connection, t: BooklyTables, *, service_id: int | None = None
) -> list[Service]:
    """Services with their offers (default location only)."""
    s = t.services
    query = sa.select(s).order_by(s.c.position, s.c.id)
    if service_id is not None:
        query = query.where(s.c.id == service_id)
    offers = _offers(conn, t)
    return [_service(row, offers.get(row.id, [])) for row in conn.execute(query)]


def fetch_service(conn: sa.Connection, t: BooklyTables, service_id: int) -> Service:
    """One service; raises UnknownService."""
    found = fetch_services(conn, t, service_id=service_id)
    if not found:
        raise UnknownService(f"no Bookly service with id {service_id}")
    return found[0]


def list_services(ctx: GatewayContext, *, staff_id: int | None = None) -> list[Service]:
    """All services, or those offered by one staff member."""
    with reading(ctx.engine) as conn:
        services = fetch_services(conn, ctx.tables)
    if staff_id is None:
        return services
    return [svc for svc in services if staff_id in svc.staff_ids]


def fetch_schedule(conn: sa.Connection, ctx: GatewayContext, staff: StaffMember) -> StaffSchedule:
    """Weekly hours (default location), breaks and holidays of a staff member."""
    t = ctx.tables
    items, brk, hol = t.schedule_items, t.schedule_breaks, t.holidays
    breaks: dict[int, list[Break]] = defaultdict(list)
    rows = conn.execute(
        sa.select(brk.c.staff_schedule_item_id, brk.c.start_time, brk.c.end_time)
        .join(items, items.c.id == brk.c.staff_schedule_item_id)
        .where(items.c.staff_id == staff.id, brk.c.start_time.is_not(None))
    )
    for row in rows:
        breaks[row.staff_schedule_item_id].append(Break(row.start_time, row.end_time))
    days = tuple(
        WorkingDay(row.day_index, row.start_time, row.end_time, tuple(breaks.get(row.id, [])))
        for row in conn.execute(
            sa.select(items)
            .where(items.c.staff_id == staff.id, items.c.location_id.is_(None))
            .order_by(items.c.day_index)
        )
    )
    days_off = tuple(
        DayOff(row.date, bool(row.repeat_event))
        for row in conn.execute(
            sa.select(hol.c.date, hol.c.repeat_event)
            .where(hol.c.staff_id == staff.id)
            .order_by(hol.c.date)
        )
    )
    zone = staff_zone(ctx.settings(conn), staff.time_zone)
    return StaffSchedule(staff.id, zone.name, days, days_off)


def get_schedule(ctx: GatewayContext, staff_id: int) -> StaffSchedule:
    """A staff member's weekly hours, breaks and days off."""
    with reading(ctx.engine) as conn:
        return fetch_schedule(conn, ctx, fetch_staff(conn, ctx.tables, staff_id))


def working_periods(ctx: GatewayContext, staff_id: int, start: Any, end: Any) -> list[TimeWindow]:
    """Working time of a staff member between two aware instants, in UTC."""
    window = TimeWindow(require_aware(start, "start"), require_aware(end, "end"))
    with reading(ctx.engine) as conn:
        staff = fetch_staff(conn, ctx.tables, staff_id)
        schedule = fetch_schedule(conn, ctx, staff)
        zone = staff_zone(ctx.settings(conn), staff.time_zone)
    return working_windows(schedule, zone, window)


def list_appointments(
    ctx: GatewayContext, start: Any, end: Any, *, staff_ids: Sequence[int] | None = None
) -> list[Appointment]:
    """Appointments overlapping ``[start, end)`` with their customer rows and occupancy."""
    window = TimeWindow(require_aware(start, "start"), require_aware(end, "end"))
    with reading(ctx.engine) as conn:
        settings = ctx.settings(conn)
        return load_window(conn, ctx.tables, settings, window, staff_ids=staff_ids)


def appointments_by_id(ctx: GatewayContext, ids: Sequence[int]) -> dict[int, Appointment]:
    """The appointments with these ids that still exist (a deleted one is simply absent)."""
    wanted = sorted({int(i) for i in ids})
    if not wanted:
        return {}
    a = ctx.tables.appointments
    with reading(ctx.engine) as conn:
        found = load_appointments(conn, ctx.tables, ctx.settings(conn), a.c.id.in_(wanted))
    return {ap.id: ap for ap in found}

"""The narrow read behind availability: one connection, a handful of set-based queries.

Reads only what Bookly's slot finder uses for one service and some staff members: the slot
options, the service, who offers it, weekly hours with breaks, days off and the busy time of
appointments (start, effective end and their own service padding). No customer rows are
loaded: an appointment is busy when it has no customer rows (a block) or any busy one,
exactly the finder's ``ca.status IN (busy) OR ca.status IS NULL``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from bookly_client.connection import reading
from bookly_client.errors import BooklyError, UnknownService
from bookly_client.gateway.appointments import DST_MARGIN
from bookly_client.gateway.context import GatewayContext, staff_zone
from bookly_client.models import (
    AvailabilityData,
    Break,
    BusyInterval,
    DayOff,
    SlotRules,
    StaffAvailability,
    StaffSchedule,
    TimeWindow,
    WorkingDay,
)
from bookly_client.site import SiteSettings
from bookly_client.sqltypes import EffectiveEnd, PackedIntegers, WallSeconds
from bookly_client.tables import BooklyTables
from bookly_client.timezone import LocalEpochs, LocalZone, local_epochs, require_aware

DAY = timedelta(days=1)
# Appointments are fetched this far around the window: paddings and the DST margin.
FETCH_MARGIN = DAY


def slot_rules(settings: SiteSettings, service: Any) -> SlotRules:
    """The finder's rules for a service row (slot length, paddings, notice, horizon)."""
    duration = timedelta(seconds=int(service.duration or 0))
    options = settings.slots
    raw = str(service.slot_length or "default")
    if raw == "as_service_duration" or (raw == "default" and options.duration_as_slot_length):
        step = duration
    elif raw.isdigit():
        step = timedelta(seconds=int(raw))
    else:
        step = timedelta(minutes=options.time_slot_minutes)
    pro = settings.pro_active
    if pro and service.min_time_prior_booking is not None:
        notice = timedelta(seconds=int(service.min_time_prior_booking))
    else:
        notice = timedelta(hours=options.min_prior_booking_hours)
    return SlotRules(
        service_id=int(service.id),
        duration=duration,
        slot_length=min(max(step, timedelta(minutes=1)), DAY),
        padding_before=timedelta(seconds=int(service.padding_left or 0) if pro else 0),
        padding_after=timedelta(seconds=int(service.padding_right or 0) if pro else 0),
        min_notice=notice,
        max_days=options.max_days_for_booking,
        site_zone=settings.zone,
    )


def service_slot_rules(conn: sa.Connection, ctx: GatewayContext, service_id: int) -> SlotRules:
    """The slot rules of one service on this site (raises UnknownService)."""
    return slot_rules(ctx.settings(conn), _service_row(conn, ctx.tables, service_id))


def _service_row(conn: sa.Connection, t: BooklyTables, service_id: int) -> Any:
    s = t.services
    row = conn.execute(
        sa.select(
            s.c.id, s.c.duration, s.c.slot_length, s.c.padding_left, s.c.padding_right,
            s.c.min_time_prior_booking,
        ).where(s.c.id == service_id)
    ).first()  # fmt: skip
    if row is None:
        raise UnknownService(f"no Bookly service with id {service_id}")
    return row


def _offering_staff(
    conn: sa.Connection, t: BooklyTables, service_id: int, staff_ids: Sequence[int] | None
) -> dict[int, str | None]:
    """Staff ids (not archived) offering the service at the default location -> time zone."""
    ss, st = t.staff_services, t.staff
    query = (
        sa.select(st.c.id, st.c.time_zone)
        .join(ss, ss.c.staff_id == st.c.id)
        .where(ss.c.service_id == service_id, ss.c.location_id.is_(None))
        .where(st.c.visibility != "archive")
        .order_by(st.c.position, st.c.id)
    )
    if staff_ids is not None:
        query = query.where(st.c.id.in_(list(staff_ids)))
    return {int(row.id): row.time_zone or None for row in conn.execute(query)}


def _weekly_hours(
    conn: sa.Connection, t: BooklyTables, staff_ids: list[int]
) -> dict[int, list[WorkingDay]]:
    items, brk = t.schedule_items, t.schedule_breaks
    rows = conn.execute(
        sa.select(
            items.c.id, items.c.staff_id, items.c.day_index, items.c.start_time,
            items.c.end_time, brk.c.start_time.label("break_start"),
            brk.c.end_time.label("break_end"),
        )
        .select_from(items.outerjoin(brk, brk.c.staff_schedule_item_id == items.c.id))
        .where(items.c.staff_id.in_(staff_ids), items.c.location_id.is_(None))
        .where(items.c.start_time.is_not(None))  # as the finder: a NULL start is a day off
        .order_by(items.c.staff_id, items.c.day_index, items.c.id)
    )  # fmt: skip
    days: dict[int, dict[int, tuple[Any, list[Break]]]] = defaultdict(dict)
    for row in rows:
        # Bookly keeps the first row per weekday (``if ! hasDay``) and its breaks.
        item, breaks = days[row.staff_id].setdefault(row.day_index, (row, []))
        if item.id == row.id and row.break_start is not None and row.break_end is not None:
            breaks.append(Break(row.break_start, row.break_end))
    return {
        staff_id: [
            WorkingDay(item.day_index, item.start_time, item.end_time, tuple(breaks))
            for item, breaks in by_day.values()
        ]
        for staff_id, by_day in days.items()
    }


def _days_off(
    conn: sa.Connection, t: BooklyTables, staff_ids: list[int], window: TimeWindow, zone: LocalZone
) -> dict[int, list[DayOff]]:
    hol = t.holidays
    first = zone.to_local(window.start - DST_MARGIN - DAY).date()
    rows = conn.execute(
        sa.select(hol.c.staff_id, hol.c.date, hol.c.repeat_event).where(
            hol.c.staff_id.in_(staff_ids),
            sa.or_(hol.c.repeat_event == 1, hol.c.date >= first),
        )
    )
    found: dict[int, list[DayOff]] = defaultdict(list)
    for row in rows:
        found[row.staff_id].append(DayOff(row.date, bool(row.repeat_event)))
    return found


def _busy(
    conn: sa.Connection,
    t: BooklyTables,
    settings: SiteSettings,
    staff_ids: list[int],
    window: TimeWindow,
) -> dict[int, list[BusyInterval]]:
    """Busy appointments per staff member, packed into one text per staff member in SQL."""
    a, s, ca = t.appointments, t.services, t.customer_appointments
    zone = settings.zone
    any_customer = sa.exists().where(ca.c.appointment_id == a.c.id)
    busy_customer = sa.exists().where(
        ca.c.appointment_id == a.c.id, ca.c.status.in_(sorted(settings.busy_statuses))
    )
    # Bookly applies service padding only with Pro.
    left = sa.func.coalesce(s.c.padding_left, 0) if settings.pro_active else sa.literal(0)
    right = sa.func.coalesce(s.c.padding_right, 0) if settings.pro_active else sa.literal(0)
    widen = DST_MARGIN + FETCH_MARGIN
    rows = conn.execute(
        sa.select(
            a.c.staff_id,
            sa.func.count(),
            PackedIntegers(
                WallSeconds(a.c.start_date),
                WallSeconds(a.c.end_date) + sa.func.coalesce(a.c.extras_duration, 0),
                left,
                right,
            ),
        )
        .select_from(a.outerjoin(s, s.c.id == a.c.service_id))
        .where(
            a.c.staff_id.in_(staff_ids),
            a.c.start_date.is_not(None),
            a.c.end_date.is_not(None),
            a.c.start_date < zone.to_local(window.end + widen),
            EffectiveEnd(a.c.end_date, a.c.extras_duration) > zone.to_local(window.start - widen),
            sa.or_(~any_customer, busy_customer),
        )
        .group_by(a.c.staff_id)
    )
    epochs = local_epochs(zone)
    found: dict[int, list[BusyInterval]] = {}
    for staff_id, count, packed in rows:
        parts = str(packed).split(";")
        if len(parts) != count:
            raise BooklyError(f"busy time of staff {staff_id} was cut short by the database")
        found[staff_id] = [_interval(epochs, part) for part in parts]
    return found


def _interval(epochs: LocalEpochs, packed: str) -> BusyInterval:
    start, end, left, right = packed.split(",")
    return BusyInterval(
        epochs.of_wall_seconds(int(start)), epochs.of_wall_seconds(int(end)), int(left), int(right)
    )


def read_slot_rules(ctx: GatewayContext, service_id: int) -> SlotRules:
    """The finder's rules for one service (cheap: cached options plus one row)."""
    with reading(ctx.engine) as conn:
        return slot_rules(ctx.settings(conn), _service_row(conn, ctx.tables, service_id))


def read_availability(
    ctx: GatewayContext,
    service_id: int,
    start: Any,
    end: Any,
    *,
    staff_ids: Sequence[int] | None = None,
) -> AvailabilityData:
    """Slot rules, hours, days off and busy time of the staff offering a service."""
    window = TimeWindow(require_aware(start, "start"), require_aware(end, "end"))
    with reading(ctx.engine) as conn:
        settings = ctx.settings(conn)
        rules = slot_rules(settings, _service_row(conn, ctx.tables, service_id))
        offering = _offering_staff(conn, ctx.tables, service_id, staff_ids)
        ids = list(offering)
        if not ids:
            return AvailabilityData(rules, ())
        hours = _weekly_hours(conn, ctx.tables, ids)
        days_off = _days_off(conn, ctx.tables, ids, window, settings.zone)
        busy = _busy(conn, ctx.tables, settings, ids, window)
    staff = []
    for staff_id, time_zone in offering.items():
        zone = staff_zone(settings, time_zone)
        schedule = StaffSchedule(
            staff_id, zone.name, tuple(hours.get(staff_id, ())), tuple(days_off.get(staff_id, ()))
        )
        busy_time = tuple(sorted(busy.get(staff_id, ()), key=lambda b: (b.start, b.end)))
        staff.append(StaffAvailability(staff_id, zone, schedule, busy_time))
    return AvailabilityData(rules, tuple(staff))

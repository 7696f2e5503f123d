"""Cancelling and rescheduling: our bookings by reference, others only by explicit id."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from bookly_client.connection import writing
from bookly_client.errors import UnknownAppointment, ValidationError
from bookly_client.gateway.appointments import load_appointments, local_bounds
from bookly_client.gateway.audit import write_log
from bookly_client.gateway.availability import service_slot_rules
from bookly_client.gateway.bookings import find_by_token
from bookly_client.gateway.context import GatewayContext
from bookly_client.gateway.guards import (
    check_no_overlap,
    check_working_hours,
    lock_staff,
    require_bookable,
)
from bookly_client.models import Appointment, TimeWindow
from bookly_client.timezone import require_aware
from bookly_client.validation import check_reference

log = logging.getLogger(__name__)

CANCELLABLE = ("pending", "approved", "waitlisted")
# Bookly deletes these markers when an appointment moves, so reminders are sent again.
REMINDER_TYPES = ("appointment_reminder", "last_appointment")


def _locate(
    conn: sa.Connection, ctx: GatewayContext, reference: str | None, appointment_id: int | None
) -> tuple[int, int | None]:
    """Appointment id and (for our bookings) our customer-appointment id."""
    if (reference is None) == (appointment_id is None):
        raise ValidationError("pass exactly one of reference or appointment_id")
    if reference is not None:
        found = find_by_token(conn, ctx, check_reference(reference))
        if found is None:
            raise UnknownAppointment("no booking with this reference")
        return found.appointment_id, found.customer_appointment_id
    return int(appointment_id or 0), None


def _appointment_row(conn: sa.Connection, ctx: GatewayContext, appointment_id: int) -> Any:
    a = ctx.tables.appointments
    row = conn.execute(
        sa.select(a.c.id, a.c.staff_id, a.c.start_date, a.c.end_date, a.c.extras_duration).where(
            a.c.id == appointment_id
        )
    ).first()
    if row is None or row.start_date is None or row.end_date is None:
        raise UnknownAppointment(f"no Bookly appointment {appointment_id} with dates")
    return row


def _reload(conn: sa.Connection, ctx: GatewayContext, appointment_id: int) -> Appointment:
    settings = ctx.settings(conn)
    a = ctx.tables.appointments
    return load_appointments(conn, ctx.tables, settings, a.c.id == appointment_id)[0]


def cancel(
    ctx: GatewayContext, *, reference: str | None = None, appointment_id: int | None = None
) -> Appointment:
    """Set busy customer rows to ``cancelled`` (Bookly's default cancel); idempotent."""
    t = ctx.tables
    ca = t.customer_appointments
    with writing(ctx.engine) as conn:
        settings = ctx.settings(conn)
        target_id, our_ca = _locate(conn, ctx, reference, appointment_id)
        lock_staff(conn, ctx, _appointment_row(conn, ctx, target_id).staff_id)
        query = sa.select(ca.c.id, ca.c.status).where(ca.c.appointment_id == target_id)
        rows = conn.execute(query if our_ca is None else query.where(ca.c.id == our_ca)).all()
        if not rows:
            raise ValidationError(f"appointment {target_id} has no customers (a busy block)")
        ids = [row.id for row in rows if row.status in CANCELLABLE]
        now = ctx.now_local(settings)
        if ids:
            change = {"status": "cancelled", "status_changed_at": now, "updated_at": now}
            conn.execute(sa.update(ca).where(ca.c.id.in_(ids)).values(**change))
            conn.execute(
                sa.update(t.appointments)
                .where(t.appointments.c.id == target_id)
                .values(updated_at=now)
            )
            for ca_id in ids:
                write_log(conn, ctx, action="update", table=ca, target_id=ca_id,
                          details=change, now_local=now)  # fmt: skip
        result = _reload(conn, ctx, target_id)
    log.info("cancelled %d customer row(s) of Bookly appointment %s", len(ids), target_id)
    return result


def _reset_reminders(conn: sa.Connection, ctx: GatewayContext, appointment_id: int) -> int:
    t = ctx.tables
    sn, n, ca = t.sent_notifications, t.notifications, t.customer_appointments
    reminder_ids = sa.select(n.c.id).where(n.c.type.in_(REMINDER_TYPES), n.c.active == 1)
    ca_ids = sa.select(ca.c.id).where(ca.c.appointment_id == appointment_id)
    ids = [row.id for row in conn.execute(sa.select(sn.c.id).where(
        sn.c.ref_id.in_(ca_ids), sn.c.notification_id.in_(reminder_ids)
    ))]  # fmt: skip
    if ids:
        conn.execute(sa.delete(sn).where(sn.c.id.in_(ids)))
    return len(ids)


def reschedule(
    ctx: GatewayContext,
    new_start: datetime,
    *,
    reference: str | None = None,
    appointment_id: int | None = None,
    enforce_working_hours: bool = True,
) -> Appointment:
    """Move a booking to ``new_start`` keeping its duration; resets reminder markers."""
    start = require_aware(new_start, "new_start")
    a = ctx.tables.appointments
    with writing(ctx.engine) as conn:
        settings = ctx.settings(conn)
        target_id, _ = _locate(conn, ctx, reference, appointment_id)
        staff = lock_staff(conn, ctx, _appointment_row(conn, ctx, target_id).staff_id)
        row = _appointment_row(conn, ctx, target_id)
        current = _reload(conn, ctx, target_id)
        if current.is_block:
            raise ValidationError(f"appointment {target_id} is a busy block; use move_busy_block")
        require_bookable(staff)
        duration = settings.zone.to_utc(row.end_date) - settings.zone.to_utc(row.start_date)
        slot = TimeWindow(start, start + duration)
        local_start, local_end = local_bounds(settings.zone, slot.start, slot.end)
        if enforce_working_hours:
            grid = (
                service_slot_rules(conn, ctx, current.service_id).slot_length
                if current.service_id is not None
                else None
            )
            check_working_hours(conn, ctx, staff, slot, grid=grid)
        extras = current.end - settings.zone.to_utc(row.end_date)
        padded = TimeWindow(start - current.padding_left, slot.end + extras + current.padding_right)
        check_no_overlap(conn, ctx, settings, staff.id, padded, exclude_id=target_id)
        now = ctx.now_local(settings)
        change = {"start_date": local_start, "end_date": local_end, "updated_at": now}
        conn.execute(sa.update(a).where(a.c.id == target_id).values(**change))
        if local_start != row.start_date:
            _reset_reminders(conn, ctx, target_id)
        write_log(conn, ctx, action="update", table=a, target_id=target_id, details=change,
                  now_local=now)  # fmt: skip
        result = _reload(conn, ctx, target_id)
    log.info("rescheduled Bookly appointment %s", target_id)
    return result

"""Creating bookings the way Bookly's admin dialog writes them, and finding them again."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from bookly_client.connection import reading, writing
from bookly_client.errors import ReferenceConflict, ServiceNotOffered, ValidationError
from bookly_client.gateway.appointments import local_bounds
from bookly_client.gateway.audit import write_log
from bookly_client.gateway.availability import service_slot_rules
from bookly_client.gateway.context import BOOKING_MARKER, GatewayContext
from bookly_client.gateway.guards import (
    check_no_overlap,
    check_working_hours,
    lock_staff,
    require_bookable,
)
from bookly_client.gateway.reads import fetch_service
from bookly_client.models import Booking, CustomerDetails, TimeWindow
from bookly_client.site import SiteSettings
from bookly_client.sqltypes import new_id
from bookly_client.timezone import LocalZone, require_aware
from bookly_client.validation import check_reference, check_status, clean_customer, split_name

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class BookingRequest:
    """Validated input of create_booking."""

    reference: str
    staff_id: int
    service_id: int
    start: datetime
    customer: CustomerDetails
    status: str
    notes: str | None
    enforce_working_hours: bool


def find_by_token(conn: sa.Connection, ctx: GatewayContext, reference: str) -> Booking | None:
    """The booking whose customer-appointment token derives from ``reference``."""
    t, token = ctx.tables, ctx.token_for(reference)
    ca, a = t.customer_appointments, t.appointments
    row = conn.execute(
        sa.select(
            ca.c.id,
            ca.c.customer_id,
            ca.c.status,
            a.c.id.label("appointment_id"),
            a.c.staff_id,
            a.c.service_id,
            a.c.start_date,
            a.c.end_date,
            a.c.extras_duration,
        )  # fmt: skip
        .join(a, a.c.id == ca.c.appointment_id)
        .where(ca.c.token == token)
        .order_by(ca.c.id)
    ).first()
    if row is None:
        return None
    zone = ctx.settings(conn).zone
    return Booking(
        reference=reference,
        appointment_id=row.appointment_id,
        customer_appointment_id=row.id,
        customer_id=row.customer_id,
        staff_id=row.staff_id,
        service_id=row.service_id,
        start=zone.to_utc(row.start_date),
        end=zone.to_utc(row.end_date) + timedelta(seconds=row.extras_duration),
        status=row.status,
        token=token,
        created=False,
    )


def find_booking_by_reference(ctx: GatewayContext, reference: str) -> Booking | None:
    """Look a booking up by our reference (None when it does not exist)."""
    with reading(ctx.engine) as conn:
        return find_by_token(conn, ctx, check_reference(reference))


def _customer_id(conn: sa.Connection, ctx: GatewayContext, who: CustomerDetails, now: Any) -> int:
    """Bookly's rule: reuse the first customer with this e-mail (updated), else create one."""
    c = ctx.tables.customers
    found = conn.execute(
        sa.select(c.c.id, c.c.full_name, c.c.first_name, c.c.last_name, c.c.phone, c.c.email)
        .where(sa.func.lower(c.c.email) == who.email.lower())
        .order_by(c.c.id)
        .limit(1)
    ).first()
    if found is not None:
        _update_customer(conn, ctx, found, who, now)
        return int(found.id)
    first, last = split_name(who.full_name)
    values = {
        "full_name": who.full_name, "first_name": first, "last_name": last,
        "phone": who.phone, "email": who.email, "notes": "", "info_fields": "[]",
        "created_at": now,
    }  # fmt: skip
    created = new_id(conn.execute(sa.insert(c).values(**values)))
    write_log(conn, ctx, action="create", table=c, target_id=created, details=values, now_local=now)
    return created


def _update_customer(
    conn: sa.Connection, ctx: GatewayContext, row: Any, who: CustomerDetails, now: Any
) -> None:
    """What Bookly's booking form does to a returning customer: non-empty values overwrite."""
    first, last = split_name(who.full_name)
    given = {"full_name": who.full_name, "first_name": first, "last_name": last,
             "phone": who.phone, "email": who.email}  # fmt: skip
    changes = {k: v for k, v in given.items() if v != "" and v != getattr(row, k)}
    if not changes:
        return
    c = ctx.tables.customers
    conn.execute(sa.update(c).where(c.c.id == row.id).values(**changes))
    write_log(conn, ctx, action="update", table=c, target_id=row.id, details=changes,
              now_local=now)  # fmt: skip


def _js_offset(time_zone: str | None, at: datetime) -> int | None:
    """Minutes with JavaScript's sign (UTC+2 -> -120), as Bookly stores time_zone_offset."""
    if time_zone is None:
        return None
    offset = at.astimezone(LocalZone.named(time_zone).tz).utcoffset() or timedelta(0)
    return -int(offset.total_seconds() // 60)


def _insert_rows(
    conn: sa.Connection, ctx: GatewayContext, req: BookingRequest, slot: TimeWindow, s: SiteSettings
) -> tuple[int, int, int, str]:
    t, now = ctx.tables, ctx.now_local(s)
    local_start, local_end = local_bounds(s.zone, slot.start, slot.end)
    customer_id = _customer_id(conn, ctx, req.customer, now)
    appt = {
        "location_id": None, "staff_id": req.staff_id, "staff_any": 0,
        "service_id": req.service_id, "custom_service_name": None, "custom_service_price": None,
        "start_date": local_start, "end_date": local_end, "extras_duration": 0,
        "internal_note": BOOKING_MARKER, "created_from": "bookly",
        "created_at": now, "updated_at": now,
    }  # fmt: skip
    appointment_id = new_id(conn.execute(sa.insert(t.appointments).values(**appt)))
    token = ctx.token_for(req.reference)
    ca = {
        "customer_id": customer_id, "appointment_id": appointment_id, "number_of_persons": 1,
        "units": 1, "notes": req.notes, "extras": "[]", "extras_multiply_nop": 1,
        "custom_fields": "[]", "status": req.status, "status_changed_at": now, "token": token,
        "time_zone": req.customer.time_zone,
        "time_zone_offset": _js_offset(req.customer.time_zone, slot.start),
        "locale": None, "created_from": "backend", "created_at": now, "updated_at": now,
    }  # fmt: skip
    ca_id = new_id(conn.execute(sa.insert(t.customer_appointments).values(**ca)))
    write_log(conn, ctx, action="create", table=t.appointments, target_id=appointment_id,
              details=appt, now_local=now)  # fmt: skip
    write_log(conn, ctx, action="create", table=t.customer_appointments, target_id=ca_id,
              details={k: v for k, v in ca.items() if k != "token"}, now_local=now)  # fmt: skip
    return appointment_id, ca_id, customer_id, token


def _existing(conn: sa.Connection, ctx: GatewayContext, req: BookingRequest) -> Booking | None:
    found = find_by_token(conn, ctx, req.reference)
    if found is None:
        return None
    if (found.staff_id, found.service_id, found.start) != (req.staff_id, req.service_id, req.start):
        raise ReferenceConflict(
            f"booking reference already used (appointment {found.appointment_id})"
        )
    return found


def create_booking(ctx: GatewayContext, req: BookingRequest) -> Booking:
    """Validate, lock the staff row, re-check, then insert customer/appointment/CA rows."""
    req = _validated(req)
    with writing(ctx.engine) as conn:
        settings = ctx.settings(conn)
        staff = lock_staff(conn, ctx, req.staff_id)
        again = _existing(conn, ctx, req)
        if again is not None and again.status != "cancelled":
            return again
        require_bookable(staff)
        service = fetch_service(conn, ctx.tables, req.service_id)
        if req.staff_id not in service.staff_ids:
            raise ServiceNotOffered(
                f"staff member {req.staff_id} does not offer service {service.id}"
            )
        if service.type != "simple":
            raise ValidationError(f"service {service.id} is a {service.type} service")
        slot = TimeWindow(req.start, req.start + service.duration)
        local_bounds(settings.zone, slot.start, slot.end)
        if req.enforce_working_hours:
            grid = service_slot_rules(conn, ctx, service.id).slot_length
            check_working_hours(conn, ctx, staff, slot, grid=grid)
        pads = (
            (service.padding_left, service.padding_right)
            if settings.pro_active
            else (timedelta(0),) * 2
        )
        check_no_overlap(
            conn, ctx, settings, staff.id, TimeWindow(slot.start - pads[0], slot.end + pads[1])
        )
        if again is not None:  # given up earlier with this reference: the same slot again
            _revive(conn, ctx, again, req.status, settings)
            log.info("re-opened Bookly appointment %s (staff %s)", again.appointment_id,
                     req.staff_id)  # fmt: skip
            return replace(again, status=req.status, created=True)
        appointment_id, ca_id, customer_id, token = _insert_rows(conn, ctx, req, slot, settings)
    log.info("created Bookly appointment %s (staff %s)", appointment_id, req.staff_id)
    return Booking(req.reference, appointment_id, ca_id, customer_id, req.staff_id,
                   req.service_id, slot.start, slot.end, req.status, token)  # fmt: skip


def _revive(
    conn: sa.Connection, ctx: GatewayContext, booking: Booking, status: str, settings: SiteSettings
) -> None:
    """Set a cancelled customer row of ours back to ``status``, as an admin would in wp-admin.

    A request whose rows were cancelled because our own commit failed (the slot taken by a
    concurrent booking, a database that stayed busy) may be retried with the same reference;
    the slot has been re-checked by the caller, so the rows are used again instead of being
    returned cancelled or duplicated.
    """
    t = ctx.tables
    now = ctx.now_local(settings)
    change = {"status": status, "status_changed_at": now, "updated_at": now}
    ca = t.customer_appointments
    conn.execute(sa.update(ca).where(ca.c.id == booking.customer_appointment_id).values(**change))
    conn.execute(
        sa.update(t.appointments)
        .where(t.appointments.c.id == booking.appointment_id)
        .values(updated_at=now)
    )
    write_log(conn, ctx, action="update", table=ca, target_id=booking.customer_appointment_id,
              details=change, now_local=now)  # fmt: skip


def _validated(req: BookingRequest) -> BookingRequest:
    return BookingRequest(
        reference=check_reference(req.reference),
        staff_id=req.staff_id,
        service_id=req.service_id,
        start=require_aware(req.start, "start"),
        customer=clean_customer(req.customer),
        status=check_status(req.status),
        notes=req.notes,
        enforce_working_hours=req.enforce_working_hours,
    )

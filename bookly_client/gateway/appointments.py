"""Loading appointments with their customer rows and classifying them like Bookly does."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from bookly_client.gateway.context import is_our_note
from bookly_client.models import Appointment, CustomerAppointment, Occupancy, TimeWindow
from bookly_client.site import SiteSettings
from bookly_client.sqltypes import EffectiveEnd
from bookly_client.tables import BooklyTables
from bookly_client.timezone import LocalZone

# Naive local times are not ordered like instants around DST changes; widen SQL windows by
# this much and filter exactly in UTC afterwards.
DST_MARGIN = timedelta(hours=3)


def classify(statuses: Iterable[str], busy_statuses: frozenset[str]) -> Occupancy:
    """Busy when there are no customer rows (a block) or any row has a busy status."""
    seen = list(statuses)
    if not seen or any(status in busy_statuses for status in seen):
        return Occupancy.BUSY
    return Occupancy.FREE


def _customers(
    conn: sa.Connection, t: BooklyTables, zone: LocalZone, ids: Sequence[int]
) -> dict[int, list[CustomerAppointment]]:
    ca, c = t.customer_appointments, t.customers
    found: dict[int, list[CustomerAppointment]] = defaultdict(list)
    if not ids:
        return found
    query = (
        sa.select(
            ca.c.id,
            ca.c.appointment_id,
            ca.c.customer_id,
            ca.c.status,
            ca.c.number_of_persons,
            ca.c.created_from,
            ca.c.updated_at,
            c.c.full_name,
            c.c.email,
        )  # fmt: skip
        .select_from(ca.outerjoin(c, c.c.id == ca.c.customer_id))
        .where(ca.c.appointment_id.in_(ids))
        .order_by(ca.c.id)
    )
    for row in conn.execute(query):
        found[row.appointment_id].append(
            CustomerAppointment(
                id=row.id,
                customer_id=row.customer_id,
                status=row.status,
                number_of_persons=row.number_of_persons,
                created_from=row.created_from,
                updated_at=zone.to_utc(row.updated_at),
                customer_name=row.full_name or "",
                customer_email=row.email or "",
            )
        )
    return found


def load_appointments(
    conn: sa.Connection, t: BooklyTables, settings: SiteSettings, *where: Any
) -> list[Appointment]:
    """Appointments matching ``where`` (rows without dates are skipped), oldest first."""
    a, s = t.appointments, t.services
    query = (
        sa.select(
            a.c.id,
            a.c.staff_id,
            a.c.service_id,
            a.c.custom_service_name,
            s.c.title,
            a.c.start_date,
            a.c.end_date,
            a.c.extras_duration,
            s.c.padding_left,
            s.c.padding_right,
            a.c.created_from,
            a.c.updated_at,
            a.c.internal_note,
        )  # fmt: skip
        .select_from(a.outerjoin(s, s.c.id == a.c.service_id))
        .where(a.c.start_date.is_not(None), a.c.end_date.is_not(None), *where)
        .order_by(a.c.start_date, a.c.id)
    )
    rows = conn.execute(query).all()
    customers = _customers(conn, t, settings.zone, [row.id for row in rows])
    return [_build(row, customers.get(row.id, []), settings) for row in rows]


def _build(row: Any, customers: list[CustomerAppointment], settings: SiteSettings) -> Appointment:
    zone = settings.zone
    with_padding = settings.pro_active  # Bookly applies service padding only with Pro
    return Appointment(
        id=row.id,
        staff_id=row.staff_id,
        service_id=row.service_id,
        title=row.title if row.service_id is not None else (row.custom_service_name or ""),
        start=zone.to_utc(row.start_date),
        end=zone.to_utc(row.end_date) + timedelta(seconds=row.extras_duration or 0),
        padding_left=timedelta(seconds=(row.padding_left or 0) if with_padding else 0),
        padding_right=timedelta(seconds=(row.padding_right or 0) if with_padding else 0),
        created_from=row.created_from,
        updated_at=zone.to_utc(row.updated_at),
        customers=tuple(customers),
        occupancy=classify((c.status for c in customers), settings.busy_statuses),
        is_ours=is_our_note(row.internal_note),
    )


def load_window(
    conn: sa.Connection,
    t: BooklyTables,
    settings: SiteSettings,
    window: TimeWindow,
    *,
    staff_ids: Sequence[int] | None = None,
    margin: timedelta = timedelta(0),
) -> list[Appointment]:
    """Appointments whose effective interval (grown by ``margin``) overlaps ``window``."""
    a = t.appointments
    zone = settings.zone
    widen = DST_MARGIN + margin
    where: list[Any] = [
        a.c.start_date < zone.to_local(window.end + widen),
        EffectiveEnd(a.c.end_date, a.c.extras_duration) > zone.to_local(window.start - widen),
    ]
    if staff_ids is not None:
        where.append(a.c.staff_id.in_(list(staff_ids)))
    found = load_appointments(conn, t, settings, *where)
    grown = TimeWindow(window.start - margin, window.end + margin)
    return [ap for ap in found if TimeWindow(ap.start, ap.end).overlaps(grown)]


def max_padding(conn: sa.Connection, t: BooklyTables) -> timedelta:
    """The largest padding_left + padding_right of any service."""
    s = t.services
    total = conn.execute(sa.select(sa.func.max(s.c.padding_left + s.c.padding_right))).scalar()
    return timedelta(seconds=int(total or 0))


def local_bounds(zone: LocalZone, start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """Naive local start/end for a booking; both must read back exactly."""
    return zone.to_local_exact(start, "start"), zone.to_local_exact(end, "end")

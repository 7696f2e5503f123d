"""Change feed: Bookly's log since a cursor, and a fingerprint reconciliation of a window.

The log misses raw-SQL edits, FK cascades (deleting a service deletes its appointments) and
anything older than ``bookly_logs_expire`` days, so callers run ``reconcile`` periodically.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from bookly_client.connection import reading
from bookly_client.gateway.appointments import load_appointments, load_window
from bookly_client.gateway.context import GatewayContext
from bookly_client.models import (
    Appointment,
    AppointmentChange,
    ChangeBatch,
    ChangeKind,
    LogEntry,
    Reconciliation,
    TimeWindow,
)
from bookly_client.timezone import require_aware

MAX_BATCH = 5000


def fingerprint(appointment: Appointment) -> str:
    """Stable digest of what matters to a calendar: times, staff, service, statuses, updates."""
    parts: list[Any] = [
        appointment.start.isoformat(), appointment.end.isoformat(), appointment.staff_id,
        appointment.service_id, appointment.title, appointment.updated_at.isoformat(),
        [(c.id, c.status, c.number_of_persons, c.updated_at.isoformat())
         for c in appointment.customers],
    ]  # fmt: skip
    encoded = json.dumps(parts, separators=(",", ":"), default=str).encode()
    return hashlib.sha256(encoded).hexdigest()[:40]


def _appointment_of(row: Any, ca_parents: Mapping[int, int]) -> int | None:
    if row.target.endswith("bookly_appointments"):
        return int(row.target_id) if row.target_id is not None else None
    try:
        details = json.loads(row.details or "{}")
        if isinstance(details, dict) and details.get("appointment_id") is not None:
            return int(details["appointment_id"])
    except (ValueError, TypeError):
        pass
    return ca_parents.get(row.target_id)


def changes_since(ctx: GatewayContext, cursor: int, *, limit: int = 500) -> ChangeBatch:
    """Log rows about appointments and customer-appointments with ``id > cursor``."""
    t = ctx.tables
    lg, ca = t.log, t.customer_appointments
    names = (t.appointments.name, ca.name)
    with reading(ctx.engine) as conn:
        zone = ctx.settings(conn).zone
        rows = conn.execute(
            sa.select(lg.c.id, lg.c.action, lg.c.target, lg.c.target_id, lg.c.author,
                      lg.c.details, lg.c.created_at)
            .where(lg.c.id > cursor, lg.c.target.in_(names))
            .order_by(lg.c.id).limit(max(1, min(limit, MAX_BATCH)))
        ).all()  # fmt: skip
        ca_ids = [r.target_id for r in rows if r.target == ca.name and r.target_id is not None]
        parents = dict(
            conn.execute(sa.select(ca.c.id, ca.c.appointment_id).where(ca.c.id.in_(ca_ids))).all()
        )
    entries = tuple(
        LogEntry(
            id=row.id,
            action=row.action or "",
            table="appointments" if row.target == names[0] else "customer_appointments",
            target_id=row.target_id or 0,
            appointment_id=_appointment_of(row, parents),
            author=row.author or "",
            created_at=zone.to_utc(row.created_at),
        )
        for row in rows
    )
    return ChangeBatch(entries, entries[-1].id if entries else cursor)


def latest_cursor(ctx: GatewayContext) -> int:
    """The newest log id (start a feed here to skip history)."""
    with reading(ctx.engine) as conn:
        return int(conn.execute(sa.select(sa.func.max(ctx.tables.log.c.id))).scalar() or 0)


def _outside(
    conn: sa.Connection, ctx: GatewayContext, ids: Sequence[int]
) -> dict[int, Appointment | None]:
    """For ids not in the window: still existing (moved away) or gone."""
    a = ctx.tables.appointments
    if not ids:
        return {}
    existing = {int(i) for i in conn.execute(sa.select(a.c.id).where(a.c.id.in_(ids))).scalars()}
    loaded = {
        ap.id: ap
        for ap in load_appointments(conn, ctx.tables, ctx.settings(conn), a.c.id.in_(existing))
    }
    return {i: loaded.get(i) if i in existing else None for i in ids}


def reconcile(
    ctx: GatewayContext,
    known: Mapping[int, str],
    start: datetime,
    end: datetime,
    *,
    staff_ids: Sequence[int] | None = None,
) -> Reconciliation:
    """Compare stored fingerprints with the rows now in the window (added/changed/removed)."""
    window = TimeWindow(require_aware(start, "start"), require_aware(end, "end"))
    with reading(ctx.engine) as conn:
        current = load_window(conn, ctx.tables, ctx.settings(conn), window, staff_ids=staff_ids)
        now_by_id = {ap.id: ap for ap in current}
        gone = _outside(conn, ctx, sorted(set(known) - set(now_by_id)))
    prints = {ap.id: fingerprint(ap) for ap in current}
    changes = [
        AppointmentChange(ap.id, ChangeKind.ADDED if ap.id not in known else ChangeKind.CHANGED,
                          prints[ap.id], ap)
        for ap in current
        if known.get(ap.id) != prints[ap.id]
    ]  # fmt: skip
    for appointment_id, moved in gone.items():
        if moved is None:
            changes.append(AppointmentChange(appointment_id, ChangeKind.REMOVED, None, None))
        else:
            changes.append(
                AppointmentChange(appointment_id, ChangeKind.CHANGED, fingerprint(moved), moved)
            )
    return Reconciliation(tuple(changes), prints)

"""Busy blocks: appointments with no service and no customer, which Bookly's finder honours.

We mark our rows with an internal-note marker and never write ``created_from='google'``
(Bookly's own Google sync deletes such rows on a full resync).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from bookly_client.connection import reading, writing
from bookly_client.errors import ForeignRow, UnknownAppointment, ValidationError
from bookly_client.gateway.appointments import load_window
from bookly_client.gateway.audit import write_log
from bookly_client.gateway.context import BLOCK_MARKER, GatewayContext, is_our_note
from bookly_client.gateway.guards import lock_staff
from bookly_client.models import BusyBlock, TimeWindow
from bookly_client.site import SiteSettings
from bookly_client.sqltypes import new_id
from bookly_client.timezone import require_aware
from bookly_client.validation import check_label

log = logging.getLogger(__name__)


def _window(start: datetime, end: datetime) -> TimeWindow:
    window = TimeWindow(require_aware(start, "start"), require_aware(end, "end"))
    if window.end <= window.start:
        raise ValidationError("a busy block must end after it starts")
    return window


def _local(settings: SiteSettings, window: TimeWindow) -> tuple[datetime, datetime]:
    """Widen to representable local times so the block covers at least ``window``."""
    zone = settings.zone
    return zone.to_local_floor(window.start), zone.to_local_ceil(window.end)


def _block(row: Any, settings: SiteSettings) -> BusyBlock:
    zone = settings.zone
    return BusyBlock(
        id=row.id,
        staff_id=row.staff_id,
        start=zone.to_utc(row.start_date),
        end=zone.to_utc(row.end_date),
        label=row.custom_service_name or "",
        is_ours=is_our_note(row.internal_note),
    )


def _block_row(conn: sa.Connection, ctx: GatewayContext, block_id: int) -> Any | None:
    a, ca = ctx.tables.appointments, ctx.tables.customer_appointments
    return conn.execute(
        sa.select(
            a.c.id, a.c.staff_id, a.c.service_id, a.c.start_date, a.c.end_date,
            a.c.custom_service_name, a.c.internal_note, a.c.created_from,
            sa.select(sa.func.count(ca.c.id)).where(ca.c.appointment_id == a.c.id)
            .scalar_subquery().label("customers"),
        ).where(a.c.id == block_id)
    ).first()  # fmt: skip


def _check_ours(row: Any, allow_foreign: bool) -> None:
    if row.service_id is not None or row.customers:
        raise ValidationError(f"appointment {row.id} is a booking, not a busy block")
    if not allow_foreign and (not is_our_note(row.internal_note) or row.created_from != "bookly"):
        raise ForeignRow(f"busy block {row.id} was not created by us; pass allow_foreign=True")


def create_busy_block(
    ctx: GatewayContext, staff_id: int, start: datetime, end: datetime, *, label: str = "Busy"
) -> BusyBlock:
    """Insert a busy block for a staff member (no overlap check: busy time is a fact)."""
    window, label = _window(start, end), check_label(label)
    a = ctx.tables.appointments
    with writing(ctx.engine) as conn:
        settings = ctx.settings(conn)
        lock_staff(conn, ctx, staff_id)
        local_start, local_end = _local(settings, window)
        now = ctx.now_local(settings)
        values = {
            "location_id": None, "staff_id": staff_id, "staff_any": 0, "service_id": None,
            "custom_service_name": label, "custom_service_price": None,
            "start_date": local_start, "end_date": local_end, "extras_duration": 0,
            "internal_note": BLOCK_MARKER, "created_from": "bookly",
            "created_at": now, "updated_at": now,
        }  # fmt: skip
        block_id = new_id(conn.execute(sa.insert(a).values(**values)))
        write_log(conn, ctx, action="create", table=a, target_id=block_id, details=values,
                  now_local=now)  # fmt: skip
        block = _block(_block_row(conn, ctx, block_id), settings)
    log.info("created busy block %s for staff %s", block_id, staff_id)
    return block


def move_busy_block(
    ctx: GatewayContext, block_id: int, start: datetime, end: datetime, *, allow_foreign: bool
) -> BusyBlock:
    """Change a busy block's times (only ours unless ``allow_foreign``)."""
    window = _window(start, end)
    a = ctx.tables.appointments
    with writing(ctx.engine) as conn:
        settings = ctx.settings(conn)
        row = _block_row(conn, ctx, block_id)
        if row is None:
            raise UnknownAppointment(f"no Bookly appointment {block_id}")
        lock_staff(conn, ctx, row.staff_id)
        _check_ours(row, allow_foreign)
        local_start, local_end = _local(settings, window)
        now = ctx.now_local(settings)
        change = {"start_date": local_start, "end_date": local_end, "updated_at": now}
        conn.execute(sa.update(a).where(a.c.id == block_id).values(**change))
        write_log(conn, ctx, action="update", table=a, target_id=block_id, details=change,
                  now_local=now)  # fmt: skip
        return _block(_block_row(conn, ctx, block_id), settings)


def delete_busy_block(ctx: GatewayContext, block_id: int, *, allow_foreign: bool) -> bool:
    """Delete a busy block; False when it is already gone."""
    a = ctx.tables.appointments
    with writing(ctx.engine) as conn:
        settings = ctx.settings(conn)
        row = _block_row(conn, ctx, block_id)
        if row is None:
            return False
        lock_staff(conn, ctx, row.staff_id)
        _check_ours(row, allow_foreign)
        conn.execute(sa.delete(a).where(a.c.id == block_id))
        write_log(conn, ctx, action="delete", table=a, target_id=block_id, details={},
                  now_local=ctx.now_local(settings))  # fmt: skip
    log.info("deleted busy block %s", block_id)
    return True


def list_busy_blocks(
    ctx: GatewayContext,
    start: datetime,
    end: datetime,
    *,
    staff_ids: Sequence[int] | None = None,
    only_ours: bool = True,
) -> list[BusyBlock]:
    """Busy blocks (rows without service and customers) overlapping the window."""
    window = _window(start, end)
    with reading(ctx.engine) as conn:
        settings = ctx.settings(conn)
        found = load_window(conn, ctx.tables, settings, window, staff_ids=staff_ids)
    return [
        BusyBlock(ap.id, ap.staff_id, ap.start, ap.end, ap.title, ap.is_ours)
        for ap in found
        if ap.is_block and ap.service_id is None and (ap.is_ours or not only_ours)
    ]

"""Rows in ``{prefix}bookly_log`` so Bookly's Logs page shows what we changed."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from bookly_client.gateway.context import AUTHOR, GatewayContext

REF = "bookly_client (calendar-bridge)"


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date | Decimal):
        return str(value)
    if isinstance(value, timedelta):
        return int(value.total_seconds())
    return value


def write_log(
    conn: sa.Connection,
    ctx: GatewayContext,
    *,
    action: str,
    table: sa.Table,
    target_id: int,
    details: Mapping[str, Any],
    now_local: datetime,
) -> None:
    """Insert one log row (when logging is enabled); ``details`` are the changed fields."""
    if not ctx.write_log:
        return
    conn.execute(
        sa.insert(ctx.tables.log).values(
            action=action,
            target=table.name,
            target_id=target_id,
            author=AUTHOR,
            details=json.dumps({k: _plain(v) for k, v in details.items()}, sort_keys=True),
            ref=REF,
            comment=None,
            created_at=now_local,
        )
    )

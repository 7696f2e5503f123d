"""Conversions between Cronofy's wire formats (ISO times, dates, durations) and Python values."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

JsonObject = dict[str, Any]


def require_aware(value: datetime, name: str) -> datetime:
    """Return ``value`` in UTC, refusing naive datetimes (their zone would be a guess)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return value.astimezone(UTC)


def format_time(value: datetime, name: str = "time") -> str:
    """Format an aware datetime as Cronofy's UTC Time (``2031-03-04T09:30:00Z``)."""
    return require_aware(value, name).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_date_or_time(value: date | datetime, name: str = "time") -> str:
    """Format a Date (all-day) or an aware datetime."""
    if isinstance(value, datetime):
        return format_time(value, name)
    return value.isoformat()


def parse_time(value: str) -> datetime:
    """Parse a Cronofy Time (``...Z`` or an offset) into an aware UTC datetime."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("Cronofy time without zone")
    return parsed.astimezone(UTC)


def parse_date_or_time(value: object) -> date | datetime:
    """Parse a Time, a Date (kept as ``date`` for all-day events) or a ``{"time", "tzid"}``."""
    if isinstance(value, Mapping):
        return parse_time(str(value["time"]))
    text = str(value)
    if len(text) == 10:
        return date.fromisoformat(text)
    return parse_time(text)


def optional_time(value: object) -> datetime | None:
    """Parse an optional Time field."""
    return parse_time(str(value)) if value else None


def minutes(value: timedelta) -> JsonObject:
    """Cronofy duration object ``{"minutes": n}`` (whole minutes only)."""
    total = value.total_seconds()
    if total < 0 or total % 60:
        raise ValueError("durations must be a non-negative whole number of minutes")
    return {"minutes": int(total // 60)}


def tuple_of_str(value: object) -> tuple[str, ...]:
    """Read an optional JSON list of strings."""
    if not isinstance(value, list):
        return ()
    return tuple(str(v) for v in value)

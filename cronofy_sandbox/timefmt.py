"""Cronofy's time formats: UTC Times with seconds, Dates, and {"time", "tzid"} objects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class TimeFormatError(ValueError):
    """A value is not a Cronofy Time, Date or time object."""


# Cronofy does not document the range it accepts ([INF]). The sandbox keeps every Time and
# Date within these years so that shifting by any time zone or by the read window (42 days
# back, 201 ahead) can never leave Python's datetime range (years 1–9999).
EARLIEST = date(1900, 1, 1)
LATEST = date(2199, 12, 31)
# Durations (required_duration, buffers, start_interval) longer than a year are refused.
MAX_DURATION_MINUTES = 366 * 24 * 60


def _in_range(day: date, value: object) -> None:
    if not EARLIEST <= day <= LATEST:
        raise TimeFormatError(
            f"{value!r} is outside {EARLIEST.year}-{LATEST.year}, the years the sandbox supports"
        )


@dataclass(frozen=True, slots=True)
class EventTime:
    """An event boundary: an aware UTC instant or an all-day date."""

    instant: datetime | None = None
    day: date | None = None
    tzid: str | None = None

    @property
    def all_day(self) -> bool:
        """True for Date values (all-day events)."""
        return self.day is not None

    def stored(self) -> str:
        """The text kept in the database (ISO Time or Date)."""
        if self.day is not None:
            return self.day.isoformat()
        if self.instant is None:
            raise TimeFormatError("neither a time nor a date")
        return format_time(self.instant)


def now() -> datetime:
    """The current time, aware UTC."""
    return datetime.now(UTC)


def format_time(value: datetime) -> str:
    """Format as Cronofy does: `2031-03-04T09:30:00Z`."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: object) -> datetime:
    """Parse an ISO-8601 Time (Z or offset) into aware UTC."""
    if not isinstance(value, str) or "T" not in value:
        raise TimeFormatError(f"not a time: {value!r}")
    text = value.replace("UTC", "Z")
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise TimeFormatError(f"not a time: {value!r}") from exc
    if parsed.tzinfo is None:
        raise TimeFormatError(f"time without zone: {value!r}")
    _in_range(parsed.date(), value)
    return parsed.astimezone(UTC)


def parse_date(value: object) -> date:
    """Parse a `YYYY-MM-DD` Date."""
    if not isinstance(value, str):
        raise TimeFormatError(f"not a date: {value!r}")
    try:
        day = date.fromisoformat(value)
    except ValueError as exc:
        raise TimeFormatError(f"not a date: {value!r}") from exc
    _in_range(day, value)
    return day


def parse_event_time(value: object) -> EventTime:
    """Parse an event start/end: Time, Date or {"time": Time, "tzid": zone}."""
    if isinstance(value, dict):
        tzid = value.get("tzid")
        if tzid is not None:
            zone(tzid)
        inner = parse_event_time(value.get("time"))
        return EventTime(inner.instant, inner.day, tzid if isinstance(tzid, str) else None)
    if isinstance(value, str) and "T" not in value:
        return EventTime(day=parse_date(value))
    return EventTime(instant=parse_time(value))


def zone(tzid: object) -> ZoneInfo:
    """Return the IANA zone named `tzid` or raise TimeFormatError."""
    if not isinstance(tzid, str) or not tzid:
        raise TimeFormatError("tzid missing")
    try:
        return ZoneInfo(tzid)
    # OSError: a name too long for the file system the zone database lives on.
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise TimeFormatError(f"unknown tzid {tzid!r}") from exc


def stored_to_instant(text: str, tzid: str = "Etc/UTC") -> datetime:
    """Turn a stored Time or Date into an aware UTC instant (Dates at midnight in `tzid`)."""
    if "T" in text:
        return parse_time(text)
    day = date.fromisoformat(text)
    return datetime(day.year, day.month, day.day, tzinfo=zone(tzid)).astimezone(UTC)


def day_start(day: date, tzid: str) -> datetime:
    """Midnight of `day` in `tzid`, as aware UTC."""
    return datetime(day.year, day.month, day.day, tzinfo=zone(tzid)).astimezone(UTC)


def minutes(value: object) -> timedelta:
    """Parse a duration object {"minutes": N} (or {"hours": N}) into a timedelta."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = {"minutes": value}
    if not isinstance(value, dict):
        raise TimeFormatError("duration must be an object")
    total = 0
    for key, factor in (("minutes", 1), ("hours", 60)):
        amount = value.get(key, 0)
        if not isinstance(amount, int) or isinstance(amount, bool) or amount < 0:
            raise TimeFormatError(f"{key} must be a non-negative integer")
        total += amount * factor
    if total > MAX_DURATION_MINUTES:
        raise TimeFormatError(f"a duration may be at most {MAX_DURATION_MINUTES} minutes")
    return timedelta(minutes=total)

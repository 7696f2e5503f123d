""" "Why not this slot?": every reason a start is not offered, for the instructor and admins.

Bookly's side is computed from the same rules as the offer (slots.py); the calendar's side
comes from one free/busy read of that day (start and end of busy time only, never titles).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bookly_client import BooklyError, BooklyGateway, SlotRules, StaffAvailability, TimeWindow
from cronofy_client import CronofyClient, CronofyError
from webapp.models import User
from webapp.services.availability.results import AvailabilityUnavailable
from webapp.services.availability.slots import horizon_day, working_ranges
from webapp.services.bookings.calendar_check import busy_periods, overlaps, usable
from webapp.services.connection_errors import NotConnected, ReconnectRequired

log = logging.getLogger(__name__)


class ReasonCode(StrEnum):
    """Why a start is not offered."""

    PAST = "past"
    NOTICE = "notice"
    HORIZON = "horizon"
    DAY_OFF = "day_off"
    OUTSIDE_HOURS = "outside_hours"
    BREAK = "break"
    NOT_ON_GRID = "not_on_grid"
    BOOKLY_APPOINTMENT = "bookly_appointment"
    PADDING = "padding"
    CALENDAR_BUSY = "calendar_busy"
    BUFFER = "buffer"
    CALENDAR_NOT_CHECKED = "calendar_not_checked"


@dataclass(frozen=True, slots=True)
class Reason:
    """One reason, with words for a person."""

    code: ReasonCode
    message: str


@dataclass(frozen=True, slots=True)
class Explanation:
    """The verdict on one start: offered, or every reason it is not."""

    start: datetime
    end: datetime
    reasons: tuple[Reason, ...]

    @property
    def offered(self) -> bool:
        """True when nothing stands in the way (a calendar that was not checked aside)."""
        return all(r.code is ReasonCode.CALENDAR_NOT_CHECKED for r in self.reasons)


def _minutes(value: timedelta) -> str:
    return f"{int(value.total_seconds() // 60)} minutes"


def _time_reasons(rules: SlotRules, start: datetime, now: datetime, day_ok: bool) -> list[Reason]:
    found = []
    if start < now:
        found.append(Reason(ReasonCode.PAST, "this time has already passed"))
    elif start < now + rules.min_notice:
        found.append(
            Reason(ReasonCode.NOTICE, f"bookings need {_minutes(rules.min_notice)} notice")
        )
    if not day_ok:
        found.append(
            Reason(ReasonCode.HORIZON, f"bookings open at most {rules.max_days} days ahead")
        )
    return found


def _hours_reasons(staff: StaffAvailability, rules: SlotRules, start: datetime) -> list[Reason]:
    end = start + rules.duration
    day = staff.zone.to_local(start).date()
    ranges = working_ranges(staff, day - timedelta(days=1), day)
    inside = [r for r in ranges if r.start <= start and end <= r.end]
    if inside:
        step = rules.slot_length
        if any((start - r.start) % step == timedelta(0) for r in inside):
            return []
        first = inside[0].start.astimezone(staff.zone.tz).strftime("%H:%M")
        return [
            Reason(
                ReasonCode.NOT_ON_GRID,
                f"slots start every {_minutes(step)} from {first}; pick one of those times",
            )
        ]
    if staff.schedule.is_day_off(day) and not any(r.end > start for r in ranges):
        return [Reason(ReasonCode.DAY_OFF, f"{day:%A %d %B} is a day off")]
    hours = staff.schedule.day(day)
    if hours is not None and hours.start is not None and hours.end is not None:
        midnight = datetime.combine(day, datetime.min.time())
        day_start = staff.zone.to_utc(midnight + hours.start)
        day_end = staff.zone.to_utc(midnight + hours.end)
        if day_start <= start and end <= day_end:
            return [Reason(ReasonCode.BREAK, "the lesson would run into a break")]
    return [Reason(ReasonCode.OUTSIDE_HOURS, "outside working hours")]


def _appointment_reasons(
    staff: StaffAvailability, rules: SlotRules, start: datetime
) -> list[Reason]:
    slot = TimeWindow(start, start + rules.duration)
    padded = TimeWindow(start - rules.padding_before, slot.end + rules.padding_after)
    if any(b.window.overlaps(slot) for b in staff.busy):
        return [Reason(ReasonCode.BOOKLY_APPOINTMENT, "another Bookly appointment at that time")]
    if any(b.padded.overlaps(padded) for b in staff.busy):
        return [
            Reason(
                ReasonCode.PADDING,
                "too close to another Bookly appointment (padding between lessons)",
            )
        ]
    return []


def bookly_reasons(
    staff: StaffAvailability, rules: SlotRules, start: datetime, now: datetime
) -> list[Reason]:
    """Why Bookly's own form would not offer ``start`` (empty when it would)."""
    day_ok = staff.zone.to_local(start).date() < horizon_day(rules, now)
    return [
        *_time_reasons(rules, start, now, day_ok),
        *_hours_reasons(staff, rules, start),
        *_appointment_reasons(staff, rules, start),
    ]


def _calendar_reasons(
    cronofy: CronofyClient, instructor: User, rules: SlotRules, start: datetime
) -> list[Reason]:
    connection = instructor.connection
    if connection is None or not usable(connection):
        return [Reason(ReasonCode.CALENDAR_NOT_CHECKED, "schedule only: calendar not checked")]
    slot_end = start + rules.duration
    wide_start, wide_end = start - rules.padding_before, slot_end + rules.padding_after
    first, last = wide_start.date(), wide_end.date() + timedelta(days=1)
    try:
        periods = busy_periods(cronofy, connection, first, last)
    except (NotConnected, ReconnectRequired, CronofyError) as exc:
        log.info("why-not free/busy read failed: %s", type(exc).__name__)
        return [Reason(ReasonCode.CALENDAR_NOT_CHECKED, "the calendar could not be read just now")]
    if any(overlaps(p, start, slot_end) for p in periods):
        return [Reason(ReasonCode.CALENDAR_BUSY, "the calendar shows busy time then")]
    if any(overlaps(p, wide_start, wide_end) for p in periods):
        return [Reason(ReasonCode.BUFFER, "busy time in the calendar too close before or after")]
    return []


def explain(
    cronofy: CronofyClient,
    bookly: BooklyGateway | None,
    *,
    instructor: User,
    service_id: int,
    start: datetime,
) -> Explanation:
    """Every reason ``start`` is not offered to book ``service_id`` with ``instructor``."""
    if bookly is None or instructor.bookly_staff_id is None:
        raise AvailabilityUnavailable("this instructor has no Bookly schedule to explain")
    window = (start - timedelta(days=1), start + timedelta(days=1))
    try:
        data = bookly.availability_data(service_id, *window, staff_ids=[instructor.bookly_staff_id])
    except BooklyError as exc:
        raise AvailabilityUnavailable("Bookly could not be read just now") from exc
    rules = data.rules
    if not data.staff:
        reasons = (Reason(ReasonCode.OUTSIDE_HOURS, "this instructor does not offer the service"),)
        return Explanation(start, start + rules.duration, reasons)
    found = bookly_reasons(data.staff[0], rules, start, bookly.now())
    found += _calendar_reasons(cronofy, instructor, rules, start)
    return Explanation(start, start + rules.duration, tuple(found))

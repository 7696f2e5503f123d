"""Frozen dataclasses returned by the gateway. All datetimes are aware UTC."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import date as Date
from decimal import Decimal
from enum import StrEnum

from bookly_client.timezone import LocalZone


class Occupancy(StrEnum):
    """Whether an appointment blocks the staff member's time, as Bookly's slot finder decides."""

    BUSY = "busy"
    FREE = "free"


class ChangeKind(StrEnum):
    """What reconciliation found for one appointment."""

    ADDED = "added"
    CHANGED = "changed"
    REMOVED = "removed"


@dataclass(frozen=True, slots=True)
class StaffMember:
    """One Bookly staff member (instructor)."""

    id: int
    full_name: str
    email: str
    phone: str
    time_zone: str | None
    visibility: str
    wp_user_id: int | None
    has_own_calendar_sync: bool = False


@dataclass(frozen=True, slots=True)
class ServiceOffer:
    """A staff member's offer of a service (``staff_services`` row, default location)."""

    staff_id: int
    price: Decimal
    capacity_min: int
    capacity_max: int


@dataclass(frozen=True, slots=True)
class Service:
    """A Bookly service with the staff members offering it."""

    id: int
    title: str
    type: str
    duration: timedelta
    padding_left: timedelta
    padding_right: timedelta
    price: Decimal
    capacity_max: int
    visibility: str
    offers: tuple[ServiceOffer, ...] = ()

    @property
    def staff_ids(self) -> tuple[int, ...]:
        """Ids of the staff members offering this service."""
        return tuple(offer.staff_id for offer in self.offers)


@dataclass(frozen=True, slots=True)
class Break:
    """A break inside a working day, as offsets from local midnight."""

    start: timedelta
    end: timedelta


@dataclass(frozen=True, slots=True)
class WorkingDay:
    """Hours for one weekday; ``day_index`` 1 = Sunday ... 7 = Saturday; no start = day off."""

    day_index: int
    start: timedelta | None
    end: timedelta | None
    breaks: tuple[Break, ...] = ()

    @property
    def is_day_off(self) -> bool:
        """True when the staff member does not work on this weekday."""
        return self.start is None or self.end is None or self.end <= self.start


@dataclass(frozen=True, slots=True)
class DayOff:
    """A holiday; ``repeats_yearly`` matches the same month-day every year."""

    date: Date
    repeats_yearly: bool

    def matches(self, day: Date) -> bool:
        """True when this holiday falls on ``day``."""
        if self.repeats_yearly:
            return (self.date.month, self.date.day) == (day.month, day.day)
        return self.date == day


@dataclass(frozen=True, slots=True)
class StaffSchedule:
    """Weekly hours, breaks and days off; times are wall times in ``time_zone``."""

    staff_id: int
    time_zone: str
    days: tuple[WorkingDay, ...]
    days_off: tuple[DayOff, ...]

    def day(self, day: date) -> WorkingDay | None:
        """The weekly hours that apply on ``day`` (None when no row exists)."""
        index = day.isoweekday() % 7 + 1
        return next((d for d in self.days if d.day_index == index), None)

    def is_day_off(self, day: date) -> bool:
        """True on a holiday or a weekday without hours."""
        weekday = self.day(day)
        return weekday is None or weekday.is_day_off or any(h.matches(day) for h in self.days_off)


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """A half-open interval ``[start, end)`` in aware UTC."""

    start: datetime
    end: datetime

    def overlaps(self, other: TimeWindow) -> bool:
        """True when the two half-open intervals share any instant."""
        return self.start < other.end and other.start < self.end

    def contains(self, other: TimeWindow) -> bool:
        """True when ``other`` lies inside this window."""
        return self.start <= other.start and other.end <= self.end


@dataclass(frozen=True, slots=True)
class CustomerAppointment:
    """One customer's place in an appointment (a ``customer_appointments`` row)."""

    id: int
    customer_id: int
    status: str
    number_of_persons: int
    created_from: str
    updated_at: datetime
    customer_name: str = ""
    customer_email: str = ""


@dataclass(frozen=True, slots=True)
class Appointment:
    """A Bookly appointment; ``end`` includes ``extras_duration`` (Bookly's effective end)."""

    id: int
    staff_id: int
    service_id: int | None
    title: str
    start: datetime
    end: datetime
    padding_left: timedelta
    padding_right: timedelta
    created_from: str
    updated_at: datetime
    customers: tuple[CustomerAppointment, ...]
    occupancy: Occupancy
    is_ours: bool = False

    @property
    def is_block(self) -> bool:
        """True for a row without customers (a busy block, counted as one busy booking)."""
        return not self.customers

    @property
    def is_busy(self) -> bool:
        """True when the appointment blocks time."""
        return self.occupancy is Occupancy.BUSY

    @property
    def busy_window(self) -> TimeWindow:
        """The time blocked including the service's padding before and after."""
        return TimeWindow(self.start - self.padding_left, self.end + self.padding_right)


@dataclass(frozen=True, slots=True)
class CustomerDetails:
    """Who is booking: found by e-mail in Bookly's customers, else created."""

    email: str
    full_name: str
    phone: str = ""
    time_zone: str | None = None


@dataclass(frozen=True, slots=True)
class Booking:
    """A booking this client created (appointment + customer-appointment)."""

    reference: str
    appointment_id: int
    customer_appointment_id: int
    customer_id: int
    staff_id: int
    service_id: int
    start: datetime
    end: datetime
    status: str
    token: str = field(repr=False)
    created: bool = True


@dataclass(frozen=True, slots=True)
class BusyBlock:
    """A busy block (appointment without service and customers)."""

    id: int
    staff_id: int
    start: datetime
    end: datetime
    label: str
    is_ours: bool


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One ``bookly_log`` row about an appointment or customer-appointment."""

    id: int
    action: str
    table: str
    target_id: int
    appointment_id: int | None
    author: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ChangeBatch:
    """Log entries after a cursor; pass ``cursor`` to the next call."""

    entries: tuple[LogEntry, ...]
    cursor: int

    @property
    def appointment_ids(self) -> frozenset[int]:
        """Appointments touched by these entries."""
        return frozenset(e.appointment_id for e in self.entries if e.appointment_id is not None)


@dataclass(frozen=True, slots=True)
class AppointmentChange:
    """A difference between stored fingerprints and the current Bookly rows."""

    appointment_id: int
    kind: ChangeKind
    fingerprint: str | None
    appointment: Appointment | None


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """Result of a window reconciliation; ``fingerprints`` is the new state to store."""

    changes: tuple[AppointmentChange, ...]
    fingerprints: dict[int, str]

    def of_kind(self, kind: ChangeKind) -> tuple[int, ...]:
        """Appointment ids with the given kind of change."""
        return tuple(c.appointment_id for c in self.changes if c.kind is kind)


@dataclass(frozen=True, slots=True)
class CompatibilityReport:
    """Outcome of the start-up check when it passed."""

    db_version: str
    site_time_zone: str
    table_prefix: str
    warnings: tuple[str, ...] = ()
    staff_with_own_sync: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class SlotRules:
    """How Bookly's booking form cuts one service into slots on this site.

    ``slot_length`` is the grid step (counted from the start of each working range);
    paddings are the service's own (Bookly applies them only with Pro active, else zero);
    ``min_notice`` and ``max_days`` are the minimum time prior to booking and the horizon in
    days, counted from the site's local today (``site_zone``).
    """

    service_id: int
    duration: timedelta
    slot_length: timedelta
    padding_before: timedelta
    padding_after: timedelta
    min_notice: timedelta
    max_days: int
    site_zone: LocalZone


@dataclass(frozen=True, slots=True)
class BusyInterval:
    """A busy appointment: effective start and end as UTC epoch seconds, and its own service
    padding in seconds (zero without Pro). Seconds, because availability sorts and compares
    thousands of them per view."""

    start: int
    end: int
    padding_before: int = 0
    padding_after: int = 0

    @classmethod
    def of(
        cls,
        start: datetime,
        end: datetime,
        padding_before: timedelta = timedelta(0),
        padding_after: timedelta = timedelta(0),
    ) -> BusyInterval:
        """Build from aware datetimes and timedeltas."""
        return cls(
            int(start.timestamp()),
            math.ceil(end.timestamp()),
            int(padding_before.total_seconds()),
            int(padding_after.total_seconds()),
        )

    @property
    def window(self) -> TimeWindow:
        """The appointment's own time."""
        return TimeWindow(_utc(self.start), _utc(self.end))

    @property
    def padded(self) -> TimeWindow:
        """The time the appointment blocks, its padding included."""
        return TimeWindow(
            _utc(self.start - self.padding_before), _utc(self.end + self.padding_after)
        )


def _utc(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


@dataclass(frozen=True, slots=True)
class StaffAvailability:
    """What the slot finder needs of one staff member: hours in ``zone`` and busy time."""

    staff_id: int
    zone: LocalZone
    schedule: StaffSchedule
    busy: tuple[BusyInterval, ...]  # busy appointments, oldest first


@dataclass(frozen=True, slots=True)
class AvailabilityData:
    """Everything availability reads from Bookly for one service, some staff and a window."""

    rules: SlotRules
    staff: tuple[StaffAvailability, ...]  # only staff members offering the service

"""The "My availability" week grid: an instructor's offered starts per service, in their zone."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa

from bookly_client import BooklyError, BooklyGateway, Service
from cronofy_client import CronofyClient
from webapp.extensions import db
from webapp.models import Role, User
from webapp.services.availability.cache import AvailabilityCache
from webapp.services.availability.finder import AvailabilityRequest, find_availability
from webapp.services.availability.results import (
    AvailabilityUnavailable,
    InvalidAvailabilityRequest,
    ScheduleOnly,
)
from webapp.services.availability.slots import horizon_instant

# Rows always shown (an instructor sees "why not?" for a normal working day even when empty).
DEFAULT_ROWS = tuple(time(hour) for hour in range(8, 19))
NOT_LINKED = "Not linked to a Bookly staff member yet: ask your administrator."


@dataclass(frozen=True, slots=True)
class WeekGrid:
    """Everything the page shows."""

    instructor: User
    zone: str
    services: tuple[Service, ...]
    service_id: int | None
    week_start: date
    days: tuple[date, ...] = ()
    rows: tuple[time, ...] = ()
    offered: frozenset[tuple[date, time]] = frozenset()
    schedule_only: tuple[ScheduleOnly, ...] = ()
    problem: str | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def previous_week(self) -> date:
        """Monday of the week before."""
        return self.week_start - timedelta(days=7)

    @property
    def next_week(self) -> date:
        """Monday of the week after."""
        return self.week_start + timedelta(days=7)


def viewable_instructor(viewer: User, instructor_id: int | None) -> User | None:
    """The instructor whose page ``viewer`` may see: themself, or (admins) one of their
    organisation's instructors; None when not allowed or unknown."""
    if not viewer.is_admin:
        return viewer if instructor_id in (None, viewer.id) else None
    if instructor_id is None:
        return None
    found = db.session.get(User, instructor_id)
    if found is None or found.organisation_id != viewer.organisation_id:
        return None
    return found if found.role is Role.INSTRUCTOR else None


def organisation_instructors(admin: User) -> list[User]:
    """Instructors an admin may look at."""
    return list(
        db.session.scalars(
            sa.select(User)
            .where(User.organisation_id == admin.organisation_id, User.role == Role.INSTRUCTOR)
            .order_by(User.name, User.email)
        )
    )


def user_zone(user: User) -> ZoneInfo:
    """The person's zone (UTC when the stored name is unknown)."""
    try:
        return ZoneInfo(user.time_zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def monday_of(day: date) -> date:
    """The Monday starting ``day``'s week."""
    return day - timedelta(days=day.weekday())


def week_grid(
    cronofy: CronofyClient,
    bookly: BooklyGateway | None,
    cache: AvailabilityCache,
    *,
    instructor: User,
    service_id: int | None,
    week_of: date | None,
) -> WeekGrid:
    """One week of the instructor's offered starts for one of their services."""
    zone = user_zone(instructor)
    today = datetime.now(UTC).astimezone(zone).date()
    empty = WeekGrid(instructor, zone.key, (), None, monday_of(week_of or today))
    if bookly is None or instructor.bookly_staff_id is None:
        return replace(empty, problem=NOT_LINKED)
    try:
        services = tuple(bookly.list_services(staff_id=instructor.bookly_staff_id))
        now = bookly.now()
    except BooklyError:
        return replace(empty, problem="Bookly could not be read just now. Reload in a minute.")
    monday = monday_of(week_of or now.astimezone(zone).date())
    chosen = service_id if any(s.id == service_id for s in services) else None
    if chosen is None and services:
        chosen = services[0].id
    base = WeekGrid(instructor, zone.key, services, chosen, monday,
                    days=tuple(monday + timedelta(days=i) for i in range(7)))  # fmt: skip
    if chosen is None:
        return replace(base, problem="You offer no Bookly services yet.")
    return _fill(cronofy, bookly, cache, base, chosen, zone, now)


def _fill(
    cronofy: CronofyClient,
    bookly: BooklyGateway,
    cache: AvailabilityCache,
    grid: WeekGrid,
    service_id: int,
    zone: ZoneInfo,
    now: datetime,
) -> WeekGrid:
    start = datetime.combine(grid.week_start, time(), zone)
    end = datetime.combine(grid.next_week, time(), zone)
    horizon = horizon_instant(bookly.slot_rules(service_id), now)
    notes: list[str] = []
    if end > horizon:
        end = max(horizon, start)
        notes.append(f"Bookings open until {horizon.astimezone(zone):%a %d %b %H:%M}.")
    if end <= start:
        return replace(grid, rows=DEFAULT_ROWS, notes=tuple(notes))
    request = AvailabilityRequest(service_id, (grid.instructor,), start, end)
    try:
        view = find_availability(cronofy, bookly, cache, request)
    except (InvalidAvailabilityRequest, AvailabilityUnavailable) as exc:
        return replace(grid, rows=DEFAULT_ROWS, problem=str(exc))
    offered = frozenset(
        (local.date(), local.time())
        for local in (slot.start.astimezone(zone) for slot in view.slots)
    )
    rows = tuple(sorted({t for _, t in offered} | set(DEFAULT_ROWS)))
    return replace(
        grid, rows=rows, offered=offered, schedule_only=view.schedule_only, notes=tuple(notes)
    )

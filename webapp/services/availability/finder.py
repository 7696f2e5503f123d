"""Availability of one service for one instructor or "any": Bookly, then one Cronofy query.

Order of work: validate (nothing cached on bad input) -> cache -> one narrow Bookly read ->
Bookly's own starts per instructor -> one Cronofy Availability query for the connected ones
-> merge with the schedule-only ones -> cache. Everything is aware UTC; the caller converts
to the viewer's zone.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bookly_client import (
    AvailabilityData,
    BooklyError,
    BooklyGateway,
    SlotRules,
    TimeWindow,
    UnknownService,
)
from cronofy_client import CronofyClient, CronofyError
from webapp.models import CalendarConnection, ConnectionStatus, User
from webapp.services.availability.cache import AvailabilityCache
from webapp.services.availability.calendar_query import (
    MAX_RESULTS,
    CalendarMember,
    build_query,
    free_starts,
)
from webapp.services.availability.results import (
    AvailabilityUnavailable,
    AvailabilityView,
    InvalidAvailabilityRequest,
    ScheduleOnly,
    ScheduleOnlyReason,
    Slot,
)
from webapp.services.availability.slots import horizon_instant, instant, offered_epochs

log = logging.getLogger(__name__)

MAX_WINDOW = timedelta(days=31)


@dataclass(frozen=True, slots=True)
class AvailabilityRequest:
    """A view: a service, the instructors to consider, a window (aware)."""

    service_id: int
    instructors: tuple[User, ...]
    start: datetime
    end: datetime
    any_instructor: bool = False


def _connection_state(user: User) -> tuple[str, ...]:
    conn = user.connection
    if conn is None:
        return (str(user.id), str(user.bookly_staff_id), "none")
    return (
        str(user.id), str(user.bookly_staff_id), conn.status.value, conn.cronofy_sub,
        ",".join(sorted(conn.conflict_calendar_ids or ())),
    )  # fmt: skip


def cache_key(request: AvailabilityRequest) -> str:
    """The view's key: service, window and each instructor's calendar settings."""
    parts = [
        str(request.service_id),
        request.start.isoformat(),
        request.end.isoformat(),
        *("/".join(_connection_state(u)) for u in request.instructors),
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def validate_span(start: datetime, end: datetime) -> None:
    """Raise InvalidAvailabilityRequest for a window that is empty or too long."""
    if end <= start:
        raise InvalidAvailabilityRequest({"to": "must be after from"})
    if end - start > MAX_WINDOW:
        raise InvalidAvailabilityRequest(
            {"to": f"the window may span at most {MAX_WINDOW.days} days"}
        )


def validate_horizon(rules: SlotRules, start: datetime, end: datetime, now: datetime) -> None:
    """Raise InvalidAvailabilityRequest for a window reaching past the booking horizon."""
    problems: dict[str, str] = {}
    horizon = horizon_instant(rules, now)
    if start >= horizon:
        problems["from"] = (
            f"bookings open at most {rules.max_days} days ahead (until {horizon.isoformat()})"
        )
    elif end > horizon:
        problems["to"] = (
            f"bookings open at most {rules.max_days} days ahead; use {horizon.isoformat()} "
            "or earlier"
        )
    if problems:
        raise InvalidAvailabilityRequest(problems)


def schedule_only_reason(conn: CalendarConnection | None) -> ScheduleOnlyReason | None:
    """Why availability cannot consult this connection's calendar; None when it can."""
    if conn is None:
        return ScheduleOnlyReason.NOT_CONNECTED
    if conn.status is ConnectionStatus.NEEDS_RECONNECT:
        return ScheduleOnlyReason.NEEDS_RECONNECT
    if conn.status is ConnectionStatus.REVOKED:
        return ScheduleOnlyReason.REVOKED
    return None


def find_availability(
    cronofy: CronofyClient,
    bookly: BooklyGateway | None,
    cache: AvailabilityCache,
    request: AvailabilityRequest,
) -> AvailabilityView:
    """Slots of a service for the requested instructors; one Cronofy query when uncached."""
    if bookly is None:
        raise AvailabilityUnavailable("Bookly is not configured")
    validate_span(request.start, request.end)
    instructors = tuple(u for u in request.instructors if u.bookly_staff_id is not None)
    if not request.any_instructor and not instructors:
        raise InvalidAvailabilityRequest({"instructor": "has no Bookly staff member linked"})
    ids = tuple(u.id for u in instructors)
    key = cache_key(request)
    found = cache.lookup(key, ids)
    if found.payload is not None:
        return AvailabilityView.from_payload(
            found.payload,
            service_id=request.service_id,
            window=(request.start, request.end),
            instructor_ids=ids,
        )
    now = bookly.now()
    data = _read(bookly, request, instructors)
    validate_horizon(data.rules, request.start, request.end, now)
    view, cacheable = _compute(cronofy, data, request, instructors, now)
    if cacheable:
        cache.put(key, found.generations, view.to_payload())
    return view


def _read(
    bookly: BooklyGateway, request: AvailabilityRequest, instructors: Sequence[User]
) -> AvailabilityData:
    """The one Bookly read of the view (rules, hours, days off, busy time)."""
    staff_ids = [u.bookly_staff_id for u in instructors if u.bookly_staff_id is not None]
    try:
        return bookly.availability_data(
            request.service_id, request.start, request.end, staff_ids=staff_ids
        )
    except UnknownService as exc:
        raise InvalidAvailabilityRequest(
            {"service": f"no service with id {request.service_id}"}, not_found=True
        ) from exc
    except BooklyError as exc:
        raise AvailabilityUnavailable("Bookly could not be read just now") from exc


def _offered(
    data: AvailabilityData,
    request: AvailabilityRequest,
    instructors: Sequence[User],
    now: datetime,
) -> dict[int, list[int]]:
    """Instructor id -> Bookly's own starts (epoch seconds), for those offering the service."""
    window = TimeWindow(request.start, request.end)
    by_staff = {u.bookly_staff_id: u for u in instructors if u.bookly_staff_id is not None}
    offered = {
        by_staff[staff.staff_id].id: offered_epochs(staff, data.rules, window, now)
        for staff in data.staff
    }
    if not request.any_instructor and not offered:
        raise InvalidAvailabilityRequest({"instructor": "does not offer this service"})
    return offered


def _compute(
    cronofy: CronofyClient,
    data: AvailabilityData,
    request: AvailabilityRequest,
    instructors: Sequence[User],
    now: datetime,
) -> tuple[AvailabilityView, bool]:
    rules = data.rules
    offered = _offered(data, request, instructors, now)
    users = [u for u in instructors if u.id in offered]
    schedule_only: list[ScheduleOnly] = []
    members: list[CalendarMember] = []
    for user in users:
        reason = schedule_only_reason(user.connection)
        if reason is not None:
            schedule_only.append(ScheduleOnly(user.id, reason))
        elif offered[user.id] and user.connection is not None:
            conn = user.connection
            members.append(
                CalendarMember(
                    user.id,
                    conn.cronofy_sub,
                    tuple(conn.conflict_calendar_ids or ()),
                    tuple(offered[user.id]),
                )
            )
    confirmed: dict[int, set[int]] = {s.instructor_id: set(offered[s.instructor_id])
                                      for s in schedule_only}  # fmt: skip
    cacheable = True
    if members:
        try:
            answer = cronofy.availability(build_query(members, rules))
            if len(answer) >= MAX_RESULTS:
                # Cronofy stops at max_results: later starts are left out (never offered
                # wrongly, but missing). A shorter window avoids it.
                log.warning("availability answer hit max_results (%d slots)", MAX_RESULTS)
            confirmed.update(free_starts(members, answer, rules.duration))
        except CronofyError as exc:
            log.warning("availability query failed (%s); schedule only", type(exc).__name__)
            cacheable = False
            for member in members:
                schedule_only.append(
                    ScheduleOnly(member.instructor_id, ScheduleOnlyReason.CALENDAR_UNREACHABLE)
                )
                confirmed[member.instructor_id] = set(member.starts)
    return _view(request, rules, users, confirmed, schedule_only), cacheable


def _view(
    request: AvailabilityRequest,
    rules: SlotRules,
    users: Sequence[User],
    confirmed: dict[int, set[int]],
    schedule_only: Sequence[ScheduleOnly],
) -> AvailabilityView:
    who: dict[int, list[int]] = {}
    for user_id in sorted(confirmed):
        for start in confirmed[user_id]:
            who.setdefault(start, []).append(user_id)
    length = int(rules.duration.total_seconds())
    slots = tuple(
        Slot(instant(start), instant(start + length), tuple(ids))
        for start, ids in sorted(who.items())
    )
    return AvailabilityView(
        service_id=request.service_id,
        window_start=request.start,
        window_end=request.end,
        instructor_ids=tuple(u.id for u in users),
        slots=slots,
        schedule_only=tuple(sorted(schedule_only, key=lambda s: s.instructor_id)),
    )


def drop_cached(cache: AvailabilityCache, instructor_ids: Sequence[int]) -> None:
    """Forget cached availability of these instructors (after a change that affects it)."""
    cache.drop(instructor_ids)
    log.debug("availability cache dropped for %s", json.dumps(list(instructor_ids)))

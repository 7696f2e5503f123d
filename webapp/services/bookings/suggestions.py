"""The next free slots to offer when the chosen one was just taken (reusing availability)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bookly_client import BooklyGateway
from cronofy_client import CronofyClient
from webapp.extensions import db
from webapp.models import User
from webapp.services.availability.cache import AvailabilityCache, InProcessStore
from webapp.services.availability.finder import AvailabilityRequest, find_availability
from webapp.services.availability.results import AvailabilityError, Slot
from webapp.services.bookings.errors import SlotTaken

log = logging.getLogger(__name__)

LOOK_AHEAD = timedelta(days=7)
DEFAULT_COUNT = 5


def _fresh() -> AvailabilityCache:
    """No caching: the slot was just taken, so a cached view may still offer it."""
    return AvailabilityCache(InProcessStore(), ttl_seconds=0)


def next_free_slots(
    cronofy: CronofyClient, bookly: BooklyGateway, taken: SlotTaken, *, count: int = DEFAULT_COUNT
) -> list[Slot]:
    """Up to ``count`` free starts of the same instructor and service after the taken one."""
    found = free_slots_after(
        cronofy, bookly, taken.instructor_id, taken.service_id, taken.start, count=count + 1
    )
    return [slot for slot in found if slot.start != taken.start][:count]


def free_slots_after(
    cronofy: CronofyClient,
    bookly: BooklyGateway,
    instructor_id: int,
    service_id: int,
    after: datetime,
    *,
    count: int = DEFAULT_COUNT,
) -> list[Slot]:
    """Up to ``count`` free starts in the week from ``after`` (live, uncached)."""
    instructor = db.session.get(User, instructor_id)
    if instructor is None:
        return []
    if instructor.connection is not None:  # loaded now: the availability query runs detached
        db.session.expunge(instructor.connection)
    db.session.expunge(instructor)
    db.session.rollback()  # no database connection is held across the Cronofy query
    start = max(after, bookly.now())
    request = AvailabilityRequest(
        service_id=service_id, instructors=(instructor,), start=start, end=start + LOOK_AHEAD
    )
    try:
        view = find_availability(cronofy, bookly, _fresh(), request)
    except AvailabilityError as exc:
        log.info("no free slots to offer (%s)", type(exc).__name__)
        return []
    return list(view.slots[:count])

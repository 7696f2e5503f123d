"""``GET /api/v1/availability``: free slots of one instructor, or of any, for a service."""

from __future__ import annotations

from http import HTTPStatus
from zoneinfo import ZoneInfo

from webapp.availability_cache import get_availability_cache
from webapp.clients import get_clients
from webapp.models import User
from webapp.services import catalogue
from webapp.services.availability.finder import AvailabilityRequest, find_availability
from webapp.services.availability.results import (
    AvailabilityUnavailable,
    AvailabilityView,
    InvalidAvailabilityRequest,
)
from webapp.views.api.base import bp, organisation_id
from webapp.views.api.errors import ApiError, unknown_instructor
from webapp.views.api.openapi import endpoint
from webapp.views.api.schemas import (
    AvailabilityQuery,
    AvailabilityResponse,
    ScheduleOnlyNotice,
    SlotOut,
)


@bp.get("/availability")
@endpoint(
    response=AvailabilityResponse,
    errors=[HTTPStatus.NOT_FOUND, HTTPStatus.SERVICE_UNAVAILABLE],
    tags=["availability"],
)
def availability(query: AvailabilityQuery) -> AvailabilityResponse:
    """Bookable starts in ``[from, to)`` in the zone ``tz``, with who is free for each."""
    request = AvailabilityRequest(
        query.service,
        tuple(_instructors(query.instructor)),
        query.from_,
        query.to,
        any_instructor=query.instructor == "any",
    )
    clients = get_clients()
    try:
        view = find_availability(
            clients.cronofy_in_request, clients.bookly, get_availability_cache(), request
        )
    except InvalidAvailabilityRequest as exc:
        status = 404 if exc.not_found else 422
        raise ApiError(status, "This availability cannot be given; see fields.",
                       fields=exc.fields) from exc  # fmt: skip
    except AvailabilityUnavailable as exc:
        raise ApiError(503, f"{exc} Try again in a minute.") from exc
    return _response(view, ZoneInfo(query.tz))


def _instructors(choice: int | str) -> list[User]:
    if choice == "any":
        return catalogue.organisation_instructors(organisation_id())
    try:
        return [catalogue.find_instructor(organisation_id(), int(choice))]
    except catalogue.UnknownInstructor as exc:
        raise unknown_instructor() from exc


def _response(view: AvailabilityView, zone: ZoneInfo) -> AvailabilityResponse:
    return AvailabilityResponse(
        slots=[
            SlotOut(
                start=slot.start.astimezone(zone),
                end=slot.end.astimezone(zone),
                instructors=list(slot.instructor_ids),
            )
            for slot in view.slots
        ],
        schedule_only=[notice.instructor_id for notice in view.schedule_only],
        notices=[
            ScheduleOnlyNotice(
                instructor=notice.instructor_id,
                reason=notice.reason.value,
                message=notice.message,
            )
            for notice in view.schedule_only
        ],
    )

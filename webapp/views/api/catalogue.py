"""``GET /api/v1/instructors`` and ``GET /api/v1/services``: what the organisation offers."""

from __future__ import annotations

import logging
from http import HTTPStatus

from bookly_client import BooklyUnavailable
from webapp.clients import get_clients
from webapp.services import catalogue
from webapp.views.api.base import bp, organisation_id
from webapp.views.api.errors import ApiError, unknown_instructor
from webapp.views.api.openapi import endpoint
from webapp.views.api.schemas import (
    InstructorOut,
    InstructorsResponse,
    ServiceOut,
    ServicesQuery,
    ServicesResponse,
)

log = logging.getLogger(__name__)

BOOKLY_DOWN = "Bookly cannot be reached right now; try again in a minute."


@bp.get("/instructors")
@endpoint(response=InstructorsResponse, tags=["catalogue"])
def instructors() -> InstructorsResponse:
    """The organisation's instructors, with whether their calendar is checked."""
    return InstructorsResponse(
        instructors=[
            InstructorOut(id=i.id, name=i.name, time_zone=i.time_zone, calendar=i.calendar)
            for i in catalogue.list_instructors(organisation_id())
        ]
    )


@bp.get("/services")
@endpoint(
    response=ServicesResponse,
    errors=[HTTPStatus.NOT_FOUND, HTTPStatus.SERVICE_UNAVAILABLE],
    tags=["catalogue"],
)
def services(query: ServicesQuery) -> ServicesResponse:
    """Bookly services the organisation's instructors offer, and who offers each."""
    bookly = get_clients().bookly
    if bookly is None:
        raise ApiError(503, "No Bookly site is configured for this bridge.", code="no_bookly")
    try:
        offered = catalogue.list_services(bookly, organisation_id(), instructor_id=query.instructor)
    except catalogue.UnknownInstructor as exc:
        raise unknown_instructor() from exc
    except BooklyUnavailable as exc:
        raise ApiError(503, BOOKLY_DOWN) from exc
    return ServicesResponse(
        services=[
            ServiceOut(
                id=s.id,
                title=s.title,
                duration_minutes=s.duration_minutes,
                instructors=list(s.instructor_ids),
            )
            for s in offered
        ]
    )

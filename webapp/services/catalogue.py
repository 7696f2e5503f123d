"""What an organisation offers: its instructors and the Bookly services they give.

Everything here is scoped to one organisation: another tenant's instructors, and Bookly
services none of this organisation's instructors offer, are never returned.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from bookly_client import BooklyGateway
from webapp.extensions import db
from webapp.models import CalendarConnection, Role, User
from webapp.services.availability.finder import schedule_only_reason

log = logging.getLogger(__name__)


class CalendarState(StrEnum):
    """Whether an instructor's availability can consult their calendar."""

    CONNECTED = "connected"
    # Missing, needs_reconnect or revoked: the Bookly schedule alone (double-booking risk).
    SCHEDULE_ONLY = "schedule_only"


class UnknownInstructor(LookupError):
    """No active instructor with this id in this organisation."""


@dataclass(frozen=True, slots=True)
class InstructorSummary:
    """One instructor as the API shows them."""

    id: int
    name: str
    time_zone: str
    calendar: CalendarState


@dataclass(frozen=True, slots=True)
class ServiceSummary:
    """One Bookly service and which of the organisation's instructors offer it."""

    id: int
    title: str
    duration_minutes: int
    instructor_ids: tuple[int, ...]


def calendar_state(connection: CalendarConnection | None) -> CalendarState:
    """Connected only when availability can consult the calendar (the same rule it applies)."""
    if schedule_only_reason(connection) is None:
        return CalendarState.CONNECTED
    return CalendarState.SCHEDULE_ONLY


def _instructors_query(organisation_id: int) -> sa.Select[User]:
    return (
        sa.select(User)
        .where(
            User.organisation_id == organisation_id,
            User.role == Role.INSTRUCTOR,
            User.active.is_(True),
        )
        .options(selectinload(User.connection))
        .order_by(User.id)
    )


def organisation_instructors(organisation_id: int) -> list[User]:
    """The organisation's active instructors, connections loaded, by id."""
    return list(db.session.scalars(_instructors_query(organisation_id)))


def find_instructor(organisation_id: int, instructor_id: int) -> User:
    """One active instructor of the organisation; UnknownInstructor otherwise."""
    user = db.session.scalar(_instructors_query(organisation_id).where(User.id == instructor_id))
    if user is None:
        raise UnknownInstructor(f"no instructor {instructor_id} in this organisation")
    return user


def list_instructors(organisation_id: int) -> list[InstructorSummary]:
    """The organisation's instructors with their time zone and calendar state."""
    return [
        InstructorSummary(
            id=user.id,
            name=user.name or user.email,
            time_zone=user.time_zone,
            calendar=calendar_state(user.connection),
        )
        for user in organisation_instructors(organisation_id)
    ]


def list_services(
    bookly: BooklyGateway, organisation_id: int, *, instructor_id: int | None = None
) -> list[ServiceSummary]:
    """Bookly services offered by at least one of the organisation's instructors.

    Staff members are matched to instructors by ``bookly_staff_id``; unlinked staff and
    other organisations' instructors are left out. With ``instructor_id``, only the services
    that instructor offers (UnknownInstructor when not one of the organisation's).
    """
    if instructor_id is not None:
        find_instructor(organisation_id, instructor_id)
    by_staff = {
        user.bookly_staff_id: user.id
        for user in organisation_instructors(organisation_id)
        if user.bookly_staff_id is not None
    }
    summaries = []
    for service in bookly.list_services():
        instructor_ids = tuple(
            sorted(by_staff[staff] for staff in service.staff_ids if staff in by_staff)
        )
        if instructor_ids and (instructor_id is None or instructor_id in instructor_ids):
            summaries.append(
                ServiceSummary(
                    id=service.id,
                    title=service.title,
                    duration_minutes=int(service.duration.total_seconds() // 60),
                    instructor_ids=instructor_ids,
                )
            )
    return summaries

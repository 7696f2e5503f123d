"""The demo organisation used by ``make run`` (never part of a production configuration)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from webapp.extensions import db
from webapp.models import Role, User
from webapp.security import hash_password
from webapp.services import accounts

log = logging.getLogger(__name__)

DEMO_ORGANISATION = "Demo School"
ADMIN_PASSWORD = "demo-admin"  # noqa: S105 - published demo login, seeded only on request
INSTRUCTOR_PASSWORD = "demo-instructor"  # noqa: S105 - published demo login


@dataclass(frozen=True, slots=True)
class DemoPerson:
    """One seeded login."""

    email: str
    name: str
    role: Role
    password: str


DEMO_PEOPLE: tuple[DemoPerson, ...] = (
    DemoPerson("admin@demo.test", "Demo Admin", Role.ADMIN, ADMIN_PASSWORD),
    DemoPerson("ada@demo.test", "Ada Lovelace", Role.INSTRUCTOR, INSTRUCTOR_PASSWORD),
    DemoPerson("grace@demo.test", "Grace Hopper", Role.INSTRUCTOR, INSTRUCTOR_PASSWORD),
    DemoPerson("alan@demo.test", "Alan Turing", Role.INSTRUCTOR, INSTRUCTOR_PASSWORD),
)


class StaffMember(Protocol):
    """What the seed needs from a Bookly staff row."""

    @property
    def id(self) -> int:
        """Bookly's staff id."""

    @property
    def email(self) -> str:
        """The staff member's e-mail."""

    @property
    def time_zone(self) -> str | None:
        """The staff member's IANA time zone, if set."""


@dataclass(frozen=True, slots=True)
class SeedResult:
    """What the seed created or linked."""

    created: tuple[str, ...]
    linked: tuple[str, ...]


def seed_demo(staff: Iterable[StaffMember] = ()) -> SeedResult:
    """Create the demo organisation and logins (idempotent); link instructors to Bookly staff."""
    org = accounts.get_or_create_organisation(DEMO_ORGANISATION)
    created: list[str] = []
    for person in DEMO_PEOPLE:
        if accounts.find_user(person.email) is None:
            db.session.add(
                User(
                    email=person.email,
                    name=person.name,
                    role=person.role,
                    organisation=org,
                    password_hash=hash_password(person.password),
                )
            )
            created.append(person.email)
    db.session.flush()
    linked = _link_staff(staff)
    db.session.commit()
    log.info("demo seed: %d created, %d linked to Bookly staff", len(created), len(linked))
    return SeedResult(created=tuple(created), linked=tuple(linked))


def _link_staff(staff: Iterable[StaffMember]) -> list[str]:
    by_email = {member.email.strip().lower(): member for member in staff if member.email}
    linked: list[str] = []
    for person in DEMO_PEOPLE:
        user = accounts.find_user(person.email)
        member = by_email.get(person.email)
        if user is None or member is None or person.role is not Role.INSTRUCTOR:
            continue
        user.bookly_staff_id = member.id
        if member.time_zone:
            user.time_zone = member.time_zone
        linked.append(person.email)
    return linked

"""A person's own profile: name, time zone, and the Bookly staff member they are linked to."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from functools import cache
from zoneinfo import available_timezones

from bookly_client import BooklyError, BooklyGateway
from webapp.extensions import db
from webapp.models import User
from webapp.services import audit

log = logging.getLogger(__name__)

MAX_NAME_LENGTH = 200


class InvalidProfile(ValueError):
    """A profile field cannot be saved as given; the message says what to change."""


@cache
def time_zones() -> tuple[str, ...]:
    """Every IANA zone name a person may choose, sorted."""
    return tuple(sorted(z for z in available_timezones() if "/" in z or z == "UTC"))


def staff_names(bookly: BooklyGateway | None, staff_ids: Iterable[int | None]) -> dict[int, str]:
    """Bookly staff names by id (empty when Bookly cannot be read: the page says so)."""
    wanted = {i for i in staff_ids if i is not None}
    if bookly is None or not wanted:
        return {}
    try:
        staff = bookly.list_staff(include_archived=True)
    except BooklyError as exc:
        log.warning("staff names unavailable (%s)", type(exc).__name__)
        return {}
    return {s.id: s.full_name for s in staff if s.id in wanted and s.full_name}


def update_profile(user: User, *, name: str, time_zone: str) -> User:
    """Change the person's display name and time zone; commits once."""
    clean = " ".join(name.split())
    if not clean:
        raise InvalidProfile("Give your name.")
    if len(clean) > MAX_NAME_LENGTH:
        raise InvalidProfile(f"Your name can be at most {MAX_NAME_LENGTH} characters.")
    if time_zone not in time_zones():
        raise InvalidProfile("Choose your time zone from the list (for example Europe/Berlin).")
    user.name = clean
    user.time_zone = time_zone
    audit.record("profile.updated", actor=user, target=user.email)
    db.session.commit()
    return user

"""Demo people and their calendars: the contract's Ada, Grace, Alan and the demo admin."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from cronofy_sandbox import calendar_events
from cronofy_sandbox.store import Store
from cronofy_sandbox.timefmt import now


@dataclass(frozen=True, slots=True)
class Person:
    """A sandbox person: who logs in on the consent page."""

    email: str
    name: str
    tzid: str = "Europe/London"
    admin: bool = False


DEMO_PEOPLE = (
    Person("ada@demo.test", "Ada Lovelace"),
    Person("grace@demo.test", "Grace Hopper", "America/New_York"),
    Person("alan@demo.test", "Alan Turing"),
    Person("admin@demo.test", "Demo Admin", admin=True),
)
# (calendar, day offset, start hour UTC, minutes, summary) for the first few demo events.
_DEMO_EVENTS = (
    ("primary", 1, 10, 60, "Team stand-up"),
    ("primary", 2, 14, 90, "Dentist"),
    ("readonly", 1, 13, 30, "Company all-hands"),
)


def stable_id(prefix: str, *parts: str, length: int = 16) -> str:
    """A deterministic id (same person, same ids after every reset)."""
    digest = hashlib.sha256("|".join(parts).encode()).hexdigest()
    return f"{prefix}_{digest[:length]}"


def add_person(store: Store, person: Person, *, with_events: bool = True) -> str:
    """Create a person with Google, Microsoft and Cronofy profiles; return their sub."""
    sub = stable_id("acc", person.email, length=24)
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO people (email, name, tzid, sub, admin) VALUES (?, ?, ?, ?, ?)",
            (person.email, person.name, person.tzid, sub, int(person.admin)),
        )
        for provider, service in (("google", "gsuite"), ("ms_graph", "office365")):
            profile_id = stable_id("pro", person.email, provider, length=10)
            conn.execute(
                "INSERT INTO profiles (profile_id, sub, provider, provider_service, profile_name)"
                " VALUES (?, ?, ?, ?, ?)",
                (profile_id, sub, provider, service, person.email),
            )
            for kind, name, readonly, primary in (
                ("primary", person.email, 0, 1),
                ("readonly", "Team holidays (read-only)", 1, 0),
            ):
                conn.execute(
                    "INSERT INTO calendars (calendar_id, profile_id, name, readonly, is_primary)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (stable_id("cal", profile_id, kind), profile_id, name, readonly, primary),
                )
        cronofy_profile = stable_id("pro", person.email, "cronofy", length=10)
        conn.execute(
            "INSERT INTO profiles (profile_id, sub, provider, provider_service, profile_name,"
            " access_mode) VALUES (?, ?, 'cronofy', 'cronofy', ?, 'no_calendar')",
            (cronofy_profile, sub, person.email),
        )
        conn.execute(
            "INSERT INTO calendars (calendar_id, profile_id, name, readonly, is_primary)"
            " VALUES (?, ?, 'Cronofy calendar', 0, 1)",
            (stable_id("cal", cronofy_profile, "primary"), cronofy_profile),
        )
    if with_events:
        _add_demo_events(store, person)
    return sub


def _add_demo_events(store: Store, person: Person) -> None:
    today = datetime.combine(now().date(), time(0), tzinfo=UTC)
    for provider in ("google", "ms_graph"):
        profile_id = stable_id("pro", person.email, provider, length=10)
        for kind, days, hour, length, summary in _DEMO_EVENTS:
            start = today + timedelta(days=days, hours=hour)
            calendar_events.add_external(
                store,
                stable_id("cal", profile_id, kind),
                summary=summary,
                start=start,
                end=start + timedelta(minutes=length),
            )


def seed_demo(store: Store) -> None:
    """Add the four demo people."""
    for person in DEMO_PEOPLE:
        add_person(store, person)

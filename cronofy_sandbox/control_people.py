"""Seeding and describing people for the control API."""

from __future__ import annotations

from typing import Any

from cronofy_sandbox import directory
from cronofy_sandbox.seed import Person, add_person, seed_demo
from cronofy_sandbox.state import Sandbox
from cronofy_sandbox.store import Store


def reset(sandbox: Sandbox, *, seed: bool) -> None:
    """Wait for in-flight callbacks, empty the store, optionally re-seed."""
    sandbox.deliverer.wait_idle(5.0)
    sandbox.store.reset()
    if seed:
        seed_demo(sandbox.store)


def describe(store: Store, person_row: Any) -> dict[str, Any]:
    """A person with every profile (linked or not) and its calendars."""
    profiles = store.query(
        "SELECT * FROM profiles WHERE sub = ? ORDER BY provider", (person_row["sub"],)
    )
    return {
        "email": person_row["email"],
        "name": person_row["name"],
        "sub": person_row["sub"],
        "tzid": person_row["tzid"],
        "admin": bool(person_row["admin"]),
        "profiles": [
            {
                "profile_id": p["profile_id"],
                "provider": p["provider"],
                "provider_name": directory.provider_name(p),
                "linked": bool(p["linked"]),
                "connected": bool(p["connected"]),
                "access_mode": p["access_mode"],
                "calendars": [
                    {
                        "calendar_id": c["calendar_id"],
                        "name": c["name"],
                        "readonly": bool(c["readonly"]),
                        "primary": bool(c["is_primary"]),
                    }
                    for c in directory.profile_calendars(store, p["profile_id"])
                ],
            }
            for p in profiles
        ],
    }


def describe_all(store: Store) -> list[dict[str, Any]]:
    """Every person."""
    return [describe(store, row) for row in store.query("SELECT * FROM people ORDER BY email")]


def add(sandbox: Sandbox, body: dict[str, Any]) -> dict[str, Any]:
    """Seed one person from a control API body; return their description."""
    person = Person(
        str(body["email"]),
        str(body["name"]),
        str(body.get("tzid", "Etc/UTC")),
        admin=bool(body.get("admin", False)),
    )
    add_person(sandbox.store, person, with_events=bool(body.get("with_events", False)))
    row = directory.person_by_email(sandbox.store, person.email)
    return describe(sandbox.store, row)

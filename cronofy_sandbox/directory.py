"""People, accounts, profiles and calendars: lookups and their Cronofy JSON shapes."""

from __future__ import annotations

import sqlite3
from typing import Any

from cronofy_sandbox.store import Store

SERVICE_BY_PROVIDER = {"google": "gsuite", "ms_graph": "office365", "cronofy": "cronofy"}


def provider_name(profile: sqlite3.Row) -> str:
    """The provider name Cronofy shows: the access mode is folded into it."""
    if profile["provider"] == "cronofy":
        return "cronofy"
    if profile["access_mode"] == "free_busy":
        return f"{profile['provider']}_free_busy"
    return str(profile["provider"])


def provider_service(profile: sqlite3.Row) -> str:
    """The provider_service value ([INF] for ms_graph and the access-mode variants)."""
    return (
        provider_name(profile)
        if profile["access_mode"] == "free_busy"
        else str(SERVICE_BY_PROVIDER[profile["provider"]])
    )


def person_by_sub(store: Store, sub: str) -> sqlite3.Row | None:
    """The sandbox person owning account `sub`."""
    return store.one("SELECT * FROM people WHERE sub = ?", (sub,))


def person_by_email(store: Store, email: str) -> sqlite3.Row | None:
    """The sandbox person with this e-mail (case-insensitive)."""
    return store.one("SELECT * FROM people WHERE lower(email) = lower(?)", (email,))


def linked_profiles(store: Store, sub: str) -> list[sqlite3.Row]:
    """Profiles the account has authorized (what the API shows)."""
    return store.query(
        "SELECT * FROM profiles WHERE sub = ? AND linked = 1 ORDER BY provider, profile_id", (sub,)
    )


def profile_calendars(store: Store, profile_id: str) -> list[sqlite3.Row]:
    """Every calendar of a profile, primary first."""
    return store.query(
        "SELECT * FROM calendars WHERE profile_id = ? ORDER BY is_primary DESC, name", (profile_id,)
    )


def account_calendars(store: Store, sub: str) -> list[tuple[sqlite3.Row, sqlite3.Row]]:
    """(profile, calendar) pairs of every linked profile (disconnected ones stay listed)."""
    pairs: list[tuple[sqlite3.Row, sqlite3.Row]] = []
    for profile in linked_profiles(store, sub):
        pairs.extend((profile, cal) for cal in profile_calendars(store, profile["profile_id"]))
    return pairs


def owned_calendar(
    store: Store, sub: str, calendar_id: str
) -> tuple[sqlite3.Row, sqlite3.Row] | None:
    """The (profile, calendar) pair if the account may see `calendar_id`."""
    for profile, cal in account_calendars(store, sub):
        if cal["calendar_id"] == calendar_id:
            return profile, cal
    return None


def calendar_json(profile: sqlite3.Row, cal: sqlite3.Row) -> dict[str, Any]:
    """A calendar as GET /v1/calendars returns it (§4.4)."""
    native = profile["provider"] != "cronofy" and profile["access_mode"] == "read_write"
    return {
        "provider_name": provider_name(profile),
        "profile_id": profile["profile_id"],
        "profile_name": profile["profile_name"],
        "calendar_id": cal["calendar_id"],
        "calendar_name": cal["name"],
        "calendar_readonly": bool(cal["readonly"]),
        "calendar_deleted": bool(cal["deleted"]),
        "calendar_primary": bool(cal["is_primary"]),
        # Provider-native conferencing is not available in the access modes (§9.2).
        "calendar_integrated_conferencing_available": native,
        "calendar_attachments_available": False,
        "permission_level": cal["permission_level"],
    }


def profile_json(store: Store, profile: sqlite3.Row, *, with_calendars: bool) -> dict[str, Any]:
    """A profile as /v1/profiles (§4.3) or inside userinfo (§4.2) shows it."""
    body: dict[str, Any] = {
        "provider_name": provider_name(profile),
        "provider_service": provider_service(profile),
        "profile_id": profile["profile_id"],
        "profile_name": profile["profile_name"],
        "profile_connected": bool(profile["connected"]),
    }
    if not profile["connected"]:
        body["profile_relink_url"] = f"https://sandbox.invalid/relink/{profile['profile_id']}"
    if with_calendars:
        body["profile_initial_sync_required"] = False
        body["profile_calendars"] = [
            {
                k: v
                for k, v in calendar_json(profile, cal).items()
                if k.startswith(("calendar_", "perm"))
            }
            for cal in profile_calendars(store, profile["profile_id"])
        ]
    return body

"""Scope strings: compound scopes expanded into the individual ones endpoints check.

The reference lists the individual scopes and names the compound ones (read_only, write_only,
read_write, free_busy, free_busy_write) without spelling out their contents; the expansions
below are the sandbox's reading of §2.2 ([INF]). `free_busy_write` deliberately excludes
`read_events`: with it an app reads only its own events (only_managed=true) and free/busy.
"""

from __future__ import annotations

_COMPOUND = {
    "read_only": {"read_account", "list_calendars", "read_events", "read_free_busy"},
    "write_only": {"read_account", "list_calendars", "create_event", "delete_event"},
    "read_write": {
        "read_account",
        "list_calendars",
        "read_events",
        "read_free_busy",
        "create_event",
        "delete_event",
        "change_participation_status",
        "create_calendar",
    },
    "free_busy": {"read_account", "list_calendars", "read_free_busy"},
    "free_busy_write": {
        "read_account",
        "list_calendars",
        "read_free_busy",
        "create_event",
        "delete_event",
    },
}
KNOWN = {
    "read_account",
    "list_calendars",
    "read_events",
    "create_event",
    "delete_event",
    "read_free_busy",
    "change_participation_status",
    "create_calendar",
    *_COMPOUND,
}


def expand(scope: str) -> frozenset[str]:
    """Every individual scope a space-separated scope string grants."""
    granted: set[str] = set()
    for item in scope.split():
        granted.add(item)
        granted |= _COMPOUND.get(item, set())
    if "read_events" in granted:
        granted.add("read_free_busy")
    return frozenset(granted)


def unknown(scope: str) -> list[str]:
    """Items of `scope` the sandbox does not know."""
    return [item for item in scope.split() if item not in KNOWN]


def within(requested: str, ceiling: str) -> bool:
    """True when every scope in `requested` is granted by `ceiling` (EC delegated scope)."""
    return expand(requested) <= expand(ceiling)


def compressed(scope: str) -> str:
    """The form userinfo reports (§4.2): a compound name only when it grants exactly `scope`.

    A compound that merely covers the scope would over-report: `read_events create_event`
    (what an Enterprise Connect user is often given) is not `read_write`, which would claim
    deletes and calendar creation too. Anything that is not exactly a compound is reported
    as granted ([INF]: Cronofy documents the compressed form by example only).
    """
    granted = expand(scope) - _COMPOUND.keys()
    for name, members in _COMPOUND.items():
        if granted == members:
            return name
    return " ".join(dict.fromkeys(scope.split()))

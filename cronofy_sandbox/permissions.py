"""Extended (elevated) permissions (§2.7): unrestricted access to chosen calendars.

`POST /v1/permissions` answers a URL the person opens to accept or reject, or, for an account
authorized through Enterprise Connect, `{"accepted": true}` with the permissions granted at
once (both shapes from Cronofy's extended-permissions page). With `unrestricted` the app may
update and delete the person's own (external) events in that calendar.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from cronofy_sandbox import directory
from cronofy_sandbox.errors import FieldErrors, invalid
from cronofy_sandbox.gatekeeper import Caller
from cronofy_sandbox.ids import random_chars
from cronofy_sandbox.request_body import is_http_url
from cronofy_sandbox.store import Store

LEVELS = ("unrestricted", "sandbox")


def _validated(store: Store, who: Caller, body: dict[str, Any]) -> list[dict[str, str]]:
    errors = FieldErrors()
    wanted = body.get("permissions")
    owned = {c["calendar_id"] for _, c in directory.account_calendars(store, who.sub)}
    if not isinstance(wanted, list) or not wanted:
        errors.add("permissions", "required", "permissions must be a non-empty list")
        wanted = []
    for item in wanted:
        if not isinstance(item, dict) or item.get("permission_level") not in LEVELS:
            errors.add("permissions", "invalid", "permission_level must be unrestricted or sandbox")
        elif not isinstance(item.get("calendar_id"), str) or item["calendar_id"] not in owned:
            errors.add("permissions", "not_found", "calendar_id must be a calendar of the account")
    if not who.delegated and not is_http_url(body.get("redirect_uri")):
        errors.add("redirect_uri", "required", "redirect_uri must be an HTTP or HTTPS URL")
    errors.raise_if_any()
    return [{"calendar_id": i["calendar_id"], "level": i["permission_level"]} for i in wanted]


def request_permissions(
    store: Store, who: Caller, body: dict[str, Any], page_url: str
) -> dict[str, Any]:
    """Record a request; the `permissions_request` object to answer (§2.7)."""
    wanted = _validated(store, who, body)
    if who.delegated:
        grant(store, wanted)
        return {"accepted": True}
    request_id = random_chars(24)
    store.execute(
        "INSERT INTO permission_requests (request_id, sub, permissions, redirect_uri)"
        " VALUES (?, ?, ?, ?)",
        (request_id, who.sub, json.dumps(wanted), body["redirect_uri"]),
    )
    return {"url": page_url.replace("REQUEST_ID", request_id)}


def pending(store: Store, request_id: str) -> sqlite3.Row | None:
    """An undecided request, if any."""
    return store.one(
        "SELECT * FROM permission_requests WHERE request_id = ? AND decided = 0", (request_id,)
    )


def decide(store: Store, request: sqlite3.Row, *, accept: bool) -> str:
    """The person accepted or rejected; return where to send them back."""
    store.execute(
        "UPDATE permission_requests SET decided = 1 WHERE request_id = ?", (request["request_id"],)
    )
    if accept:
        grant(store, json.loads(request["permissions"]))
    return str(request["redirect_uri"])


def grant(store: Store, wanted: list[dict[str, str]]) -> None:
    """Set each calendar's permission level."""
    with store.transaction() as conn:
        for item in wanted:
            conn.execute(
                "UPDATE calendars SET permission_level = ? WHERE calendar_id = ?",
                (item["level"], item["calendar_id"]),
            )


def set_level(store: Store, calendar_id: str, level: object) -> None:
    """The control API's shortcut: grant `level` on one calendar without asking anyone."""
    if level not in LEVELS:
        raise invalid(
            "permission_level", "invalid", "permission_level must be one of " + ", ".join(LEVELS)
        )
    if store.one("SELECT 1 FROM calendars WHERE calendar_id = ?", (calendar_id,)) is None:
        raise invalid("calendar_id", "not_found", "unknown calendar")
    grant(store, [{"calendar_id": calendar_id, "level": str(level)}])

"""Identity endpoints: userinfo, account, profiles, calendars (list/create), profile revoke."""

from __future__ import annotations

import sqlite3
from typing import Any

from flask import Blueprint, jsonify, url_for
from flask.typing import ResponseReturnValue

from cronofy_sandbox import directory, permissions, scopes
from cronofy_sandbox.errors import (
    ApiError,
    FieldErrors,
    empty,
    forbidden,
    invalid,
    not_found,
    unauthorized,
)
from cronofy_sandbox.gatekeeper import Caller, caller
from cronofy_sandbox.ids import new_id
from cronofy_sandbox.request_body import json_object
from cronofy_sandbox.state import get_sandbox

bp = Blueprint("api_accounts", __name__, url_prefix="/v1")


def _person(sub: str) -> sqlite3.Row:
    """The person behind an account token (401 if they were reset away)."""
    person = directory.person_by_sub(get_sandbox().store, sub)
    if person is None:
        raise unauthorized()
    return person


def account_caller(scope: str | None = None) -> Caller:
    """A caller that must be a normal account (not a service account)."""
    found = caller(scope)
    if found.kind != "account":
        raise forbidden(scope or "read_account")
    return found


@bp.get("/userinfo")
def userinfo() -> ResponseReturnValue:
    """OpenID-style userinfo (§4.2), or the service-account variant (§3.2)."""
    who = caller()
    store = get_sandbox().store
    if who.kind == "service_account":
        return jsonify(_service_account_userinfo(who))
    person = _person(who.sub)
    return jsonify(
        {
            "sub": who.sub,
            "email": person["email"],
            "name": person["name"],
            "zoneinfo": person["tzid"],
            "cronofy.type": "account",
            "cronofy.data": {
                "authorization": {"scope": scopes.compressed(who.scope_text), "status": "active"},
                "profiles": [
                    directory.profile_json(store, p, with_calendars=True)
                    for p in directory.linked_profiles(store, who.sub)
                ],
            },
        }
    )


def _service_account_userinfo(who: Caller) -> dict[str, Any]:
    row = get_sandbox().store.one("SELECT * FROM service_accounts WHERE sub = ?", (who.sub,))
    if row is None:
        raise unauthorized()
    # The granted mode is folded into the provider name as for profiles (§9.2); what a real
    # no-calendar service account reports is not documented [INF]: "cronofy", like its profiles.
    provider = {
        "read_write": row["provider"],
        "free_busy": f"{row['provider']}_free_busy",
        "no_calendar": "cronofy",
    }.get(row["access_mode"], row["provider"])
    return {
        "sub": who.sub,
        "email": row["email"],
        "cronofy.type": "service_account",
        "cronofy.data": {
            "service_account": {"provider_name": provider, "domain": row["domain"]},
            "authorization": {
                "scope": who.scope_text,
                "status": "active",
                "delegated_scope": row["delegated_scope"],
            },
        },
    }


@bp.get("/account")
def account() -> ResponseReturnValue:
    """The account (§4.1)."""
    who = account_caller("read_account")
    person = _person(who.sub)
    return jsonify(
        {
            "account": {
                "account_id": who.sub,
                "email": person["email"],
                "name": person["name"],
                "scope": who.scope_text,
                "default_tzid": person["tzid"],
            }
        }
    )


@bp.get("/profiles")
def profiles() -> ResponseReturnValue:
    """Linked profiles (§4.3)."""
    who = account_caller()
    store = get_sandbox().store
    return jsonify(
        {
            "profiles": [
                directory.profile_json(store, p, with_calendars=False)
                for p in directory.linked_profiles(store, who.sub)
            ]
        }
    )


@bp.post("/profiles/<profile_id>/revoke")
def revoke_profile(profile_id: str) -> ResponseReturnValue:
    """Unlink one profile (§2.6) → 202."""
    who = account_caller()
    store = get_sandbox().store
    if not any(p["profile_id"] == profile_id for p in directory.linked_profiles(store, who.sub)):
        raise not_found()
    store.execute("UPDATE profiles SET linked = 0 WHERE profile_id = ?", (profile_id,))
    return empty(202)


@bp.post("/permissions")
def request_permissions() -> ResponseReturnValue:
    """Extended permissions (§2.7): a URL for the person, or accepted at once under EC."""
    who = account_caller()
    page = url_for("ui.permissions_page", request_id="REQUEST_ID", _external=True)
    answer = permissions.request_permissions(get_sandbox().store, who, json_object(), page)
    return jsonify({"permissions_request": answer})


@bp.get("/calendars")
def list_calendars() -> ResponseReturnValue:
    """Calendars of connected profiles (§4.4)."""
    who = account_caller("list_calendars")
    pairs = directory.account_calendars(get_sandbox().store, who.sub)
    return jsonify({"sub": who.sub, "calendars": [directory.calendar_json(p, c) for p, c in pairs]})


@bp.post("/calendars")
def create_calendar() -> ResponseReturnValue:
    """Create a calendar in a profile (§4.5): 422 on duplicates, 423 when not writable."""
    who = account_caller("create_calendar")
    body = json_object()
    store = get_sandbox().store
    name = body.get("name")
    errors = FieldErrors()
    if not isinstance(name, str) or not name.strip():
        errors.add("name", "required", "name must be specified")
    profile = next(
        (
            p
            for p in directory.linked_profiles(store, who.sub)
            if p["profile_id"] == body.get("profile_id")
        ),
        None,
    )
    if profile is None:
        errors.add("profile_id", "not_found", "profile_id is unknown")
    errors.raise_if_any()
    if profile is None or not isinstance(name, str):
        raise AssertionError("validated above")
    if not profile["connected"] or profile["access_mode"] != "read_write":
        raise ApiError(423)
    existing = [c["name"] for c in directory.profile_calendars(store, profile["profile_id"])]
    if name in existing:
        # The sandbox behaves like a provider that forbids duplicate names (§4.5).
        raise invalid("name", "duplicate_calendar_name", "A calendar with this name already exists")
    calendar_id = new_id("cal", 20)
    store.execute(
        "INSERT INTO calendars (calendar_id, profile_id, name, color) VALUES (?, ?, ?, ?)",
        (calendar_id, profile["profile_id"], name, body.get("color")),
    )
    cal = store.one_or_fail("SELECT * FROM calendars WHERE calendar_id = ?", (calendar_id,))
    return jsonify({"calendar": directory.calendar_json(profile, cal)})

"""Push channels (§8.1) and Enterprise Connect user authorizations (§3.3–3.4)."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from cronofy_sandbox import consent, directory, grants, push, scopes
from cronofy_sandbox.api_accounts import account_caller
from cronofy_sandbox.delivery import Callback
from cronofy_sandbox.errors import FieldErrors, empty, forbidden, not_found
from cronofy_sandbox.gatekeeper import caller
from cronofy_sandbox.ids import new_id
from cronofy_sandbox.request_body import is_http_url, json_object
from cronofy_sandbox.state import Sandbox, get_sandbox

bp = Blueprint("api_channels", __name__, url_prefix="/v1")
MAX_CHANNELS = 128


@bp.post("/channels")
def create_channel() -> ResponseReturnValue:
    """Create (or return the identical existing) channel; a new one gets a verification."""
    who = account_caller()
    body = json_object()
    errors = FieldErrors()
    filters = body.get("filters")
    if filters is None:
        filters = {}
    elif not isinstance(filters, dict):
        errors.add("filters", "invalid", 'filters must be an object like {"only_managed": true}')
        filters = {}
    only_managed = filters.get("only_managed", False)
    if not isinstance(only_managed, bool):
        errors.add("filters", "invalid", "filters.only_managed must be true or false")
        only_managed = False
    if not only_managed and not ({"read_events", "read_free_busy"} & who.scope):
        raise forbidden("read_events")
    sandbox = get_sandbox()
    url = body.get("callback_url")
    if not is_http_url(url):
        errors.add("callback_url", "invalid", "callback_url must be an HTTP or HTTPS URL")
    elif len(str(url)) > 128:  # limit from an older doc revision and pycronofy's docstring
        errors.add("callback_url", "too_long", "callback_url must be at most 128 characters")
    calendar_ids = filters.get("calendar_ids") or []
    owned = {c["calendar_id"] for _, c in directory.account_calendars(sandbox.store, who.sub)}
    if not isinstance(calendar_ids, list) or not all(
        isinstance(cal, str) and cal in owned for cal in calendar_ids
    ):
        errors.add("filters", "invalid", "calendar_ids must list calendars of this account")
    errors.raise_if_any()
    ids_text = json.dumps(sorted(calendar_ids))
    existing = sandbox.store.one(
        "SELECT * FROM channels WHERE sub = ? AND callback_url = ? AND calendar_ids = ?"
        " AND only_managed = ? AND closed = 0",
        (who.sub, url, ids_text, int(only_managed)),
    )
    if existing is not None:
        return jsonify({"channel": push.channel_json(existing)})
    count = sandbox.store.one(
        "SELECT count(*) AS n FROM channels WHERE sub = ? AND closed = 0", (who.sub,)
    )
    if count is not None and count["n"] >= MAX_CHANNELS:
        errors.add("base", "too_many_channels", "an account may have at most 128 channels")
        errors.raise_if_any()
    channel_id = new_id("chn", 20)
    sandbox.store.execute(
        "INSERT INTO channels (channel_id, sub, callback_url, calendar_ids, only_managed)"
        " VALUES (?, ?, ?, ?, ?)",
        (channel_id, who.sub, url, ids_text, int(only_managed)),
    )
    row = sandbox.store.one_or_fail("SELECT * FROM channels WHERE channel_id = ?", (channel_id,))
    push.send_verification(sandbox, row)
    return jsonify({"channel": push.channel_json(row)})


@bp.get("/channels")
def list_channels() -> ResponseReturnValue:
    """Open channels of the account."""
    who = account_caller()
    rows = get_sandbox().store.query(
        "SELECT * FROM channels WHERE sub = ? AND closed = 0 ORDER BY channel_id", (who.sub,)
    )
    return jsonify({"channels": [push.channel_json(r) for r in rows]})


@bp.delete("/channels/<channel_id>")
def close_channel(channel_id: str) -> ResponseReturnValue:
    """Close a channel → 202; unknown → 404."""
    who = account_caller()
    store = get_sandbox().store
    row = store.one(
        "SELECT 1 FROM channels WHERE channel_id = ? AND sub = ? AND closed = 0",
        (channel_id, who.sub),
    )
    if row is None:
        raise not_found()
    store.execute("UPDATE channels SET closed = 1 WHERE channel_id = ?", (channel_id,))
    return empty(202)


@bp.post("/service_account_authorizations")
def service_account_authorizations() -> ResponseReturnValue:
    """Authorize people by e-mail → 202; each result arrives as a signed callback."""
    who = caller()
    if who.kind != "service_account":
        raise forbidden("service_account/accounts/manage")
    body = json_object()
    items = _authorization_items(body)
    sandbox = get_sandbox()
    account = sandbox.store.one_or_fail("SELECT * FROM service_accounts WHERE sub = ?", (who.sub,))
    for item in items:
        _authorize_one(sandbox, account, item)
    return empty(202)


def _authorization_items(body: dict[str, Any]) -> list[dict[str, Any]]:
    errors = FieldErrors()
    bulk = body.get("service_account_authorizations")
    if bulk is not None and "email" in body:
        errors.add("service_account_authorizations", "invalid", "do not mix single and bulk")
        errors.raise_if_any()
    items = bulk if bulk is not None else [body]
    if not isinstance(items, list) or not 1 <= len(items) <= 50:
        errors.add("service_account_authorizations", "invalid", "send 1 to 50 authorizations")
        errors.raise_if_any()
    for item in items:
        for name in ("email", "callback_url", "scope"):
            if not isinstance(item, dict) or not item.get(name):
                errors.add(name, "required", f"{name} must be specified")
            elif not isinstance(item[name], str):
                errors.add(name, "invalid", f"{name} must be a string")
        if (
            isinstance(item, dict)
            and item.get("callback_url")
            and not is_http_url(item["callback_url"])
        ):
            errors.add("callback_url", "invalid", "callback_url must be an HTTP or HTTPS URL")
    errors.raise_if_any()
    top_state = body.get("state")
    return [{**item, "state": item.get("state", top_state)} for item in items]


def _authorize_one(sandbox: Sandbox, account: Any, item: dict[str, Any]) -> None:
    person = directory.person_by_email(sandbox.store, str(item["email"]))
    in_domain = person is not None and person["email"].lower().endswith("@" + account["domain"])
    result: dict[str, Any]
    if (
        person is None
        or not in_domain
        or not scopes.within(item["scope"], account["delegated_scope"])
    ):
        result = {
            "error": "unable_to_grant_scope",
            "error_key": "unable_to_grant_scope",
            "error_description": "The requested scope cannot be granted for this e-mail address",
        }
    else:
        profile_id = consent.link_profile(
            sandbox.store,
            person["email"],
            person["sub"],
            account["access_mode"],
            account["provider"],
        )
        code = grants.issue_code(
            sandbox.store,
            sandbox.config,
            sub=person["sub"],
            scope=item["scope"],
            redirect_uri=item["callback_url"],
            kind="account",
            profile_id=profile_id,
            delegated=True,
        )
        result = {"code": code}
    if item.get("state") is not None:
        result["state"] = item["state"]
    sandbox.deliverer.send(
        Callback("service_account_authorization", item["callback_url"], {"authorization": result})
    )

"""Event endpoints: read (paged), upsert, delete, bulk delete, free/busy."""

from __future__ import annotations

import math
from typing import Any

from flask import Blueprint, jsonify, url_for
from flask.typing import ResponseReturnValue

from cronofy_sandbox import directory, event_reads, event_writes
from cronofy_sandbox.api_accounts import account_caller
from cronofy_sandbox.errors import FieldErrors, empty, invalid, not_found
from cronofy_sandbox.event_reads import EventQuery
from cronofy_sandbox.ids import random_chars
from cronofy_sandbox.request_body import json_object
from cronofy_sandbox.state import get_sandbox

bp = Blueprint("api_events", __name__, url_prefix="/v1")


@bp.get("/events")
def read_events() -> ResponseReturnValue:
    """Read Events (§5.1): read_events scope unless only_managed=true."""
    who = account_caller()
    q = event_reads.parse_query(get_sandbox().store, who.sub, free_busy=False)
    if not q.only_managed:
        account_caller("read_events")
    return jsonify(_page("events", q, 1))


@bp.get("/free_busy")
def free_busy() -> ResponseReturnValue:
    """Free/Busy (§6)."""
    who = account_caller("read_free_busy")
    q = event_reads.parse_query(get_sandbox().store, who.sub, free_busy=True)
    return jsonify(_page("free_busy", q, 1))


@bp.get("/events/pages/<page_id>", endpoint="events_page", defaults={"kind": "events"})
@bp.get("/free_busy/pages/<page_id>", endpoint="free_busy_page", defaults={"kind": "free_busy"})
def next_page(page_id: str, kind: str) -> ResponseReturnValue:
    """A later page of a paged read; 404 for unknown, someone else's or another kind's page."""
    who = account_caller()
    row = get_sandbox().store.one(
        "SELECT * FROM pages WHERE page_id = ? AND sub = ? AND kind = ?", (page_id, who.sub, kind)
    )
    if row is None:
        raise not_found()
    return jsonify(_page(row["kind"], EventQuery.loads(row["query"]), row["page"]))


def _page(kind: str, q: EventQuery, number: int) -> dict[str, Any]:
    sandbox = get_sandbox()
    free_busy = kind == "free_busy"
    if free_busy:
        items = [
            item
            for row, _ in event_reads.select(sandbox.store, q, free_busy=True)
            if (item := event_reads.free_busy_json(row, q)) is not None
        ]
    else:
        unrestricted = {
            cal["calendar_id"]
            for _, cal in directory.account_calendars(sandbox.store, q.sub)
            if cal["permission_level"] == "unrestricted"
        }
        items = [
            event_reads.event_json(row, profile, q, unrestricted=row["calendar_id"] in unrestricted)
            for row, profile in event_reads.select(sandbox.store, q, free_busy=False)
        ]
    size = sandbox.config.page_size
    total = max(1, math.ceil(len(items) / size))
    pages: dict[str, Any] = {"current": number, "total": total}
    if number < total:
        page_id = random_chars(24)
        sandbox.store.execute(
            "INSERT INTO pages (page_id, sub, kind, query, page) VALUES (?, ?, ?, ?, ?)",
            (page_id, q.sub, kind, q.dumps(), number + 1),
        )
        pages["next_page"] = url_for(f"api_events.{kind}_page", page_id=page_id, _external=True)
    return {"pages": pages, kind: items[(number - 1) * size : number * size]}


def _owned(calendar_id: str) -> tuple[Any, Any]:
    who = account_caller()
    found = directory.owned_calendar(get_sandbox().store, who.sub, calendar_id)
    if found is None:
        raise not_found()
    return found


@bp.post("/calendars/<calendar_id>/events")
def upsert_event(calendar_id: str) -> ResponseReturnValue:
    """Upsert a managed event → 202."""
    account_caller("create_event")
    profile, cal = _owned(calendar_id)
    event_writes.upsert(get_sandbox(), profile, cal, json_object())
    return empty(202)


@bp.delete("/calendars/<calendar_id>/events")
def delete_event(calendar_id: str) -> ResponseReturnValue:
    """Delete a managed event (JSON body) → 202."""
    account_caller("delete_event")
    profile, cal = _owned(calendar_id)
    event_writes.delete(get_sandbox(), profile, cal, json_object())
    return empty(202)


@bp.delete("/events")
def bulk_delete() -> ResponseReturnValue:
    """Bulk delete managed events (§5.4): JSON body delete_all XOR calendar_ids → 202.

    pycronofy 2.1.1 sends these as query parameters with an empty JSON body; the reference
    says the API expects the JSON body, so the sandbox rejects the query form with a 422.
    """
    who = account_caller("delete_event")
    body = json_object()
    owned = [
        cal["calendar_id"] for _, cal in directory.account_calendars(get_sandbox().store, who.sub)
    ]
    errors = FieldErrors()
    delete_all, ids = body.get("delete_all"), body.get("calendar_ids")
    if (delete_all is None) == (ids is None):
        errors.add("delete_all", "invalid", "specify exactly one of delete_all or calendar_ids")
    elif ids is not None and (not isinstance(ids, list) or not ids):
        errors.add("calendar_ids", "invalid", "calendar_ids must be a non-empty list")
    elif delete_all is not None and delete_all is not True:
        errors.add("delete_all", "invalid", "delete_all must be true")
    errors.raise_if_any()
    if ids is not None and any(cal not in owned for cal in ids):
        raise invalid("calendar_ids", "not_found", "unknown calendar")
    event_writes.delete_all(get_sandbox(), ids if ids is not None else owned)
    return empty(202)

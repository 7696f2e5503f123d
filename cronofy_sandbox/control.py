"""The control API for tests and demos (/control/...), JSON in and out."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request
from flask.typing import ResponseReturnValue

from cronofy_sandbox import (
    api_smart_invites,
    control_people,
    directory,
    external_changes,
    grants,
    permissions,
    push,
)
from cronofy_sandbox.errors import ApiError, invalid
from cronofy_sandbox.request_body import json_object
from cronofy_sandbox.state import get_sandbox
from cronofy_sandbox.timefmt import TimeFormatError, parse_time, zone

_STATUSES = ("confirmed", "tentative", "cancelled")

bp = Blueprint("control", __name__, url_prefix="/control")


def _body() -> dict[str, Any]:
    return json_object()


def _times(body: dict[str, Any]) -> tuple[Any, Any]:
    try:
        start, end = parse_time(body.get("start")), parse_time(body.get("end"))
    except TimeFormatError as exc:
        raise invalid("start", "invalid", str(exc)) from exc
    if end <= start:
        raise invalid("end", "invalid", "end must be after start")
    return start, end


_EVENT_TEXT = {
    "summary": "Busy",
    "description": "",
    "transparency": "opaque",
    "status": "confirmed",
}
_EVENT_CHOICES = {"transparency": ("opaque", "transparent"), "status": _STATUSES}


def _event_spec(spec: object) -> dict[str, Any]:
    """One external event of a control request, checked: times, strings and choices."""
    if not isinstance(spec, dict):
        raise invalid("events", "invalid", "each event must be an object")
    start, end = _times(spec)
    fields: dict[str, Any] = {"start": start, "end": end}
    for name, default in _EVENT_TEXT.items():
        value = spec.get(name, default)
        if not isinstance(value, str) or value not in _EVENT_CHOICES.get(name, (value,)):
            raise invalid(name, "invalid", f"{name} must be a string (one of the listed values)")
        fields[name] = value
    return fields


def _int(body: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = body.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise invalid(name, "invalid", f"{name} must be a whole number from {low} to {high}")
    return value


@bp.post("/reset")
def reset() -> ResponseReturnValue:
    """Empty every table; re-seed the demo people unless {"seed_demo": false}."""
    control_people.reset(get_sandbox(), seed=bool(_body().get("seed_demo", True)))
    return jsonify({"ok": True})


@bp.get("/people")
def people() -> ResponseReturnValue:
    """Every person with their sub, profiles and calendars."""
    return jsonify({"people": control_people.describe_all(get_sandbox().store)})


@bp.post("/people")
def add_person() -> ResponseReturnValue:
    """Seed one person: {"email", "name", "tzid"?, "with_events"?}."""
    body = _body()
    if not all(isinstance(body.get(key), str) and body[key] for key in ("email", "name")):
        raise invalid("email", "required", "email and name are required")
    try:
        zone(body.get("tzid", "Etc/UTC"))
    except TimeFormatError as exc:
        raise invalid("tzid", "invalid", "tzid must be a known IANA time zone") from exc
    if directory.person_by_email(get_sandbox().store, str(body["email"])) is not None:
        raise invalid("email", "taken", "a sandbox person with this e-mail already exists")
    return jsonify(control_people.add(get_sandbox(), body)), 201


@bp.post("/events")
def add_events() -> ResponseReturnValue:
    """Add external events: {"calendar_id", "events": [{summary,start,end,...}], "notify"?}."""
    body = _body()
    raw = body.get("events") or [body]
    if not isinstance(raw, list):
        raise invalid("events", "invalid", "events must be a list of events")
    specs = [_event_spec(spec) for spec in raw]
    uids = []
    sandbox = get_sandbox()
    for index, spec in enumerate(specs):
        try:
            uids.append(
                external_changes.add(
                    sandbox,
                    str(body.get("calendar_id")),
                    **spec,
                    # One change notification per request, like a provider sync batch.
                    notify=bool(body.get("notify", True)) and index == len(specs) - 1,
                )
            )
        except external_changes.UnknownCalendar as exc:
            raise ApiError(404, {"error": "unknown calendar"}) from exc
    return jsonify({"event_uids": uids}), 201


@bp.patch("/events/<event_uid>")
def move_event(event_uid: str) -> ResponseReturnValue:
    """Move an event as its person would in their calendar: {"start", "end"}."""
    start, end = _times(_body())
    try:
        external_changes.move(get_sandbox(), event_uid, start, end)
    except external_changes.UnknownEvent as exc:
        raise ApiError(404, {"error": "unknown event"}) from exc
    return jsonify({"ok": True})


@bp.delete("/events/<event_uid>")
def delete_event(event_uid: str) -> ResponseReturnValue:
    """Delete an event as its person would in their calendar."""
    try:
        external_changes.delete(get_sandbox(), event_uid)
    except external_changes.UnknownEvent as exc:
        raise ApiError(404, {"error": "unknown event"}) from exc
    return jsonify({"ok": True})


@bp.get("/events")
def list_events() -> ResponseReturnValue:
    """Every event of a calendar (?calendar_id=), managed and external, deleted included."""
    rows = get_sandbox().store.query(
        "SELECT * FROM events WHERE calendar_id = ? ORDER BY start",
        (request.args.get("calendar_id"),),
    )
    keep = ("event_uid", "event_id", "summary", "start", "end", "managed", "deleted", "delivery")
    return jsonify({"events": [{k: row[k] for k in keep} for row in rows]})


@bp.get("/requests")
def requests_log() -> ResponseReturnValue:
    """API calls received: method, path, auth kind, status (never credentials)."""
    rows = get_sandbox().store.query("SELECT * FROM request_log ORDER BY id")
    return jsonify({"requests": [dict(row) for row in rows]})


@bp.delete("/requests")
def clear_requests() -> ResponseReturnValue:
    """Forget the request log."""
    get_sandbox().store.execute("DELETE FROM request_log")
    return Response(b"", status=204)


@bp.post("/faults")
def add_fault() -> ResponseReturnValue:
    """Next `count` API calls (under `path_prefix`) answer `status` (0 = latency only)."""
    body = _body()
    status = body.get("status", 500)
    if status not in (0, 429, 500, 502, 503, 504) or isinstance(status, bool):
        raise invalid("status", "invalid", "status must be 0, 429, 500, 502, 503 or 504")
    fault_id = get_sandbox().store.execute(
        "INSERT INTO faults (status, remaining, latency_ms, path_prefix) VALUES (?, ?, ?, ?)",
        (
            status,
            _int(body, "count", 1, 0, 10_000),
            _int(body, "latency_ms", 0, 0, 60_000),
            str(body.get("path_prefix", "")),
        ),
    )
    return jsonify({"fault_id": fault_id}), 201


@bp.delete("/faults")
def clear_faults() -> ResponseReturnValue:
    """Remove every pending fault."""
    get_sandbox().store.execute("DELETE FROM faults")
    return Response(b"", status=204)


@bp.post("/rate_limits")
def rate_limits() -> ResponseReturnValue:
    """Turn enforcement of 50/s + 500/min on or off: {"enabled": bool}."""
    enabled = bool(_body().get("enabled", True))
    get_sandbox().store.execute(
        "INSERT OR REPLACE INTO settings (key, value) VALUES ('rate_limits', ?)",
        ("1" if enabled else "0",),
    )
    return jsonify({"enabled": enabled})


@bp.post("/revoke_refresh_token")
def revoke_refresh_token() -> ResponseReturnValue:
    """Revoke a grant as if the person removed access at Cronofy: {"refresh_token"}."""
    grants.revoke_token(get_sandbox().store, str(_body().get("refresh_token", "")))
    return jsonify({"ok": True})


@bp.post("/expire_access_tokens")
def expire_access_tokens() -> ResponseReturnValue:
    """Expire access tokens now: all, or {"sub": ...}'s."""
    sub = _body().get("sub")
    if sub is not None and not isinstance(sub, str):
        raise invalid("sub", "invalid", "sub must be an account id")
    count = grants.expire_access_tokens(get_sandbox().store, sub)
    return jsonify({"expired": count})


@bp.post("/profiles/<profile_id>/disconnect")
def disconnect_profile(profile_id: str) -> ResponseReturnValue:
    """Mark a profile disconnected and send profile_disconnected."""
    sandbox = get_sandbox()
    row = sandbox.store.one("SELECT sub FROM profiles WHERE profile_id = ?", (profile_id,))
    if row is None:
        raise ApiError(404, {"error": "unknown profile"})
    sandbox.store.execute("UPDATE profiles SET connected = 0 WHERE profile_id = ?", (profile_id,))
    return jsonify({"notified": push.notify_profile_disconnected(sandbox, row["sub"])})


@bp.post("/calendars/<calendar_id>/permission")
def calendar_permission(calendar_id: str) -> ResponseReturnValue:
    """Grant a permission level as if the person accepted: {"permission_level"}."""
    permissions.set_level(get_sandbox().store, calendar_id, _body().get("permission_level"))
    return jsonify({"ok": True})


@bp.get("/mailbox")
def mailbox() -> ResponseReturnValue:
    """E-mailed invites, optionally for one ?recipient=."""
    recipient = request.args.get("recipient")
    rows = get_sandbox().store.query(
        "SELECT * FROM mailbox WHERE (? IS NULL OR lower(recipient) = lower(?)) ORDER BY id",
        (recipient, recipient),
    )
    return jsonify({"messages": [dict(row) for row in rows]})


@bp.get("/deliveries")
def deliveries() -> ResponseReturnValue:
    """Outbound callbacks and their outcome."""
    rows = get_sandbox().store.query("SELECT * FROM deliveries ORDER BY id")
    return jsonify({"deliveries": [dict(row) for row in rows]})


@bp.post("/smart_invites/reply")
def smart_invite_reply() -> ResponseReturnValue:
    """The recipient replies from their calendar:
    {"smart_invite_id", "email", "status": accepted|tentative|declined, "comment"?}."""
    body = _body()
    fields = {name: body.get(name) for name in ("smart_invite_id", "email", "status")}
    for name, value in fields.items():
        if not isinstance(value, str) or not value:
            raise invalid(name, "required", f"{name} must be a non-empty string")
    if fields["status"] not in api_smart_invites.REPLY_STATUSES:
        raise invalid("status", "invalid", "status must be accepted, tentative or declined")
    comment = body.get("comment")
    if comment is not None and not isinstance(comment, str):
        raise invalid("comment", "invalid", "comment must be a string")
    sandbox = get_sandbox()
    row = api_smart_invites.reply(sandbox.store, sandbox.deliverer, str(fields["smart_invite_id"]),
                                  str(fields["email"]), str(fields["status"]), comment)  # fmt: skip
    if row is None:
        raise ApiError(404, {"error": "unknown smart invite or recipient"})
    return jsonify({"smart_invite_id": row["smart_invite_id"], "email": row["email"],
                    "status": row["status"]})  # fmt: skip

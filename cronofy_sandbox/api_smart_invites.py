"""Smart Invites (§9.1): create/update, cancel and status, authenticated with the API key."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from cronofy_sandbox.delivery import Callback, Deliverer
from cronofy_sandbox.errors import FieldErrors, not_found, unauthorized
from cronofy_sandbox.gatekeeper import is_api_key
from cronofy_sandbox.invites import build_ics
from cronofy_sandbox.request_body import is_http_url, json_object
from cronofy_sandbox.state import get_sandbox
from cronofy_sandbox.store import Store
from cronofy_sandbox.timefmt import (
    EventTime,
    TimeFormatError,
    parse_event_time,
    stored_to_instant,
    zone,
)

bp = Blueprint("api_smart_invites", __name__, url_prefix="/v1")


def _recipients(body: dict[str, Any], errors: FieldErrors) -> list[str]:
    raw = body.get("recipients") if "recipients" in body else [body.get("recipient")]
    emails = [r.get("email") for r in raw if isinstance(r, dict)] if isinstance(raw, list) else []
    if not emails or not all(isinstance(e, str) and "@" in e for e in emails):
        errors.add("recipient", "required", "recipient email must be specified")
    return [str(e) for e in emails]


def _organizer(body: dict[str, Any], errors: FieldErrors) -> None:
    organizer = body.get("organizer")
    if organizer is not None and not (
        isinstance(organizer, dict)
        and all(isinstance(organizer.get(key, ""), str) for key in ("name", "email"))
    ):
        errors.add("organizer", "invalid", 'organizer must be an object like {"name": "Acme"}')


def _text(event: dict[str, Any], name: str, errors: FieldErrors, *, required: bool) -> str:
    value = event.get(name)
    if required and not value:
        errors.add(f"event.{name}", "required", f"{name} must be specified")
    elif value is not None and not isinstance(value, str):
        errors.add(f"event.{name}", "invalid", f"{name} must be a string")
    return value if isinstance(value, str) else ""


def _event(body: dict[str, Any], errors: FieldErrors) -> dict[str, Any]:
    event = body.get("event")
    if not isinstance(event, dict):
        errors.add("event", "required", "event must be specified")
        return {}
    out: dict[str, Any] = {
        "summary": _text(event, "summary", errors, required=True),
        "description": _text(event, "description", errors, required=False),
    }
    tzid = event.get("tzid", "Etc/UTC")
    try:
        zone(tzid)
    except TimeFormatError:
        errors.add("event.tzid", "invalid", "tzid must be a known IANA time zone")
        tzid = "Etc/UTC"
    edges = {}
    for name in ("start", "end"):
        try:
            edges[name] = parse_event_time(event.get(name))
            out[name] = {"time": edges[name].stored(), "tzid": edges[name].tzid or tzid}
        except TimeFormatError:
            errors.add(f"event.{name}", "invalid", f"{name} must be a Time")
    if len(edges) == 2 and _instant(edges["end"]) <= _instant(edges["start"]):
        # Otherwise the ICS would carry a DTSTART after its DTEND.
        errors.add("event.end", "invalid", "end must be after start")
    location = event.get("location")
    if location is not None:
        if not isinstance(location, dict) or not isinstance(location.get("description", ""), str):
            errors.add("event.location", "invalid", 'location must be like {"description": "..."}')
        else:
            out["location"] = location
    return out


def _instant(edge: EventTime) -> datetime:
    return stored_to_instant(edge.stored())


def _ics(
    smart_invite_id: str,
    event: dict[str, Any],
    email: str,
    organizer: dict[str, Any],
    method: str,
    sequence: int,
) -> str:
    return build_ics(
        method=method,
        uid=f"{smart_invite_id}@sandbox.cronofy.invalid",
        summary=event["summary"],
        start=stored_to_instant(event["start"]["time"]),
        end=stored_to_instant(event["end"]["time"]),
        organizer=organizer.get("email", "invites@sandbox.cronofy.invalid"),
        attendees=[email],
        description=event.get("description", ""),
        location=(event.get("location") or {}).get("description", ""),
        sequence=sequence,
    )


@bp.post("/smart_invites")
def upsert() -> ResponseReturnValue:
    """method=request (default) creates/updates; method=cancel cancels (cancellation ICS)."""
    if not is_api_key():
        raise unauthorized()
    body = json_object()
    errors = FieldErrors()
    invite_id = body.get("smart_invite_id")
    if not isinstance(invite_id, str) or not invite_id:
        errors.add("smart_invite_id", "required", "smart_invite_id must be specified")
    method = body.get("method", "request")
    if method not in ("request", "cancel"):
        errors.add("method", "invalid", "method must be request or cancel")
    emails = _recipients(body, errors)
    callback_url = body.get("callback_url")
    if callback_url is not None and not is_http_url(callback_url):
        errors.add("callback_url", "invalid", "callback_url must be an HTTP or HTTPS URL")
    store = get_sandbox().store
    event: dict[str, Any] = {}
    if method == "request":
        event = _event(body, errors)
        _organizer(body, errors)
    errors.raise_if_any()
    rows = [_store_one(store, str(invite_id), email, method, event, body) for email in emails]
    if rows and any(r is None for r in rows):
        raise not_found()
    shaped = [_shape(r) for r in rows if r is not None]
    if "recipients" in body:
        return jsonify(
            {
                **{k: v for k, v in shaped[0].items() if k != "recipient"},
                "recipients": [s["recipient"] for s in shaped],
            }
        )
    return jsonify(shaped[0])


def _store_one(
    store: Store,
    invite_id: str,
    email: str,
    method: str,
    event: dict[str, Any],
    body: dict[str, Any],
) -> dict[str, Any] | None:
    row = store.one(
        "SELECT * FROM smart_invites WHERE smart_invite_id = ? AND email = ?", (invite_id, email)
    )
    if method == "cancel":
        if row is None:
            return None
        # The recipient keeps their reply status (pending, accepted...): only the method
        # changes, and the cancellation ICS carries METHOD:CANCEL.
        store.execute(
            "UPDATE smart_invites SET method = 'cancel', sequence = sequence + 1"
            " WHERE smart_invite_id = ? AND email = ?",
            (invite_id, email),
        )
    else:
        sequence = row["sequence"] + 1 if row else 0
        store.execute(
            "INSERT OR REPLACE INTO smart_invites (smart_invite_id, email, status, callback_url,"
            " event, organizer, method, sequence) VALUES (?, ?, ?, ?, ?, ?, 'request', ?)",
            (
                invite_id,
                email,
                row["status"] if row else "pending",
                body.get("callback_url"),
                json.dumps(event),
                json.dumps(body.get("organizer") or {}),
                sequence,
            ),
        )
    return _load(store, invite_id, email)


def _load(store: Store, invite_id: str, email: str) -> dict[str, Any] | None:
    row = store.one(
        "SELECT * FROM smart_invites WHERE smart_invite_id = ? AND email = ?", (invite_id, email)
    )
    return dict(row) if row else None


def _shape(row: dict[str, Any]) -> dict[str, Any]:
    event = json.loads(row["event"])
    method = "CANCEL" if row["method"] == "cancel" else "REQUEST"
    body: dict[str, Any] = {
        "recipient": {"email": row["email"], "status": row["status"]},
        "smart_invite_id": row["smart_invite_id"],
        "callback_url": row["callback_url"],
        "event": event,
        "attachments": {
            "icalendar": _ics(
                row["smart_invite_id"],
                event,
                row["email"],
                json.loads(row["organizer"]),
                method,
                row["sequence"],
            )
        },
    }
    return body


@bp.get("/smart_invites")
def status() -> ResponseReturnValue:
    """Status of one invite for one recipient (adds `replies`)."""
    if not is_api_key():
        raise unauthorized()
    row = _load(
        get_sandbox().store,
        request.args.get("smart_invite_id", ""),
        request.args.get("recipient_email", ""),
    )
    if row is None:
        raise not_found()
    replies = (
        [] if row["status"] == "pending" else [{"email": row["email"], "status": row["status"]}]
    )
    return jsonify({**_shape(row), "replies": replies})


REPLY_STATUSES = ("accepted", "tentative", "declined")


def reply(store: Store, deliverer: Deliverer, invite_id: str, email: str, status: str,
          comment: str | None) -> dict[str, Any] | None:  # fmt: skip
    """The recipient answered the invite from their calendar: record the status and call the
    invite's callback_url back (signed), as Cronofy does. None when no such invite."""
    row = _load(store, invite_id, email)
    if row is None:
        return None
    store.execute(
        "UPDATE smart_invites SET status = ? WHERE smart_invite_id = ? AND email = ?",
        (status, invite_id, email),
    )
    answer: dict[str, Any] = {"email": email, "status": status}
    if comment:
        answer["comment"] = comment
    if row["callback_url"]:
        payload = {
            "notification": {"type": "smart_invite"},
            "smart_invite": {
                "smart_invite_id": invite_id,
                "callback_url": row["callback_url"],
                "recipient": answer,
                "reply": answer,
            },
        }
        deliverer.send(Callback("smart_invite", row["callback_url"], payload))
    return _load(store, invite_id, email)

"""The sandbox's human UI: people, calendars, events, the invites mailbox, faults."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime, timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue

from cronofy_sandbox import external_changes, permissions
from cronofy_sandbox.state import get_sandbox
from cronofy_sandbox.unsupported import NOT_OFFERED

bp = Blueprint("ui", __name__, template_folder="templates", static_folder="static")


@bp.before_request
def _csrf() -> None:
    """Every form carries the session's token (the UI may share an origin with the webapp)."""
    session.setdefault("csrf", secrets.token_urlsafe(16))
    if request.method == "POST" and request.form.get("csrf") != session["csrf"]:
        abort(400)


@bp.get("/")
def index() -> ResponseReturnValue:
    """List people and their calendars."""
    store = get_sandbox().store
    people = store.query("SELECT * FROM people ORDER BY name")
    calendars = store.query(
        "SELECT c.*, p.sub, p.provider, p.access_mode, p.linked, p.connected FROM calendars c"
        " JOIN profiles p USING (profile_id) ORDER BY p.provider, c.is_primary DESC"
    )
    return render_template(
        "sandbox/index.html",
        people=people,
        calendars=calendars,
        client_id=get_sandbox().config.client_id,
        not_offered=NOT_OFFERED,
    )


@bp.get("/calendars/<calendar_id>")
def calendar(calendar_id: str) -> ResponseReturnValue:
    """One calendar: its events (external and managed) and a form to add one."""
    store = get_sandbox().store
    cal = store.one(
        "SELECT c.*, p.provider, p.access_mode, p.profile_name FROM calendars c"
        " JOIN profiles p USING (profile_id) WHERE calendar_id = ?",
        (calendar_id,),
    )
    if cal is None:
        abort(404)
    events = store.query(
        "SELECT * FROM events WHERE calendar_id = ? AND deleted = 0 ORDER BY start", (calendar_id,)
    )
    return render_template("sandbox/calendar.html", cal=cal, events=events)


def _parse_start() -> datetime | None:
    try:
        return datetime.fromisoformat(request.form.get("start", "")).replace(tzinfo=UTC)
    except ValueError:
        return None


def _minutes() -> int:
    raw = request.form.get("minutes", "60")
    return int(raw) if raw.isdigit() and 0 < int(raw) <= 24 * 60 else 60


@bp.post("/calendars/<calendar_id>/events")
def add_event(calendar_id: str) -> ResponseReturnValue:
    """Add an external event (notifies push channels)."""
    start = _parse_start()
    summary = request.form.get("summary", "").strip() or "Busy"
    if start is None:
        flash("Give a start date and time.")
    else:
        try:
            external_changes.add(
                get_sandbox(),
                calendar_id,
                summary=summary,
                start=start,
                end=start + timedelta(minutes=_minutes()),
            )
            flash(f"Added “{summary}”.")
        except external_changes.UnknownCalendar:
            abort(404)
    return redirect(url_for("ui.calendar", calendar_id=calendar_id))


@bp.post("/events/<event_uid>/move")
def move_event(event_uid: str) -> ResponseReturnValue:
    """Move an external event to a new start, keeping or changing its length."""
    start = _parse_start()
    if start is None:
        flash("Give a new start date and time.")
    else:
        try:
            external_changes.move(
                get_sandbox(), event_uid, start, start + timedelta(minutes=_minutes())
            )
            flash("Event moved.")
        except external_changes.UnknownEvent:
            abort(404)
    return redirect(request.form.get("back") or url_for("ui.index"))


@bp.post("/events/<event_uid>/delete")
def delete_event(event_uid: str) -> ResponseReturnValue:
    """Delete an external event."""
    try:
        external_changes.delete(get_sandbox(), event_uid)
    except external_changes.UnknownEvent:
        abort(404)
    flash("Event deleted.")
    return redirect(request.form.get("back") or url_for("ui.index"))


@bp.get("/permissions/<request_id>")
def permissions_page(request_id: str) -> ResponseReturnValue:
    """Where the person accepts or rejects an app's request for unrestricted access."""
    request_row = permissions.pending(get_sandbox().store, request_id)
    if request_row is None:
        abort(404)
    calendars = get_sandbox().store.query("SELECT calendar_id, name FROM calendars")
    names = {c["calendar_id"]: c["name"] for c in calendars}
    wanted = [
        (names.get(item["calendar_id"], item["calendar_id"]), item["level"])
        for item in json.loads(request_row["permissions"])
    ]
    return render_template("sandbox/permissions.html", wanted=wanted, request_id=request_id)


@bp.post("/permissions/<request_id>")
def decide_permissions(request_id: str) -> ResponseReturnValue:
    """Accept or reject, then return to the app's redirect_uri."""
    request_row = permissions.pending(get_sandbox().store, request_id)
    if request_row is None:
        abort(404)
    accept = request.form.get("decision") == "accept"
    return redirect(permissions.decide(get_sandbox().store, request_row, accept=accept))


@bp.get("/mailbox")
def mailbox() -> ResponseReturnValue:
    """Invites e-mailed by free/busy and no-calendar writes."""
    messages = get_sandbox().store.query("SELECT * FROM mailbox ORDER BY id DESC")
    return render_template("sandbox/mailbox.html", messages=messages)


@bp.get("/faults")
def faults() -> ResponseReturnValue:
    """Pending faults and a form to add one."""
    pending = get_sandbox().store.query("SELECT * FROM faults WHERE remaining > 0 ORDER BY id")
    return render_template("sandbox/faults.html", faults=pending)


@bp.post("/faults")
def add_fault() -> ResponseReturnValue:
    """Make the next N API calls fail."""
    status = request.form.get("status", "500")
    count = request.form.get("count", "1")
    if status not in ("0", "429", "500", "503") or not count.isdigit():
        abort(400)
    get_sandbox().store.execute(
        "INSERT INTO faults (status, remaining, latency_ms) VALUES (?, ?, ?)",
        (int(status), int(count), 2000 if status == "0" else 0),
    )
    flash("Fault armed.")
    return redirect(url_for("ui.faults"))


@bp.post("/faults/clear")
def clear_faults() -> ResponseReturnValue:
    """Disarm every pending fault."""
    get_sandbox().store.execute("DELETE FROM faults")
    flash("All faults cleared.")
    return redirect(url_for("ui.faults"))

"""The sandbox's human UI: people, calendars, events, the invites mailbox, faults."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from cronofy_sandbox.state import get_sandbox

bp = Blueprint("ui", __name__, template_folder="templates", static_folder="static")


@bp.get("/")
def index() -> ResponseReturnValue:
    """List people and their calendars."""
    store = get_sandbox().store
    people = store.query("SELECT * FROM people ORDER BY name")
    calendars = store.query(
        "SELECT c.*, p.sub, p.provider, p.access_mode, p.linked FROM calendars c"
        " JOIN profiles p USING (profile_id) ORDER BY p.provider, c.is_primary DESC"
    )
    return render_template("sandbox/index.html", people=people, calendars=calendars)

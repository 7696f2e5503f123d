"""Individual Connect and the calendars page (instructors only, always their own data)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response as BaseResponse

from cronofy_client import Provider, provider_label
from webapp.access import current_account, instructor_required
from webapp.availability_cache import get_availability_cache
from webapp.clients import get_clients
from webapp.extensions import limiter
from webapp.models import AccessMode
from webapp.services import calendar_settings, connections, sync
from webapp.services.connection_health import notice_for
from webapp.tasks import kick_calendar_sync

log = logging.getLogger(__name__)

bp = Blueprint("connect", __name__)


CONNECT_START_LIMIT = "10 per minute"


def _connect_limit_key() -> str:
    return f"connect-start:{current_user.get_id()}"


def _problem(title: str, message: str, status: int = 400) -> Response:
    html = render_template("connect/problem.html", title=title, message=message)
    return make_response(html, status)


def _settings_problem(title: str, exc: connections.CalendarConnectionError) -> Response:
    """A settings change that did not happen: 503 when Cronofy could not be asked, else 400."""
    status = 503 if isinstance(exc, connections.CalendarUnavailable) else 400
    return _problem(title, str(exc), status)


@bp.app_template_filter("mode_label")
def mode_label_filter(value: str) -> str:
    """Human label of an access mode value."""
    try:
        return connections.mode_label(AccessMode(value))
    except ValueError:
        return value


@bp.app_template_filter("provider_label")
def provider_label_filter(value: str | None) -> str:
    """Human name of a Cronofy provider_name."""
    return provider_label(value)


def _viewer_zone() -> ZoneInfo:
    """The signed-in person's own time zone (UTC when unknown or not signed in)."""
    user = current_user._get_current_object() if current_user else None
    name = getattr(user, "time_zone", None) or "UTC"
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


@bp.app_template_filter("when")
def when_filter(value: datetime | None) -> str:
    """A time in the viewer's own zone with its abbreviation (e.g. CET), or "not yet"."""
    if value is None:
        return "not yet"
    local = value.astimezone(_viewer_zone())
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


@bp.app_context_processor
def calendar_notice() -> dict[str, Any]:
    """The needs-reconnect banner shown on every page of an affected instructor."""
    user = current_user._get_current_object() if current_user else None
    if user is None or not user.is_authenticated or user.is_admin:
        return {"calendar_notice": None}
    try:
        return {"calendar_notice": notice_for(user.connection)}
    except SQLAlchemyError:  # an error page must still render while the database is down
        log.warning("calendar notice unavailable (database error)")
        return {"calendar_notice": None}


@bp.get("/connect")
@instructor_required
def connect_page() -> ResponseReturnValue:
    """The three access modes side by side, the provider choice and the Connect button."""
    connection = calendar_settings.own_connection(current_account())
    return render_template(
        "connect/index.html",
        connection=connection,
        modes=AccessMode,
        providers=list(Provider),
        let_me_choose=connections.LET_ME_CHOOSE,
    )


@bp.post("/connect")
@instructor_required
@limiter.limit(
    lambda: str(current_app.config.get("CONNECT_START_LIMIT", CONNECT_START_LIMIT)),
    key_func=_connect_limit_key,
    error_message="Too many connection attempts. Wait a minute and try again.",
)
def start() -> ResponseReturnValue:
    """Validate the choice, store a fresh state and send the browser to Cronofy."""
    try:
        choice = connections.parse_choice(
            request.form.get("access_mode"), request.form.get("provider_name")
        )
        url = connections.start_connect(
            get_clients().cronofy_in_request,
            user=current_account(),
            choice=choice,
            public_base_url=current_app.config["PUBLIC_BASE_URL"],
        )
    except connections.InvalidChoice as exc:
        return _problem("Please check your choice", str(exc))
    return redirect(url, 303)


@bp.get("/connect/callback")
@instructor_required
def callback() -> ResponseReturnValue:
    """Cronofy sends the browser back here: check everything, then store the connection."""
    response = _finish_connect()
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _finish_connect() -> BaseResponse:
    args = request.args
    if error := args.get("error"):
        # An existing connection is untouched by a refused or failed new attempt: say so.
        existing = calendar_settings.own_connection(current_account())
        html = render_template("connect/cancelled.html", error=error[:100], connection=existing)
        return make_response(html, 400)
    if not args.get("state"):
        return _problem("Connection not finished", "The answer from Cronofy had no state.")
    if not args.get("code"):
        return _problem("Connection not finished", "The answer from Cronofy had no code.")
    try:
        connection = connections.complete_connect(
            get_clients().cronofy_in_request,
            user=current_account(),
            code=args["code"],
            state=args["state"],
            public_base_url=current_app.config["PUBLIC_BASE_URL"],
        )
    except connections.CalendarConnectionError as exc:
        return _problem("Connection not finished", str(exc))
    kick_calendar_sync(connection.id, full=True)  # the first sync after connect is full
    label = connections.mode_label(connection.access_mode)
    flash(f"Calendar connected ({label}).", "success")
    return redirect(url_for("connect.calendars"))  # fixed target: never a next= parameter


@bp.get("/calendars")
@instructor_required
def calendars() -> ResponseReturnValue:
    """Status, granted mode, write calendar, conflict calendars, relink and troubleshooting."""
    page = calendar_settings.calendars_page(
        get_clients().cronofy_in_request, user=current_account()
    )
    health = sync.sync_health(page.connection) if page.connection is not None else None
    return render_template(
        "connect/calendars.html", page=page, connection=page.connection, health=health
    )


@bp.post("/calendars/write-calendar")
@instructor_required
def choose_write_calendar() -> ResponseReturnValue:
    """Change the calendar bookings are written to."""
    try:
        name = calendar_settings.choose_write_calendar(
            get_clients().cronofy_in_request,
            user=current_account(),
            calendar_id=request.form.get("calendar_id", ""),
        )
    except connections.CalendarConnectionError as exc:
        return _settings_problem("Calendar not changed", exc)
    flash(f"New bookings go to “{name}”.", "success")
    return redirect(url_for("connect.calendars"), 303)


@bp.post("/calendars/conflict-calendars")
@instructor_required
def set_conflict_calendars() -> ResponseReturnValue:
    """Change which calendars count when looking for conflicts (none only when confirmed)."""
    try:
        count = calendar_settings.set_conflict_calendars(
            get_clients().cronofy_in_request,
            user=current_account(),
            calendar_ids=request.form.getlist("calendar_ids"),
            confirm_none=request.form.get("confirm_none") == "yes",
            availability_cache=get_availability_cache(),
        )
    except connections.NoConflictCalendars as exc:
        return make_response(render_template("connect/confirm_no_conflicts.html", warning=exc), 409)
    except connections.CalendarConnectionError as exc:
        return _settings_problem("Calendars not changed", exc)
    if (connection := calendar_settings.own_connection(current_account())) is not None:
        kick_calendar_sync(connection.id, full=True)  # blocks follow the new calendar choice
    if count == 0:
        flash(
            "No calendar is checked for conflicts now: customers can book times you are busy, "
            "so double bookings are possible.",
            "warning",
        )
    else:
        verb = "counts" if count == 1 else "count"
        flash(
            f"{count} {'calendar' if count == 1 else 'calendars'} now {verb} for conflicts.",
            "success",
        )
    return redirect(url_for("connect.calendars"), 303)


@bp.get("/calendars/disconnect")
@instructor_required
def confirm_disconnect() -> ResponseReturnValue:
    """Explain what disconnecting means before doing it."""
    connection = calendar_settings.own_connection(current_account())
    if connection is None:
        return redirect(url_for("connect.calendars"))
    return render_template("connect/disconnect.html", connection=connection)


@bp.post("/calendars/disconnect")
@instructor_required
def disconnect() -> ResponseReturnValue:
    """Disconnect: the page shows "not connected" at once; clean-up finishes in the background."""
    try:
        connections.disconnect_user(user=current_account(), reason="user")
    except connections.NotConnected:
        flash("Your calendar was already disconnected.", "info")
        return redirect(url_for("connect.calendars"), 303)
    flash("Your calendar is disconnected.", "success")
    return redirect(url_for("connect.calendars"), 303)

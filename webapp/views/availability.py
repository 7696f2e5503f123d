""" "My availability": the week grid of offered starts and "why not this slot?"."""

from __future__ import annotations

from datetime import date, datetime, time

from flask import Blueprint, abort, render_template, request
from flask.typing import ResponseReturnValue

from webapp.access import current_account, login_required
from webapp.availability_cache import get_availability_cache
from webapp.clients import get_clients
from webapp.models import User
from webapp.services.availability import week as weeks
from webapp.services.availability.results import AvailabilityUnavailable
from webapp.services.availability.why_not import explain

bp = Blueprint("availability", __name__)


def _int_arg(name: str) -> int | None:
    raw = request.args.get(name, "")
    return int(raw) if raw.isdigit() else None


def _date_arg(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


def _instructor() -> User | None:
    """The instructor in question; 404 when the viewer may not see them."""
    viewer = current_account()
    wanted = _int_arg("instructor")
    if viewer.is_admin and wanted is None:
        return None
    found = weeks.viewable_instructor(viewer, wanted)
    if found is None:
        abort(404)
    return found


@bp.get("/availability")
@login_required
def week() -> ResponseReturnValue:
    """A week of the instructor's offered starts for one service, in their time zone."""
    viewer, instructor = current_account(), _instructor()
    choices = weeks.organisation_instructors(viewer) if viewer.is_admin else []
    if instructor is None:
        return render_template("availability/week.html", grid=None, choices=choices)
    clients = get_clients()
    grid = weeks.week_grid(
        clients.cronofy_in_request, clients.bookly, get_availability_cache(),
        instructor=instructor, service_id=_int_arg("service"), week_of=_date_arg("week"),
    )  # fmt: skip
    return render_template("availability/week.html", grid=grid, choices=choices)


@bp.get("/availability/why-not")
@login_required
def why_not() -> ResponseReturnValue:
    """Every reason a time is not offered (the time is read in the instructor's zone)."""
    instructor = _instructor()
    service_id, day = _int_arg("service"), _date_arg("date")
    try:
        at = time.fromisoformat(request.args.get("time", ""))
    except ValueError:
        at = None
    if instructor is None or service_id is None or day is None or at is None:
        return render_template("availability/why_not.html", problem=_MISSING), 400
    zone = weeks.user_zone(instructor)
    start = datetime.combine(day, at, zone)
    clients = get_clients()
    try:
        found = explain(
            clients.cronofy_in_request, clients.bookly,
            instructor=instructor, service_id=service_id, start=start,
        )  # fmt: skip
    except AvailabilityUnavailable as exc:
        return render_template("availability/why_not.html", problem=str(exc)), 503
    return render_template(
        "availability/why_not.html", explanation=found, instructor=instructor, zone=zone,
        service_id=service_id, week=weeks.monday_of(day),
    )  # fmt: skip


_MISSING = "Choose a service, a date and a time (HH:MM) to ask about."

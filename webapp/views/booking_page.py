"""The public booking pages: one instructor's, and a school's "any instructor" page per
service. A week of free starts in the visitor's time zone, a short form, a confirmation; a
slot taken meanwhile shows the next free ones."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from bookly_client import BooklyError, BooklyGateway
from webapp import metrics
from webapp.availability_cache import get_availability_cache
from webapp.clients import get_clients
from webapp.extensions import db
from webapp.models import Booking, Organisation, User
from webapp.services import bookings, catalogue
from webapp.services.availability.finder import AvailabilityRequest, find_availability
from webapp.services.availability.results import AvailabilityError, Slot
from webapp.tasks import kick_booking_delivery

bp = Blueprint("booking_page", __name__)


def _zone() -> tuple[ZoneInfo, str | None]:
    """The visitor's zone (``tz``; UTC until their browser says), and a notice when the
    given name is not a time zone."""
    raw = request.values.get("tz", "").strip()
    try:
        return ZoneInfo(raw or "UTC"), None
    except (ZoneInfoNotFoundError, ValueError):
        shown = raw[:60]
        return ZoneInfo("UTC"), f"“{shown}” is not a time zone we know; times are shown in UTC."


def _setting(instructor_id: int) -> tuple[User, BooklyGateway, list[tuple[int, str]]]:
    bookly = get_clients().bookly
    try:
        instructor, staff_id = bookings.instructor_for_booking(instructor_id)
    except bookings.InvalidBooking:
        abort(404)
    if bookly is None:
        abort(503)
    try:
        services = [(s.id, s.title) for s in bookly.list_services(staff_id=staff_id)]
    except BooklyError:
        abort(503)
    return instructor, bookly, services


def _slots(instructors: tuple[User, ...], bookly: BooklyGateway, service_id: int, first: date,
           zone: ZoneInfo, *, any_instructor: bool = False) -> list[Slot]:  # fmt: skip
    if not instructors:
        return []
    # From the next whole minute when the week has begun: the window (and so the cached
    # view's key) then stays the same for a minute, instead of changing with every visitor.
    now = bookly.now()
    minute = now.replace(second=0, microsecond=0)
    next_minute = minute + timedelta(minutes=1) if minute < now else minute
    start = max(datetime.combine(first, time(), zone), next_minute)
    wanted = AvailabilityRequest(service_id, instructors, start, start + timedelta(days=7),
                                 any_instructor=any_instructor)  # fmt: skip
    try:
        view = find_availability(
            get_clients().cronofy_in_request, bookly, get_availability_cache(), wanted
        )
    except AvailabilityError:
        return []
    return list(view.slots)


@bp.route("/book/<int:instructor_id>", methods=["GET", "POST"])
def book(instructor_id: int) -> ResponseReturnValue:
    """GET: the week of free starts and the form; POST: book the chosen start."""
    instructor, bookly, services = _setting(instructor_id)
    zone, zone_problem = _zone()
    service_ids = [s for s, _ in services]
    raw_service = request.values.get("service", "")
    service_id = int(raw_service) if raw_service.isdigit() else (service_ids or [0])[0]
    problem, status, fields = None, 200, {}
    if request.method == "POST":
        outcome = _submit(lambda: _post(instructor, bookly, service_id, zone), zone)
        if not isinstance(outcome, Refusal):
            return outcome
        problem, status, fields = outcome.problem, outcome.status, outcome.fields
    try:
        first = date.fromisoformat(request.values.get("week", ""))
    except ValueError:
        first = bookly.now().astimezone(zone).date()
    slots = (
        _slots((instructor,), bookly, service_id, first, zone) if service_id in service_ids else []
    )
    next_url = url_for("booking_page.book", instructor_id=instructor.id, service=service_id,
                       tz=zone.key, week=(first + timedelta(days=7)).isoformat())  # fmt: skip
    page = render_template(
        "bookings/book.html", heading=f"Book a time with {instructor.name}",
        services=services, service_id=service_id,
        slots=slots, zone=zone, first=first, next_url=next_url,
        form_key=secrets.token_urlsafe(16), problem=problem, fields=fields, form=request.form,
        zone_problem=zone_problem, zone_chosen=bool(request.values.get("tz")),
    )  # fmt: skip
    return page, status


@bp.route("/book/school/<int:organisation_id>", methods=["GET", "POST"])
def book_school(organisation_id: int) -> ResponseReturnValue:
    """A school's page: any instructor offering the chosen service, whoever is free."""
    school = db.session.get(Organisation, organisation_id)
    bookly = get_clients().bookly
    if school is None:
        abort(404)
    if bookly is None:
        abort(503)
    try:
        offered = [s for s in catalogue.list_services(bookly, organisation_id) if s.instructor_ids]
    except BooklyError:
        abort(503)
    if not offered:
        abort(404)
    services = [(s.id, s.title) for s in offered]
    zone, zone_problem = _zone()
    raw_service = request.values.get("service", "")
    chosen = next((s for s in offered if str(s.id) == raw_service), offered[0])
    team = [u for u in catalogue.organisation_instructors(organisation_id)
            if u.id in chosen.instructor_ids]  # fmt: skip
    problem, status, fields = None, 200, {}
    if request.method == "POST":
        outcome = _submit(lambda: _post_any(team, bookly, chosen.id, zone), zone)
        if not isinstance(outcome, Refusal):
            return outcome
        problem, status, fields = outcome.problem, outcome.status, outcome.fields
    try:
        first = date.fromisoformat(request.values.get("week", ""))
    except ValueError:
        first = bookly.now().astimezone(zone).date()
    slots = _slots(tuple(team), bookly, chosen.id, first, zone, any_instructor=True)
    next_url = url_for("booking_page.book_school", organisation_id=organisation_id,
                       service=chosen.id, tz=zone.key,
                       week=(first + timedelta(days=7)).isoformat())  # fmt: skip
    page = render_template(
        "bookings/book.html", heading=f"Book a time at {school.name}", services=services,
        service_id=chosen.id, slots=slots, zone=zone, first=first, next_url=next_url,
        form_key=secrets.token_urlsafe(16), problem=problem, fields=fields, form=request.form,
        zone_problem=zone_problem, zone_chosen=bool(request.values.get("tz")),
    )  # fmt: skip
    return page, status


def _post_any(team: list[User], bookly: BooklyGateway, service_id: int, zone: ZoneInfo) -> Booking:
    """Book the chosen start with the first instructor the fresh view says is free."""
    start = _start()
    if not team:
        raise bookings.InvalidBooking({"service": "Nobody offers this service right now."})
    wanted = AvailabilityRequest(service_id, tuple(team), start, start + timedelta(minutes=1),
                                 any_instructor=True)  # fmt: skip
    try:
        view = find_availability(
            get_clients().cronofy_in_request, bookly, get_availability_cache(), wanted
        )
        free = next((s.instructor_ids for s in view.slots if s.start == start), ())
    except AvailabilityError:
        free = ()
    # Free ones first; the rest still get a live check (the view may be a little stale).
    candidates = [*free, *(u.id for u in team if u.id not in free)]
    result = bookings.book_any(
        bookly, get_clients().cronofy_in_request, _request(team[0].id, service_id, start, zone),
        candidates, idempotency_key=f"page:{request.form.get('form_key', '')}",
        cache=get_availability_cache(), by="customer (booking page)",
    )  # fmt: skip
    kick_booking_delivery()
    return result.booking


def _start() -> datetime:
    try:
        return datetime.fromisoformat(request.form.get("start", ""))
    except ValueError:
        raise bookings.InvalidBooking({"start": "Choose one of the free times."}) from None


def _request(instructor_id: int, service_id: int, start: datetime,
             zone: ZoneInfo) -> bookings.BookingRequest:  # fmt: skip
    form = request.form
    return bookings.BookingRequest(
        instructor_id=instructor_id, service_id=service_id, start=start,
        customer=bookings.Customer(form.get("name", ""), form.get("email", ""),
                                   form.get("phone", ""), zone.key),
        note=form.get("note") or None,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a booking was not made: what to say, the status, messages per field."""

    problem: str
    status: int
    fields: dict[str, str]


def _submit(book: Callable[[], Booking], zone: ZoneInfo) -> Response | Refusal:
    """Run a booking; the redirect to its confirmation, or (problem, status, fields)."""
    try:
        made = book()
    except bookings.SlotTaken:
        metrics.count_booking_conflict()
        return Refusal("That time was just taken. Please choose one of these.", 409, {})
    except bookings.InvalidBooking as exc:
        return Refusal("Please check the form.", 422, dict(exc.fields))
    except (bookings.IdempotencyConflict, bookings.BookingUnavailable) as exc:
        return Refusal(str(exc), 503, {})
    return redirect(url_for("booking_page.confirmed", public_id=made.public_id, tz=zone.key),
                    code=303)  # fmt: skip


def _post(instructor: User, bookly: BooklyGateway, service_id: int, zone: ZoneInfo) -> Booking:
    form = request.form
    wanted = _request(instructor.id, service_id, _start(), zone)
    result = bookings.book(
        bookly, get_clients().cronofy_in_request, wanted,
        idempotency_key=f"page:{form.get('form_key', '')}", cache=get_availability_cache(),
        by="customer (booking page)",
    )  # fmt: skip
    kick_booking_delivery()
    return result.booking


@bp.get("/book/confirmed/<public_id>")
def confirmed(public_id: str) -> ResponseReturnValue:
    """The confirmation: when, in the visitor's zone, and where the invite went."""
    try:
        booking = bookings.get_booking(public_id)
    except bookings.BookingNotFound:
        abort(404)
    zone, _ = _zone()
    start = booking.starts_at.astimezone(zone)
    return render_template("bookings/confirmed.html", booking=booking, zone=zone, start=start)

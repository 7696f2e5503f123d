"""The public booking page of one instructor: a week of free starts in the visitor's time
zone, a short form, a confirmation; a slot taken meanwhile shows the next free ones."""

from __future__ import annotations

import secrets
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from bookly_client import BooklyError, BooklyGateway
from webapp import metrics
from webapp.availability_cache import get_availability_cache
from webapp.clients import get_clients
from webapp.models import Booking, User
from webapp.services import bookings
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


def _slots(instructor: User, bookly: BooklyGateway, service_id: int, first: date,
           zone: ZoneInfo) -> list[Slot]:  # fmt: skip
    start = max(datetime.combine(first, time(), zone), bookly.now())
    wanted = AvailabilityRequest(service_id, (instructor,), start, start + timedelta(days=7))
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
        try:
            made = _post(instructor, bookly, service_id, zone)
        except bookings.SlotTaken:
            metrics.count_booking_conflict()
            problem, status = "That time was just taken. Please choose one of these.", 409
        except bookings.InvalidBooking as exc:
            problem, status, fields = "Please check the form.", 422, exc.fields
        except (bookings.IdempotencyConflict, bookings.BookingUnavailable) as exc:
            problem, status = str(exc), 503
        else:
            return redirect(url_for("booking_page.confirmed", public_id=made.public_id,
                                    tz=zone.key), code=303)  # fmt: skip
    try:
        first = date.fromisoformat(request.values.get("week", ""))
    except ValueError:
        first = bookly.now().astimezone(zone).date()
    slots = _slots(instructor, bookly, service_id, first, zone) if service_id in service_ids else []
    page = render_template(
        "bookings/book.html", instructor=instructor, services=services, service_id=service_id,
        slots=slots, zone=zone, first=first, next_week=first + timedelta(days=7),
        form_key=secrets.token_urlsafe(16), problem=problem, fields=fields, form=request.form,
        zone_problem=zone_problem, zone_chosen=bool(request.values.get("tz")),
    )  # fmt: skip
    return page, status


def _post(instructor: User, bookly: BooklyGateway, service_id: int, zone: ZoneInfo) -> Booking:
    form = request.form
    try:
        start = datetime.fromisoformat(form.get("start", ""))
    except ValueError:
        raise bookings.InvalidBooking({"start": "Choose one of the free times."}) from None
    wanted = bookings.BookingRequest(
        instructor_id=instructor.id, service_id=service_id, start=start,
        customer=bookings.Customer(form.get("name", ""), form.get("email", ""),
                                   form.get("phone", ""), zone.key),
        note=form.get("note") or None,
    )  # fmt: skip
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

"""Booking pages: the customer's cancel/reschedule pages behind signed links, and the
instructor's and admin's upcoming bookings with their delivery state (cancel, retry)."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from bookly_client import BooklyGateway
from webapp.access import current_account, login_required
from webapp.availability_cache import get_availability_cache
from webapp.clients import get_clients
from webapp.database import utcnow
from webapp.models import Booking, BookingStatus, Role, User
from webapp.services import bookings, catalogue
from webapp.services.bookings import delivery
from webapp.services.bookings.links import InvalidLink, ManageLinks
from webapp.tasks import kick_booking_delivery

CUSTOMER = "customer (from their e-mailed link)"
bp = Blueprint("bookings", __name__)

UPCOMING = timedelta(days=60)


def _bookly() -> BooklyGateway:
    bookly = get_clients().bookly
    if bookly is None:
        raise bookings.BookingUnavailable("No Bookly site is configured.")
    return bookly


def _from_link(token: str) -> Booking:
    public_id = ManageLinks.from_config(current_app.config).public_id(token)
    return bookings.get_booking(public_id)


def _link_problem(exc: Exception) -> ResponseReturnValue:
    return render_template("bookings/link_problem.html", message=str(exc)), 400


@bp.route("/bookings/manage/<token>/cancel", methods=["GET", "POST"])
def customer_cancel(token: str) -> ResponseReturnValue:
    """The customer's cancel page (GET asks, POST cancels)."""
    try:
        booking = _from_link(token)
        if request.method == "POST" and booking.status is BookingStatus.CONFIRMED:
            booking = bookings.cancel(_bookly(), booking.public_id, cache=get_availability_cache(),
                                      by=CUSTOMER)  # fmt: skip
            kick_booking_delivery()
            return render_template("bookings/customer_done.html", booking=booking), 200
    except (InvalidLink, bookings.BookingNotFound) as exc:
        return _link_problem(exc)
    except bookings.BookingUnavailable as exc:
        return render_template("bookings/link_problem.html", message=str(exc)), 503
    return render_template("bookings/customer_cancel.html", booking=booking)


@bp.route("/bookings/manage/<token>/reschedule", methods=["GET", "POST"])
def customer_reschedule(token: str) -> ResponseReturnValue:
    """The customer's reschedule page: the next free starts, pick one."""
    status, problem = 200, None
    try:
        booking = _from_link(token)
        if request.method == "POST":
            start = datetime.fromisoformat(request.form.get("start", ""))
            booking = bookings.reschedule(
                _bookly(), get_clients().cronofy_in_request, booking.public_id, start,
                cache=get_availability_cache(), by=CUSTOMER,
            )  # fmt: skip
            kick_booking_delivery()
            return render_template("bookings/customer_done.html", booking=booking)
    except (InvalidLink, bookings.BookingNotFound) as exc:
        return _link_problem(exc)
    except bookings.SlotTaken:
        status, problem = 409, "That time was just taken. Here are the next free times."
    except (ValueError, bookings.InvalidBooking, bookings.BookingClosed) as exc:
        status, problem = 422, str(exc) or "Choose one of the times below."
    except bookings.BookingUnavailable as exc:
        return render_template("bookings/link_problem.html", message=str(exc)), 503
    bookly = _bookly()
    slots = bookings.free_slots_after(
        get_clients().cronofy_in_request, bookly, booking.instructor_id,
        booking.bookly_service_id, bookly.now(), count=12,
    )  # fmt: skip
    page = render_template(
        "bookings/customer_reschedule.html", booking=booking, slots=slots, problem=problem
    )
    return page, status


def _instructor_ids(viewer: User) -> list[int]:
    if viewer.role is Role.ADMIN:
        return [u.id for u in catalogue.organisation_instructors(viewer.organisation_id)]
    return [viewer.id]


@bp.get("/bookings")
@login_required
def upcoming() -> ResponseReturnValue:
    """Upcoming bookings (own, or the organisation's for an admin) with delivery state."""
    viewer = current_account()
    bookly = get_clients().bookly
    now = bookly.now() if bookly is not None else utcnow()  # the clock availability uses
    found = bookings.upcoming(_instructor_ids(viewer), now - timedelta(days=1), now + UPCOMING)
    return render_template("bookings/upcoming.html", bookings=found, viewer=viewer)


@bp.post("/bookings/<public_id>/retry")
@login_required
def retry(public_id: str) -> ResponseReturnValue:
    """Deliver a booking's calendar side again ("calendar not updated")."""
    try:
        bookings.visible_booking(current_account(), public_id)
        delivery.retry(public_id)
    except bookings.BookingNotFound:
        return render_template("bookings/link_problem.html", message="No such booking."), 404
    kick_booking_delivery()
    flash("Delivery to the calendar is being retried.", "info")
    return redirect(url_for("bookings.upcoming"))


@bp.post("/bookings/<public_id>/cancel")
@login_required
def cancel(public_id: str) -> ResponseReturnValue:
    """Cancel a booking from the upcoming list."""
    try:
        viewer = current_account()
        booking = bookings.visible_booking(viewer, public_id)
        bookings.cancel(_bookly(), booking.public_id, cache=get_availability_cache(),
                        by=viewer.email)  # fmt: skip
    except bookings.BookingNotFound:
        return render_template("bookings/link_problem.html", message="No such booking."), 404
    except bookings.BookingUnavailable as exc:
        flash(str(exc), "error")
        return redirect(url_for("bookings.upcoming"))
    kick_booking_delivery()
    flash("The booking is cancelled; the customer is told by e-mail.", "info")
    return redirect(url_for("bookings.upcoming"))

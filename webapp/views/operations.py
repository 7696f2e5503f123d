"""The admins' sync page: each instructor's sync both ways, the Bookly feed, dead jobs with a
Retry button, and the school's policy for booking events edited in a calendar.

Admins only; anyone else gets 404, so the page's existence is not revealed.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from webapp.access import admin_required, current_account
from webapp.availability_cache import get_availability_cache
from webapp.clients import get_clients
from webapp.models import BookingEventPolicy
from webapp.services import bookings, customer_erasure, operations
from webapp.services.privacy import ErasureRefused
from webapp.tasks import kick_booking_delivery, kick_bookly_mirror

bp = Blueprint("operations", __name__)

POLICIES = (
    (BookingEventPolicy.BOOKLY_WINS,
     "Keep the booking: put the event back and tell the instructor"),
    (BookingEventPolicy.CALENDAR_WINS,
     "Follow the calendar: move or cancel the booking and tell the customer"),
)  # fmt: skip


@bp.get("/sync")
@admin_required
def index() -> ResponseReturnValue:
    """The organisation's sync health."""
    admin = current_account()
    return render_template(
        "operations/sync.html", health=operations.organisation_health(admin.organisation_id),
        policies=POLICIES,
    )  # fmt: skip


@bp.post("/sync/policy")
@admin_required
def policy() -> ResponseReturnValue:
    """Choose what a booking's event moved or deleted in a calendar does."""
    admin = current_account()
    try:
        chosen = BookingEventPolicy(request.form.get("policy", ""))
    except ValueError:
        flash("Choose one of the two policies.", "error")
        return redirect(url_for("operations.index"), code=303)
    if operations.set_policy(admin.organisation_id, chosen, admin):
        flash("Policy saved.", "success")
    return redirect(url_for("operations.index"), code=303)


@bp.post("/sync/jobs/<int:job_id>/retry")
@admin_required
def retry(job_id: int) -> ResponseReturnValue:
    """Run a dead job again."""
    admin = current_account()
    try:
        operations.retry_dead_job(admin.organisation_id, job_id, admin)
    except operations.JobNotFound:
        abort(404)
    kick_booking_delivery()
    kick_bookly_mirror()
    flash("Retrying now; reload the page in a moment.", "success")
    return redirect(url_for("operations.index"), code=303)


@bp.route("/customers/erase", methods=["GET", "POST"])
@admin_required
def erase_customer() -> ResponseReturnValue:
    """Erase a customer's data on their request: every booking, Bookly row, event, invite."""
    admin = current_account()
    report, error, status = None, None, 200
    if request.method == "POST":
        bookly = get_clients().bookly
        if bookly is None:
            abort(503)
        email = request.form.get("email", "")
        if email.strip().lower() != request.form.get("confirm_email", "").strip().lower():
            error, status = "Type the address twice, the same way, to confirm.", 400
        else:
            try:
                report = customer_erasure.erase_customer(
                    bookly, admin.organisation_id, email, admin, cache=get_availability_cache()
                )
            except ErasureRefused as exc:
                error, status = str(exc), 400
            except bookings.BookingError as exc:
                error, status = f"{exc} Nothing more was changed; try again.", 503
            else:
                kick_booking_delivery()
    page = render_template("operations/erase_customer.html", report=report, error=error)
    return page, status

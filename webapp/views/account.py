"""The person's own profile page (instructors and admins)."""

from __future__ import annotations

import json

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import logout_user

from webapp.access import current_account, login_required
from webapp.clients import get_clients
from webapp.extensions import db
from webapp.services import audit, privacy, profiles

bp = Blueprint("account", __name__)


def _page(error: str | None = None, status: int = 200) -> ResponseReturnValue:
    user = current_account()
    names = profiles.staff_names(get_clients().bookly, [user.bookly_staff_id])
    html = render_template(
        "account/profile.html",
        user=user,
        staff_name=names.get(user.bookly_staff_id) if user.bookly_staff_id else None,
        time_zones=profiles.time_zones(),
        error=error,
    )
    return make_response(html, status)


@bp.get("/profile")
@login_required
def profile() -> ResponseReturnValue:
    """Name, e-mail, time zone and the linked Bookly staff member."""
    return _page()


@bp.post("/profile")
@login_required
def update() -> ResponseReturnValue:
    """Save the name and time zone."""
    try:
        profiles.update_profile(
            current_account(),
            name=request.form.get("name", ""),
            time_zone=request.form.get("time_zone", ""),
        )
    except profiles.InvalidProfile as exc:
        return _page(str(exc), 400)
    flash("Profile saved. Times are now shown in your time zone.", "success")
    return redirect(url_for("account.profile"), 303)


@bp.get("/me/export")
@login_required
def export() -> ResponseReturnValue:
    """Everything we hold about the logged-in person, as a JSON download (no tokens)."""
    user = current_account()
    body = json.dumps(privacy.export_user(user), indent=2, ensure_ascii=False)
    audit.record("user.exported", actor=user, target=user.email)
    db.session.commit()
    response = make_response(body, 200)
    response.headers["Content-Type"] = "application/json; charset=utf-8"
    response.headers["Content-Disposition"] = 'attachment; filename="my-calendar-bridge-data.json"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _erase_page(error: str | None = None, status: int = 200) -> ResponseReturnValue:
    html = render_template("account/erase.html", user=current_account(), error=error)
    return make_response(html, status)


@bp.get("/me/erase")
@login_required
def erase_form() -> ResponseReturnValue:
    """What erasing the account does, and the confirmation form."""
    return _erase_page()


@bp.post("/me/erase")
@login_required
def erase() -> ResponseReturnValue:
    """Erase the account after the person typed their e-mail address."""
    try:
        _erase(request.form.get("confirm_email", ""))
    except privacy.ErasureRefused as exc:
        return _erase_page(str(exc), 400)
    flash("Your account and calendar connection are erased. Thank you for using the bridge.",
          "success")  # fmt: skip
    return redirect(url_for("auth.login"), 303)


@bp.delete("/me")
@login_required
def erase_json() -> ResponseReturnValue:
    """The same erasure for scripts: JSON ``{"confirm_email": ...}`` and the CSRF header."""
    payload = request.get_json(silent=True)
    confirm = payload.get("confirm_email") if isinstance(payload, dict) else None
    if not isinstance(confirm, str):
        return {"error": {"code": "invalid_request", "fields": {
            "confirm_email": "Send your e-mail address to confirm."},
            "message": "Send JSON {\"confirm_email\": \"<your address>\"}."}}, 400  # fmt: skip
    try:
        report = _erase(confirm)
    except privacy.ErasureRefused as exc:
        return {"error": {"code": "erasure_refused", "message": str(exc), "fields": {}}}, 400
    return {"erased": True, "bookings_kept": report.bookings_kept,
            "audit_events_pseudonymised": report.audit_events_pseudonymised}  # fmt: skip


def _erase(confirm_email: str) -> privacy.ErasureReport:
    user = current_account()
    report = privacy.erase_user(user, confirm_email=confirm_email)
    logout_user()
    return report

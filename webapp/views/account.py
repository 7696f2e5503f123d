"""The person's own profile page (instructors and admins)."""

from __future__ import annotations

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from webapp.access import current_account, login_required
from webapp.clients import get_clients
from webapp.services import profiles

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

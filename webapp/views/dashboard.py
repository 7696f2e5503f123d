"""The page a person lands on after login."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import selectinload

from webapp.access import current_account, login_required
from webapp.clients import get_clients
from webapp.extensions import db
from webapp.models import Role, User
from webapp.services import profiles

bp = Blueprint("dashboard", __name__)

# The connect blueprint (issue 6) serves this path; a plain link keeps this page independent.
CONNECT_PATH = "/connect"


@bp.get("/")
@login_required
def index() -> ResponseReturnValue:
    """Instructors see their calendar status; admins see their organisation."""
    user = current_account()
    if user.is_admin:
        instructors = db.session.scalars(
            sa.select(User)
            .where(User.organisation_id == user.organisation_id, User.role == Role.INSTRUCTOR)
            .options(selectinload(User.connection))
            .order_by(User.email)
        ).all()
        names = profiles.staff_names(get_clients().bookly, [i.bookly_staff_id for i in instructors])
        return render_template(
            "dashboard/admin.html", user=user, instructors=instructors, staff_names=names
        )
    names = profiles.staff_names(get_clients().bookly, [user.bookly_staff_id])
    return render_template(
        "dashboard/instructor.html",
        user=user,
        connection=user.connection,
        connect_path=CONNECT_PATH,
        staff_name=names.get(user.bookly_staff_id) if user.bookly_staff_id else None,
    )

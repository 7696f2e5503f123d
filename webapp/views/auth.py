"""Login and logout."""

from __future__ import annotations

import logging

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length, ValidationError

from webapp.access import current_account, login_required
from webapp.extensions import limiter, login_account_key
from webapp.services import accounts
from webapp.services.email_addresses import InvalidEmail, email_address

log = logging.getLogger(__name__)

bp = Blueprint("auth", __name__)


def _an_email_address(form: FlaskForm, field: EmailField) -> None:
    """The one e-mail check of the service, as a form validator."""
    try:
        email_address(field.data or "")
    except InvalidEmail:
        raise ValidationError("Enter an e-mail address.") from None


class LoginForm(FlaskForm):  # type: ignore[misc]  # Flask-WTF ships no types
    """E-mail and password."""

    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254), _an_email_address])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])


def _login_failed(response: Response) -> bool:
    """Only failed attempts count against the login limits."""
    return bool(g.get("login_failed"))


def _per_account_limit() -> str:
    return str(current_app.config["LOGIN_FAILURES_PER_ACCOUNT"])


def _per_ip_limit() -> str:
    return str(current_app.config["LOGIN_FAILURES_PER_IP"])


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    _per_account_limit,
    key_func=login_account_key,
    methods=["POST"],
    deduct_when=_login_failed,
    scope="login-account",
    error_message="Too many failed logins for this account. Wait a minute and try again.",
)
@limiter.limit(
    _per_ip_limit,
    methods=["POST"],
    deduct_when=_login_failed,
    scope="login-ip",
    error_message="Too many failed logins from your network. Wait a minute and try again.",
)
def login() -> ResponseReturnValue:
    """Show the login form; on POST check the password and start a fresh session."""
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    form = LoginForm()
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        return render_template("auth/login.html", form=form), status
    user = accounts.authenticate(form.email.data or "", form.password.data or "")
    if user is None:
        g.login_failed = True
        flash("Wrong e-mail or password.", "error")
        return render_template("auth/login.html", form=form), 401
    session.clear()  # a new session on every login (no fixation)
    login_user(user)
    session.permanent = True
    return redirect(url_for("dashboard.index"))


@bp.post("/logout")
@login_required
def logout() -> ResponseReturnValue:
    """End the session."""
    accounts.record_logout(current_account())
    logout_user()
    session.clear()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))

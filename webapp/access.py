"""Typed access guards for views (Flask-Login's decorators are untyped)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar, cast

import flask_login
from flask import abort
from flask_login import current_user

from webapp.models import User

P = ParamSpec("P")
R = TypeVar("R")


def login_required(view: Callable[P, R]) -> Callable[P, R]:
    """Redirect anonymous visitors to the login page."""
    return cast(Callable[P, R], flask_login.login_required(view))


def admin_required(view: Callable[P, R]) -> Callable[P, R]:
    """Logged-in enterprise admins only; others get 403 (anonymous: the login page)."""

    @wraps(view)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return login_required(guarded)


def current_account() -> User:
    """The logged-in user, typed (use behind login_required; anonymous gets 401)."""
    user = current_user._get_current_object()
    if not isinstance(user, User):
        abort(401)
    return user

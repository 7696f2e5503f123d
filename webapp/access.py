"""Typed access guards for views (Flask-Login's decorators are untyped)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar, cast

import flask_login
from flask import abort
from flask_login import current_user

from webapp.models import Role, User

P = ParamSpec("P")
R = TypeVar("R")


def login_required(view: Callable[P, R]) -> Callable[P, R]:
    """Redirect anonymous visitors to the login page."""
    return cast(Callable[P, R], flask_login.login_required(view))


def role_required(role: Role, *, refuse_with: int) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Logged-in users of one role only; others get ``refuse_with`` (anonymous: login page).

    404 hides that a page exists at all (enterprise pages); 403 says it is not for you.
    """

    def decorate(view: Callable[P, R]) -> Callable[P, R]:
        @wraps(view)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
            if current_account().role is not role:
                abort(refuse_with)
            return view(*args, **kwargs)

        return login_required(guarded)

    return decorate


# Enterprise pages: instructors get 404, so the pages' existence is not revealed.
admin_required = role_required(Role.ADMIN, refuse_with=404)
# Personal calendar pages: admins get 403 (a connection is an instructor's own).
instructor_required = role_required(Role.INSTRUCTOR, refuse_with=403)


def current_account() -> User:
    """The logged-in user, typed (use behind login_required; anonymous gets 401)."""
    user = current_user._get_current_object()
    if not isinstance(user, User):
        abort(401)
    return user

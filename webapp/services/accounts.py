"""People and organisations: creating accounts and checking passwords."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime

import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import Organisation, Role, User
from webapp.security import hash_password, verify_password
from webapp.services import audit
from webapp.services.email_addresses import InvalidEmail, email_address

log = logging.getLogger(__name__)

MIN_PASSWORD_LENGTH = 8
_SLUG_RE = re.compile(r"[^a-z0-9]+")


class AccountError(ValueError):
    """An account cannot be created as asked (the message says why)."""


def normalise_email(email: str) -> str:
    """E-mails are compared case-insensitively and without surrounding spaces."""
    return email.strip().lower()


def slugify(name: str) -> str:
    """A URL-safe slug of an organisation name."""
    slug = _SLUG_RE.sub("-", name.strip().lower()).strip("-")
    if not slug:
        raise AccountError("the organisation name needs at least one letter or digit")
    return slug


def get_or_create_organisation(name: str) -> Organisation:
    """The organisation with this name's slug, created when missing (not committed)."""
    slug = slugify(name)
    org = db.session.scalar(sa.select(Organisation).where(Organisation.slug == slug))
    if org is None:
        org = Organisation(name=name.strip(), slug=slug)
        db.session.add(org)
        db.session.flush()
    return org


def find_user(email: str) -> User | None:
    """The user with this e-mail, if any."""
    return db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))


def create_user(
    *,
    email: str,
    password: str | None,
    role: Role,
    organisation: Organisation,
    name: str = "",
    time_zone: str = "UTC",
) -> User:
    """Create a user in an organisation and commit; AccountError on a taken e-mail."""
    try:
        email = email_address(email)
    except InvalidEmail as exc:
        raise AccountError(str(exc)) from None
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"passwords need at least {MIN_PASSWORD_LENGTH} characters")
    if find_user(email) is not None:
        raise AccountError(f"a user with e-mail {email} already exists")
    user = User(
        email=email,
        name=name,
        role=role,
        organisation=organisation,
        password_hash=hash_password(password) if password else None,
        time_zone=time_zone,
    )
    db.session.add(user)
    db.session.flush()
    audit.record("user.created", target=email, details={"role": role.value})
    db.session.commit()
    log.info("created %s user id=%s", role.value, user.id)
    return user


def authenticate(email: str, password: str) -> User | None:
    """The user when the password matches; failures are audited (without the password)."""
    user = find_user(email)
    ok = verify_password(user.password_hash if user else None, password)
    if user is not None and ok and user.active:
        user.last_login_at = datetime.now(UTC)
        audit.record("login.succeeded", actor=user, target=user.email)
        db.session.commit()
        return user
    reason = "unknown_email" if user is None else ("inactive" if ok else "wrong_password")
    audit.record(
        "login.failed",
        actor_label=audit.ANONYMOUS,
        target=normalise_email(email),
        details={"reason": reason},
    )
    db.session.commit()
    return None


def record_logout(user: User) -> None:
    """Audit a logout."""
    audit.record("logout", actor=user, target=user.email)
    db.session.commit()

"""API keys of the JSON API: issue, list, revoke, and authenticate a presented bearer key.

A key reads ``bcb_<key id>_<secret>``: ``bcb_`` makes it recognisable (secret scanners, logs),
the 12-hex-digit key id is its public, indexed part (shown on the API keys page), and the
secret is 32 random bytes. Only the SHA-256 of the whole key is stored; a presented key is
found by its key id and compared in constant time. The key itself is returned once, on
creation, and never logged.
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from webapp.database import utcnow
from webapp.extensions import db
from webapp.models import ApiKey, Role, User
from webapp.security import digests_match, token_digest
from webapp.services import audit

log = logging.getLogger(__name__)

KEY_PREFIX = "bcb_"
KEY_ID_HEX_DIGITS = 12
SECRET_BYTES = 32
MAX_NAME_LENGTH = 100
# Recording every use would write on every API call; a minute is precise enough.
LAST_USED_RESOLUTION = timedelta(minutes=1)
_KEY_RE = re.compile(rf"^{KEY_PREFIX}([0-9a-f]{{{KEY_ID_HEX_DIGITS}}})_([A-Za-z0-9_-]{{43}})$")
# Compared against when the key id is unknown, so timing does not tell which ids exist.
_DUMMY_DIGEST = token_digest(secrets.token_urlsafe(SECRET_BYTES))


class ApiKeyError(ValueError):
    """A key cannot be created or revoked as asked (the message says why)."""


class ApiKeyNotFound(ApiKeyError):
    """No such key in this organisation."""


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A new key: the stored row and the key itself, which is shown once and never again."""

    api_key: ApiKey
    key: str


def display_id(api_key: ApiKey) -> str:
    """How a key is shown once issued: its public part, e.g. ``bcb_1a2b3c4d5e6f_…``."""
    return f"{KEY_PREFIX}{api_key.key_id}_…"


def create_key(*, admin: User, name: str) -> IssuedKey:
    """Issue a key for the admin's organisation, audit it and commit."""
    if admin.role is not Role.ADMIN:
        raise ApiKeyError(f"{admin.email} is not an admin; only admins create API keys")
    name = " ".join(name.split())
    if not name:
        raise ApiKeyError("Give the key a name, e.g. the system that will use it.")
    if len(name) > MAX_NAME_LENGTH:
        raise ApiKeyError(f"Key names have at most {MAX_NAME_LENGTH} characters.")
    key_id = secrets.token_hex(KEY_ID_HEX_DIGITS // 2)
    key = f"{KEY_PREFIX}{key_id}_{secrets.token_urlsafe(SECRET_BYTES)}"
    api_key = ApiKey(
        organisation_id=admin.organisation_id,
        name=name,
        key_id=key_id,
        key_hash=token_digest(key),
        created_by=admin,
    )
    db.session.add(api_key)
    db.session.flush()
    audit.record("api_key.created", actor=admin, target=name, details={"key_id": key_id})
    db.session.commit()
    log.info("API key id=%s (key id %s) created", api_key.id, key_id)
    return IssuedKey(api_key=api_key, key=key)


def list_keys(organisation_id: int | None = None) -> list[ApiKey]:
    """Keys of one organisation (or of all), newest first, revoked ones included."""
    query = sa.select(ApiKey).order_by(ApiKey.created_at.desc(), ApiKey.id.desc())
    if organisation_id is not None:
        query = query.where(ApiKey.organisation_id == organisation_id)
    return list(db.session.scalars(query))


def organisation_key(organisation_id: int, key_pk: int) -> ApiKey:
    """One of the organisation's keys by row id; ApiKeyNotFound for any other."""
    api_key = db.session.get(ApiKey, key_pk)
    if api_key is None or api_key.organisation_id != organisation_id:
        raise ApiKeyNotFound(f"There is no API key {key_pk} in this organisation.")
    return api_key


def find_key(reference: str) -> ApiKey:
    """A key by its key id as listed (``bcb_1a2b3c4d5e6f_…``, with or without prefix/suffix)."""
    key_id = reference.strip().removeprefix(KEY_PREFIX).split("_", 1)[0].rstrip("…")
    api_key = db.session.scalar(sa.select(ApiKey).where(ApiKey.key_id == key_id))
    if api_key is None:
        raise ApiKeyNotFound(f"There is no API key with key id {key_id!r}.")
    return api_key


def revoke_key(
    api_key: ApiKey, *, actor: User | None = None, actor_label: str | None = None
) -> ApiKey:
    """Revoke a key for good (a second revoke changes nothing); audit and commit."""
    if api_key.revoked_at is not None:
        return api_key
    api_key.revoked_at = utcnow()
    audit.record(
        "api_key.revoked",
        actor=actor,
        actor_label=actor_label,
        target=api_key.name,
        details={"key_id": api_key.key_id},
        organisation_id=api_key.organisation_id,
    )
    db.session.commit()
    log.info("API key id=%s revoked", api_key.id)
    return api_key


def key_id_of(presented: str) -> str | None:
    """The public key id of a well-formed key (whether or not it exists); None otherwise."""
    match = _KEY_RE.match(presented)
    return match.group(1) if match else None


def authenticate(presented: str, *, now: datetime | None = None) -> ApiKey | None:
    """The live key matching a presented bearer key, its use recorded; None otherwise."""
    key_id = key_id_of(presented)
    if key_id is None:
        log.info("API request with a malformed key refused")
        return None
    api_key = db.session.scalar(sa.select(ApiKey).where(ApiKey.key_id == key_id))
    stored = api_key.key_hash if api_key else _DUMMY_DIGEST
    if not digests_match(presented, stored) or api_key is None:
        log.info("API request with an unknown key refused (key id %s)", key_id)
        return None
    if api_key.revoked_at is not None:
        log.info("API request with revoked key id=%s refused", api_key.id)
        return None
    _record_use(api_key, now or utcnow())
    return api_key


def _record_use(api_key: ApiKey, now: datetime) -> None:
    """Note when the key was last used; best effort, never a reason to refuse the request."""
    if api_key.last_used_at is None or now - api_key.last_used_at >= LAST_USED_RESOLUTION:
        api_key.last_used_at = now
        try:
            db.session.commit()
        except sa.exc.OperationalError:  # locked, deadlocked or unreachable: the next use records
            db.session.rollback()
            log.warning("could not record the use of API key id=%s; the request goes on",
                        api_key.id)  # fmt: skip

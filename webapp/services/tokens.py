"""Token upkeep: a valid access token per connection, refreshed once at a time.

``access_token`` refreshes when less than five minutes remain; ``call_with_token`` also
refreshes once after a 401. Only one refresh per connection runs at a time:

* PostgreSQL: ``SELECT ... FOR UPDATE`` on the connection row, re-read under the lock, refresh
  only if still needed, store the rotated tokens, commit.
* SQLite: a lease column taken with one atomic ``UPDATE ... WHERE`` that also compares the
  access-token ciphertext read a moment earlier (so nobody refreshes twice with a refresh token
  that was already rotated); the HTTP call runs outside any write transaction; losers wait
  briefly and re-read.

``invalid_grant`` moves the connection to ``needs_reconnect``: audit, one e-mail, the banner,
and no further refresh attempts. Tokens are read and written through their own short
transactions, never the caller's session, so a refresh never commits someone else's work.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

import sqlalchemy as sa
from flask import current_app

from cronofy_client import CronofyAuthExpired, CronofyClient, CronofyInvalidGrant, TokenGrant
from webapp.database import utcnow
from webapp.extensions import db
from webapp.models import CalendarConnection, ConnectionStatus
from webapp.security import TokenCipher, TokenDecryptError
from webapp.services.connection_errors import NotConnected, ReconnectRequired
from webapp.services.connection_health import (
    StatusReason,
    email_instructor,
    grant_is_dead,
    mark_needs_reconnect,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

REFRESH_MARGIN = timedelta(minutes=5)
LEASE_DURATION = timedelta(seconds=30)
WAIT_STEP_SECONDS = 0.05
WAIT_LIMIT_SECONDS = 20.0

_CC = CalendarConnection


def token_cipher() -> TokenCipher:
    """The app's token cipher (MultiFernet over TOKEN_ENCRYPTION_KEYS)."""
    cipher: TokenCipher = current_app.extensions["token_cipher"]
    return cipher


@dataclass(frozen=True, slots=True)
class _Snapshot:
    """The token columns of one connection as read in one transaction."""

    access_encrypted: str | None
    refresh_encrypted: str | None
    expires_at: datetime | None
    status: ConnectionStatus
    status_reason: str | None


def access_token(cronofy: CronofyClient, connection_id: int) -> str:
    """A valid access token: refresh when < 5 min left, single-flight per connection."""
    return _valid_token(cronofy, connection_id, rejected=None)


def call_with_token(cronofy: CronofyClient, connection_id: int, fn: Callable[[str], T]) -> T:
    """Run fn(access_token); on CronofyAuthExpired refresh once and retry."""
    token = access_token(cronofy, connection_id)
    try:
        return fn(token)
    except CronofyAuthExpired:
        log.info("access token of connection id=%s rejected; refreshing once", connection_id)
        return fn(_valid_token(cronofy, connection_id, rejected=token))


class _Unreadable(Exception):
    """No configured key decrypts a stored token (raised out of every open transaction)."""


def _valid_token(cronofy: CronofyClient, connection_id: int, *, rejected: str | None) -> str:
    try:
        return _valid_token_or_unreadable(cronofy, connection_id, rejected)
    except _Unreadable:
        log.error("no configured key decrypts the tokens of connection id=%s", connection_id)
        _mark_dead(connection_id, StatusReason.TOKEN_UNREADABLE)
        raise ReconnectRequired(
            "We can no longer read the access to your calendar: connect it again."
        ) from None


def _valid_token_or_unreadable(
    cronofy: CronofyClient, connection_id: int, rejected: str | None
) -> str:
    with db.engine.connect() as conn:
        snapshot = _read(conn, connection_id)
    token = _usable(snapshot, connection_id, rejected)
    if token is not None:
        return token
    if db.engine.dialect.name == "postgresql":
        return _refresh_locked(cronofy, connection_id, rejected)
    return _refresh_with_lease(cronofy, connection_id, rejected)


def _read(conn: sa.Connection, connection_id: int, *, for_update: bool = False) -> _Snapshot:
    query = sa.select(
        _CC.access_token_encrypted,
        _CC.refresh_token_encrypted,
        _CC.access_token_expires_at,
        _CC.status,
        _CC.status_reason,
    ).where(_CC.id == connection_id)
    row = conn.execute(query.with_for_update() if for_update else query).one_or_none()
    if row is None:
        raise NotConnected("This calendar connection no longer exists.")
    return _Snapshot(*row)


def _usable(snapshot: _Snapshot, connection_id: int, rejected: str | None) -> str | None:
    """The stored access token when it can be used as is; None when a refresh is needed."""
    if grant_is_dead(snapshot.status, snapshot.status_reason):
        raise ReconnectRequired("Your calendar connection must be renewed: connect it again.")
    if not snapshot.access_encrypted or not snapshot.refresh_encrypted:
        raise ReconnectRequired("Your calendar connection has no access: connect it again.")
    expires = snapshot.expires_at
    if expires is None or expires - utcnow() < REFRESH_MARGIN:
        return None
    token = _decrypt(snapshot.access_encrypted, connection_id)
    return None if token == rejected else token


def _decrypt(ciphertext: str, connection_id: int) -> str:
    try:
        return token_cipher().decrypt(ciphertext)
    except TokenDecryptError:
        raise _Unreadable(f"connection id={connection_id}") from None


def _mark_dead(connection_id: int, reason: StatusReason) -> None:
    with db.engine.begin() as conn:
        changed = mark_needs_reconnect(conn, connection_id, reason)
    if changed:
        email_instructor(connection_id, reason)


def _token_values(grant: TokenGrant) -> dict[str, object]:
    cipher = token_cipher()
    return {
        "access_token_encrypted": cipher.encrypt(grant.access_token),
        "refresh_token_encrypted": cipher.encrypt(grant.refresh_token),
        "access_token_expires_at": grant.expires_at,
        "scope": grant.scope or "",
        "refresh_lease_until": None,
        "updated_at": utcnow(),
    }


def _refresh_locked(cronofy: CronofyClient, connection_id: int, rejected: str | None) -> str:
    """PostgreSQL: hold the row lock across the refresh; waiters then see the new token."""
    with db.engine.connect() as conn, conn.begin() as tx:
        snapshot = _read(conn, connection_id, for_update=True)
        token = _usable(snapshot, connection_id, rejected)
        if token is not None:
            return token
        refresh = _decrypt(snapshot.refresh_encrypted or "", connection_id)
        try:
            grant = cronofy.refresh(refresh)
        except CronofyInvalidGrant:
            changed = mark_needs_reconnect(conn, connection_id, StatusReason.REFRESH_REJECTED)
            tx.commit()
            if changed:
                email_instructor(connection_id, StatusReason.REFRESH_REJECTED)
            raise ReconnectRequired(
                "Cronofy no longer accepts our access to your calendar: connect it again."
            ) from None
        conn.execute(sa.update(_CC).where(_CC.id == connection_id).values(**_token_values(grant)))
    log.info("refreshed the access token of connection id=%s", connection_id)
    return grant.access_token


def _refresh_with_lease(cronofy: CronofyClient, connection_id: int, rejected: str | None) -> str:
    """SQLite: win a short lease with one atomic UPDATE, refresh outside any transaction."""
    deadline = time.monotonic() + WAIT_LIMIT_SECONDS
    while True:
        with db.engine.begin() as conn:
            snapshot = _read(conn, connection_id)
            token = _usable(snapshot, connection_id, rejected)
            if token is not None:
                return token
            won = _take_lease(conn, connection_id, snapshot)
        if won:
            return _refresh_under_lease(cronofy, connection_id, snapshot)
        if time.monotonic() > deadline:
            raise ReconnectRequired("Your calendar is busy renewing its access; try again.")
        time.sleep(WAIT_STEP_SECONDS)


def _take_lease(conn: sa.Connection, connection_id: int, snapshot: _Snapshot) -> bool:
    now = utcnow()
    result = conn.execute(
        sa.update(_CC)
        .where(
            _CC.id == connection_id,
            _CC.status == ConnectionStatus.CONNECTED,
            _CC.access_token_encrypted == snapshot.access_encrypted,
            sa.or_(_CC.refresh_lease_until.is_(None), _CC.refresh_lease_until < now),
        )
        .values(refresh_lease_until=now + LEASE_DURATION)
    )
    return result.rowcount == 1


def _refresh_under_lease(cronofy: CronofyClient, connection_id: int, snapshot: _Snapshot) -> str:
    refresh = _decrypt(snapshot.refresh_encrypted or "", connection_id)
    try:
        grant = cronofy.refresh(refresh)
    except CronofyInvalidGrant:
        _mark_dead(connection_id, StatusReason.REFRESH_REJECTED)
        raise ReconnectRequired(
            "Cronofy no longer accepts our access to your calendar: connect it again."
        ) from None
    except Exception:
        with db.engine.begin() as conn:
            conn.execute(
                sa.update(_CC).where(_CC.id == connection_id).values(refresh_lease_until=None)
            )
        raise
    with db.engine.begin() as conn:
        conn.execute(
            sa.update(_CC)
            .where(
                _CC.id == connection_id, _CC.refresh_token_encrypted == snapshot.refresh_encrypted
            )
            .values(**_token_values(grant))
        )
    log.info("refreshed the access token of connection id=%s", connection_id)
    return grant.access_token

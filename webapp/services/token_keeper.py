"""Single-flight access-token upkeep for any row holding a Cronofy grant.

Calendar connections (``tokens``) and Enterprise Connect service accounts
(``enterprise.service_tokens``) both keep their tokens through a ``TokenKeeper``. It hands out
the stored access token while more than five minutes remain; otherwise, or when the caller says
that token was just rejected (a 401), it refreshes. One refresh per row runs at a time, the same
way on SQLite and PostgreSQL: a lease column taken with one atomic ``UPDATE ... WHERE`` that also
compares the access-token ciphertext read a moment earlier (nobody refreshes twice with a refresh
token that was already rotated); the row is re-read once the lease is won; the HTTP call (and any
rate-limiter wait) runs outside every transaction, so no row lock or pooled connection is held
over network I/O. Losers wait in short steps, each a brief read with a connection returned to the
pool between steps, and re-read; they give up with ``RefreshBusy`` after ``WAIT_LIMIT_SECONDS``
(or the client's own call deadline, inside a web request). On PostgreSQL the lease ``UPDATE``
waits at most ``LEASE_LOCK_TIMEOUT`` for a row another transaction is writing.

Tokens are read and written through their own short transactions, never the caller's session, so
a refresh never commits someone else's work. A dead grant (``invalid_grant``, unreadable
ciphertext) goes to the owner's hooks: ``mark_lost`` inside the keeper's transaction (a
compare-and-set, so only one caller reacts), then ``after_lost`` once committed.

Errors (each owner translates them into its own domain errors):

* ``TokenRowMissing``: the row no longer exists.
* ``GrantLost(cause)``: the grant cannot be used (see ``LossCause``).
* ``RefreshBusy``: another worker's refresh did not finish in time.
* ``CronofyError`` from the refresh call passes through unchanged (the lease is released).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

import sqlalchemy as sa

from cronofy_client import (
    CronofyAuthExpired,
    CronofyClient,
    CronofyInvalidGrant,
    TokenGrant,
    jittered_backoff,
)
from webapp.database import utcnow
from webapp.extensions import db
from webapp.models import CalendarConnection, ConnectionStatus, ServiceAccount
from webapp.security import TokenCipher, TokenDecryptError

log = logging.getLogger(__name__)

T = TypeVar("T")

REFRESH_MARGIN = timedelta(minutes=5)
LEASE_DURATION = timedelta(seconds=30)
WAIT_STEP_SECONDS = 0.05
WAIT_STEP_CAP_SECONDS = 0.4
WAIT_LIMIT_SECONDS = 20.0
LEASE_LOCK_TIMEOUT = "2s"  # PostgreSQL lock_timeout of the lease UPDATE

TokenModel = type[CalendarConnection] | type[ServiceAccount]


class LossCause(StrEnum):
    """Why a stored grant cannot be used."""

    DEAD = "dead"  # the row's status already says so
    NO_TOKENS = "no_tokens"  # noqa: S105 - a cause code, not a secret
    REFRESH_REJECTED = "refresh_rejected"  # invalid_grant
    TOKEN_UNREADABLE = "token_unreadable"  # noqa: S105 - no configured key decrypts it


class TokenRowMissing(Exception):
    """The row whose token was asked for no longer exists."""


class GrantLost(Exception):
    """The stored grant cannot be used; ``cause`` says why."""

    def __init__(self, cause: LossCause) -> None:
        super().__init__(cause.value)
        self.cause = cause


class RefreshBusy(Exception):
    """Another worker holds the refresh lease and did not finish in time."""


class _Unreadable(Exception):
    """No configured key decrypts a stored token (raised out of every open transaction)."""


def _nothing_after_loss(row_id: int, cause: LossCause) -> None:
    """Default ``after_lost``: nobody to tell."""


@dataclass(frozen=True, slots=True)
class _Snapshot:
    """The token columns of one row as read in one transaction."""

    access_encrypted: str | None
    refresh_encrypted: str | None
    expires_at: datetime | None
    status: ConnectionStatus
    status_reason: str | None
    lease_until: datetime | None


@dataclass(frozen=True, slots=True)
class _Want:
    """What the caller needs: a token other than ``rejected``, valid ``valid_for`` longer."""

    rejected: str | None
    valid_for: timedelta


@dataclass(frozen=True, slots=True)
class TokenKeeper:
    """Token upkeep for one model; the hooks hold what the owner does about a dead grant.

    ``grant_is_dead(status, status_reason)``: the row must not be used or refreshed.
    ``mark_lost(conn, row_id, cause)``: record the loss in the keeper's transaction; True when
    this call changed the row. ``after_lost(row_id, cause)``: runs after that commit (e-mail).
    ``status_reason``: the model's reason column (a column expression), if it has one.
    """

    model: TokenModel
    grant_is_dead: Callable[[ConnectionStatus, str | None], bool]
    mark_lost: Callable[[sa.Connection, int, LossCause], bool]
    after_lost: Callable[[int, LossCause], None] = _nothing_after_loss
    status_reason: sa.ColumnElement[str | None] | None = None

    def access_token(
        self,
        cronofy: CronofyClient,
        cipher: TokenCipher,
        row_id: int,
        *,
        rejected: str | None,
        valid_for: timedelta = REFRESH_MARGIN,
    ) -> str:
        """A usable access token; refreshed when less than ``valid_for`` remains (5 min; the
        upkeep asks for more, to renew ahead of expiry) or when it equals ``rejected``."""
        want = _Want(rejected, valid_for)
        try:
            return self._valid_token(cronofy, cipher, row_id, want)
        except _Unreadable:
            log.error("no configured key decrypts the tokens of %s id=%s", self._name, row_id)
            self._lose(row_id, LossCause.TOKEN_UNREADABLE)
            raise GrantLost(LossCause.TOKEN_UNREADABLE) from None

    @property
    def _name(self) -> str:
        return self.model.__tablename__

    def _valid_token(
        self, cronofy: CronofyClient, cipher: TokenCipher, row_id: int, want: _Want
    ) -> str:
        with db.engine.connect() as conn:
            snapshot = self._read(conn, row_id)
        token = self._usable(snapshot, cipher, want)
        if token is not None:
            return token
        return self._refresh_with_lease(cronofy, cipher, row_id, want)

    def _read(self, conn: sa.Connection, row_id: int) -> _Snapshot:
        model = self.model
        query = sa.select(
            model.access_token_encrypted,
            model.refresh_token_encrypted,
            model.access_token_expires_at,
            model.status,
            self.status_reason if self.status_reason is not None else sa.null(),
            model.refresh_lease_until,
        ).where(model.id == row_id)
        row = conn.execute(query).one_or_none()
        if row is None:
            raise TokenRowMissing(f"{self._name} id={row_id}")
        return _Snapshot(*row)

    def _usable(self, snapshot: _Snapshot, cipher: TokenCipher, want: _Want) -> str | None:
        """The stored access token when it can be used as is; None when a refresh is needed."""
        if self.grant_is_dead(snapshot.status, snapshot.status_reason):
            raise GrantLost(LossCause.DEAD)
        if not snapshot.access_encrypted or not snapshot.refresh_encrypted:
            raise GrantLost(LossCause.NO_TOKENS)
        expires = snapshot.expires_at
        if expires is None or expires - utcnow() < want.valid_for:
            return None
        token = _decrypt(cipher, snapshot.access_encrypted)
        return None if token == want.rejected else token

    def _lose(self, row_id: int, cause: LossCause) -> None:
        """Record a dead grant in a transaction of its own, then let the owner tell people."""
        with db.engine.begin() as conn:
            conn.execute(self._clear_lease(row_id))
            changed = self.mark_lost(conn, row_id, cause)
        if changed:
            self.after_lost(row_id, cause)

    def _clear_lease(self, row_id: int) -> sa.Update:
        model = self.model
        return sa.update(model).where(model.id == row_id).values(refresh_lease_until=None)

    def _refresh_with_lease(
        self, cronofy: CronofyClient, cipher: TokenCipher, row_id: int, want: _Want
    ) -> str:
        """Win a short lease with one atomic UPDATE, refresh outside any transaction."""
        deadline = time.monotonic() + (cronofy.options.deadline or WAIT_LIMIT_SECONDS)
        waits = 0
        while True:
            with db.engine.connect() as conn:
                snapshot = self._read(conn, row_id)
            token = self._usable(snapshot, cipher, want)
            if token is not None:
                return token
            won = False
            if not _leased(snapshot):  # only then try to write: waiters just read
                with db.engine.begin() as conn:
                    won = self._take_lease(conn, row_id, snapshot)
            if won:  # committed: the lease is visible to everyone before the call starts
                return self._refresh_under_lease(cronofy, cipher, row_id, want)
            if time.monotonic() > deadline:
                raise RefreshBusy(f"{self._name} id={row_id}")
            waits += 1
            # Jittered, so a crowd of waiters does not read in lockstep.
            time.sleep(jittered_backoff(waits, base=WAIT_STEP_SECONDS, cap=WAIT_STEP_CAP_SECONDS))

    def _take_lease(self, conn: sa.Connection, row_id: int, snapshot: _Snapshot) -> bool:
        """One atomic compare-and-set; False when someone else holds (or is writing) the row."""
        model = self.model
        now = utcnow()
        statement = (
            sa.update(model)
            .where(
                model.id == row_id,
                model.access_token_encrypted == snapshot.access_encrypted,
                sa.or_(model.refresh_lease_until.is_(None), model.refresh_lease_until < now),
            )
            .values(refresh_lease_until=now + LEASE_DURATION)
        )
        if conn.dialect.name != "postgresql":
            # SQLite: another writer holds the file's write lock past the busy timeout.
            try:
                return conn.execute(statement).rowcount == 1
            except sa.exc.OperationalError as exc:
                if "database is locked" not in str(exc.orig):
                    raise
                log.info("%s id=%s: the database is being written; waiting", self._name, row_id)
                return False
        conn.execute(sa.text(f"SET LOCAL lock_timeout = '{LEASE_LOCK_TIMEOUT}'"))
        try:
            with conn.begin_nested():
                return conn.execute(statement).rowcount == 1
        except sa.exc.OperationalError as exc:
            if getattr(exc.orig, "sqlstate", None) != "55P03":  # lock_not_available
                raise
            log.info("%s id=%s is being written; waiting for its lease", self._name, row_id)
            return False

    def _refresh_under_lease(
        self, cronofy: CronofyClient, cipher: TokenCipher, row_id: int, want: _Want
    ) -> str:
        try:
            with db.engine.connect() as conn:
                snapshot = self._read(conn, row_id)  # re-read now that the lease is ours
            token = self._usable(snapshot, cipher, want)
            if token is not None:  # someone refreshed between our read and our lease
                with db.engine.begin() as conn:
                    conn.execute(self._clear_lease(row_id))
                return token
            grant = self._refresh_or_lose(cronofy, cipher, row_id, snapshot)
        except BaseException:
            with db.engine.begin() as conn:
                conn.execute(self._clear_lease(row_id))
            raise
        self._store(cipher, row_id, snapshot, grant)
        return grant.access_token

    def _refresh_or_lose(
        self, cronofy: CronofyClient, cipher: TokenCipher, row_id: int, snapshot: _Snapshot
    ) -> TokenGrant:
        refresh = _decrypt(cipher, snapshot.refresh_encrypted or "")
        try:
            return cronofy.refresh(refresh)
        except CronofyInvalidGrant:
            self._lose(row_id, LossCause.REFRESH_REJECTED)
            raise GrantLost(LossCause.REFRESH_REJECTED) from None

    def _store(
        self, cipher: TokenCipher, row_id: int, snapshot: _Snapshot, grant: TokenGrant
    ) -> None:
        """Store the rotated tokens unless someone else already replaced the refresh token."""
        model = self.model
        with db.engine.begin() as conn:
            conn.execute(
                sa.update(model)
                .where(
                    model.id == row_id,
                    model.refresh_token_encrypted == snapshot.refresh_encrypted,
                )
                .values(**_token_values(cipher, grant))
            )
        log.info("refreshed the access token of %s id=%s", self._name, row_id)


def call_refreshing_once(token: Callable[[str | None], str], fn: Callable[[str], T]) -> T:
    """Run ``fn(token(None))``; on a 401 run it once more with ``token(rejected_token)``."""
    first = token(None)
    try:
        return fn(first)
    except CronofyAuthExpired:
        log.info("an access token was rejected; refreshing once")
        return fn(token(first))


def _leased(snapshot: _Snapshot) -> bool:
    """Whether someone else's refresh lease on the row is still running."""
    return snapshot.lease_until is not None and snapshot.lease_until > utcnow()


def _decrypt(cipher: TokenCipher, ciphertext: str) -> str:
    try:
        return cipher.decrypt(ciphertext)
    except TokenDecryptError:
        raise _Unreadable from None


def _token_values(cipher: TokenCipher, grant: TokenGrant) -> dict[str, Any]:
    values: dict[str, Any] = {
        "access_token_encrypted": cipher.encrypt(grant.access_token),
        "refresh_token_encrypted": cipher.encrypt(grant.refresh_token),
        "access_token_expires_at": grant.expires_at,
        "refresh_lease_until": None,
        "updated_at": utcnow(),
    }
    if grant.scope:  # keep the stored scope when a refresh does not repeat it
        values["scope"] = grant.scope[:255]
    return values

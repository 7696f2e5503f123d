"""A valid service-account access token: refreshed before expiry, one refresh at a time."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import NoReturn, TypeVar

import sqlalchemy as sa

from cronofy_client import CronofyAuthExpired, CronofyClient, CronofyError, CronofyInvalidGrant
from webapp.extensions import db
from webapp.models import ConnectionStatus, ServiceAccount
from webapp.security import TokenCipher, TokenDecryptError
from webapp.services import audit
from webapp.services.enterprise.errors import (
    CronofyUnreachable,
    OrganisationNotConnected,
    ServiceAccountReconnectRequired,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

REFRESH_MARGIN = timedelta(minutes=5)
LEASE = timedelta(seconds=30)
WAIT_STEP = 0.05


def service_access_token(
    cronofy: CronofyClient, cipher: TokenCipher, account_id: int, *, stale: str | None = None
) -> str:
    """The account's access token, refreshed when < 5 min remain or when it equals ``stale``.

    Single flight on SQLite and PostgreSQL alike: a refresher first takes a short lease with a
    conditional UPDATE (rowcount 1 wins); the others wait and re-read the stored token.
    """
    deadline = time.monotonic() + LEASE.total_seconds()
    while True:
        account = _reload(account_id)
        if account.status is not ConnectionStatus.CONNECTED:
            raise ServiceAccountReconnectRequired("Connect the organisation again.")
        token = _decrypt(cipher, account.access_token_encrypted)
        if token and token != stale and not _expiring(account):
            return token
        if _take_lease(account_id):
            return _refresh(cronofy, cipher, account_id, stale=stale)
        if time.monotonic() > deadline:
            raise CronofyUnreachable("Cronofy is slow to renew access; please try again.")
        time.sleep(WAIT_STEP)


def call_with_service_token(
    cronofy: CronofyClient, cipher: TokenCipher, account_id: int, fn: Callable[[str], T]
) -> T:
    """Run ``fn(access_token)``; on a 401 refresh once and run it again."""
    token = service_access_token(cronofy, cipher, account_id)
    try:
        return fn(token)
    except CronofyAuthExpired:
        log.info("service account %s token rejected; refreshing once", account_id)
    return fn(service_access_token(cronofy, cipher, account_id, stale=token))


def _reload(account_id: int) -> ServiceAccount:
    account = db.session.scalar(
        sa.select(ServiceAccount)
        .where(ServiceAccount.id == account_id)
        .execution_options(populate_existing=True)
    )
    if account is None:
        raise OrganisationNotConnected("The organisation is not connected.")
    return account


def _decrypt(cipher: TokenCipher, ciphertext: str | None) -> str | None:
    if not ciphertext:
        return None
    try:
        return cipher.decrypt(ciphertext)
    except TokenDecryptError:
        log.warning("a service-account token cannot be decrypted with the configured keys")
        return None


def _expiring(account: ServiceAccount) -> bool:
    expires = account.access_token_expires_at
    return expires is None or expires - REFRESH_MARGIN <= datetime.now(UTC)


def _take_lease(account_id: int) -> bool:
    now = datetime.now(UTC)
    taken = db.session.execute(
        sa.update(ServiceAccount)
        .where(
            ServiceAccount.id == account_id,
            sa.or_(
                ServiceAccount.refresh_lease_until.is_(None),
                ServiceAccount.refresh_lease_until < now,
            ),
        )
        .values(refresh_lease_until=now + LEASE)
    )
    db.session.commit()  # never hold a write transaction across the HTTP call (SQLite)
    return getattr(taken, "rowcount", 0) == 1


def _refresh(
    cronofy: CronofyClient, cipher: TokenCipher, account_id: int, *, stale: str | None
) -> str:
    account = _reload(account_id)
    current = _decrypt(cipher, account.access_token_encrypted)
    if current and current != stale and not _expiring(account):
        # Someone else refreshed between our read and our lease: use their token.
        account.refresh_lease_until = None
        db.session.commit()
        return current
    refresh_token = _decrypt(cipher, account.refresh_token_encrypted)
    if refresh_token is None:
        _needs_reconnect(account)
    try:
        grant = cronofy.refresh(refresh_token or "")
    except CronofyInvalidGrant:
        _needs_reconnect(account)
    except CronofyError:
        account.refresh_lease_until = None
        db.session.commit()
        raise CronofyUnreachable("Cronofy could not renew access right now; try again.") from None
    account.access_token_encrypted = cipher.encrypt(grant.access_token)
    account.refresh_token_encrypted = cipher.encrypt(grant.refresh_token)
    account.access_token_expires_at = grant.expires_at
    account.refresh_lease_until = None
    db.session.commit()
    log.info("service account %s token refreshed", account_id)
    return grant.access_token


def _needs_reconnect(account: ServiceAccount) -> NoReturn:
    """The grant is dead: stop using it, tell the admin (status page), audit it."""
    account.status = ConnectionStatus.NEEDS_RECONNECT
    account.refresh_lease_until = None
    audit.record("enterprise.needs_reconnect", target=account.cronofy_sub or "")
    db.session.commit()
    log.warning("service account %s needs reconnecting (invalid_grant)", account.id)
    raise ServiceAccountReconnectRequired(
        "Cronofy no longer accepts the organisation's authorization: connect it again."
    )

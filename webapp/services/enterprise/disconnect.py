"""Disconnecting an organisation: revoke the service account and every delegated connection.

Connections instructors made themselves (Individual Connect) are never touched: only rows
with ``method == enterprise`` are disconnected.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import sqlalchemy as sa

from cronofy_client import CronofyClient, CronofyError, CronofyRateLimited, CronofyUnavailable
from webapp.extensions import db
from webapp.models import (
    CalendarConnection,
    ConnectMethod,
    ServiceAccount,
    ServiceAccountAuthorization,
    User,
)
from webapp.security import TokenCipher, TokenDecryptError
from webapp.services import audit, connections
from webapp.services.enterprise.errors import CronofyUnreachable, OrganisationNotConnected

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DisconnectResult:
    """What the organisation disconnect removed."""

    connections_disconnected: int
    authorizations_removed: int
    individual_kept: int


def disconnect_organisation(
    cronofy: CronofyClient, cipher: TokenCipher, *, admin: User
) -> DisconnectResult:
    """Revoke the service account, disconnect each delegated connection, forget the account."""
    account = db.session.scalar(
        sa.select(ServiceAccount).where(ServiceAccount.organisation_id == admin.organisation_id)
    )
    if account is None:
        raise OrganisationNotConnected("The organisation is not connected.")
    # First, so a failure changes nothing and the admin can simply try again.
    _revoke_service_account(cronofy, cipher, account)
    connection_ids = _delegated_connection_ids(admin.organisation_id)
    for connection_id in connection_ids:
        connections.disconnect(
            cronofy, connection_id=connection_id, actor=admin, reason="organisation disconnected"
        )
    removed = db.session.execute(
        sa.delete(ServiceAccountAuthorization).where(
            ServiceAccountAuthorization.service_account_id == account.id
        )
    )
    db.session.execute(sa.delete(ServiceAccount).where(ServiceAccount.id == account.id))
    result = DisconnectResult(
        connections_disconnected=len(connection_ids),
        authorizations_removed=int(getattr(removed, "rowcount", 0) or 0),
        individual_kept=_count_individual(admin.organisation_id),
    )
    audit.record(
        "enterprise.disconnected",
        actor=admin,
        details={
            "connections": result.connections_disconnected,
            "individual_kept": result.individual_kept,
        },
    )
    db.session.commit()
    log.info("organisation %s disconnected its service account", admin.organisation_id)
    return result


def _revoke_service_account(
    cronofy: CronofyClient, cipher: TokenCipher, account: ServiceAccount
) -> None:
    """Revoke with the refresh token (by sub when it cannot be read); 'already gone' is fine."""
    refresh_token: str | None = None
    if account.refresh_token_encrypted:
        try:
            refresh_token = cipher.decrypt(account.refresh_token_encrypted)
        except TokenDecryptError:
            log.warning("service account %s refresh token unreadable; revoking by sub", account.id)
    try:
        if refresh_token:
            cronofy.revoke(refresh_token=refresh_token)
        elif account.cronofy_sub:
            cronofy.revoke(sub=account.cronofy_sub)
    except (CronofyUnavailable, CronofyRateLimited):
        raise CronofyUnreachable(
            "Cronofy could not be reached, so nothing was disconnected. Please try again."
        ) from None
    except CronofyError as exc:
        log.warning("service account revoke answered %s; treating it as revoked", exc.status)


def _connection_ids(organisation_id: int, method: ConnectMethod) -> list[int]:
    return list(
        db.session.scalars(
            sa.select(CalendarConnection.id)
            .join(User, User.id == CalendarConnection.user_id)
            .where(User.organisation_id == organisation_id, CalendarConnection.method == method)
            .order_by(CalendarConnection.id)
        )
    )


def _delegated_connection_ids(organisation_id: int) -> list[int]:
    """Only the connections the organisation made; individual ones belong to the instructor."""
    return _connection_ids(organisation_id, ConnectMethod.ENTERPRISE)


def _count_individual(organisation_id: int) -> int:
    return len(_connection_ids(organisation_id, ConnectMethod.INDIVIDUAL))

"""Disconnecting an organisation: revoke the service account and every delegated connection.

Connections instructors made themselves (Individual Connect) are never touched: only rows
with ``method == enterprise`` are disconnected. Everything is recorded in one transaction
(the rows deleted, one revocation job per grant, the audit entry) and the worker does the
Cronofy and Bookly calls afterwards, retrying while either is down: a failure can no longer
leave the organisation half disconnected, and the request never waits for Cronofy.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import (
    CalendarConnection,
    ConnectMethod,
    ServiceAccount,
    ServiceAccountAuthorization,
    User,
)
from webapp.services import audit
from webapp.services.disconnection import disconnect, schedule_cleanup
from webapp.services.enterprise.errors import OrganisationNotConnected
from webapp.services.revocation import queue_revocation

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DisconnectResult:
    """What the organisation disconnect removed."""

    connections_disconnected: int
    authorizations_removed: int
    individual_kept: int


def disconnect_organisation(*, admin: User) -> DisconnectResult:
    """Forget the service account and each delegated connection; queue their revocations."""
    account = db.session.scalar(
        sa.select(ServiceAccount).where(ServiceAccount.organisation_id == admin.organisation_id)
    )
    if account is None:
        raise OrganisationNotConnected("The organisation is not connected.")
    queue_revocation(
        refresh_token_encrypted=account.refresh_token_encrypted,
        sub=account.cronofy_sub,
        first_try_now=True,
    )
    connection_ids = _delegated_connection_ids(admin.organisation_id)
    for connection_id in connection_ids:
        disconnect(connection_id=connection_id, actor=admin, reason="organisation disconnected",
                   commit=False)  # fmt: skip
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
    schedule_cleanup(timedelta(0))
    log.info("organisation %s disconnected its service account", admin.organisation_id)
    return result


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

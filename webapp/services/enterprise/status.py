"""What the Enterprise page shows: the service account and each e-mail's authorization."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import (
    AccessMode,
    AuthorizationStatus,
    CalendarConnection,
    ConnectionStatus,
    ServiceAccount,
    ServiceAccountAuthorization,
    User,
)


@dataclass(frozen=True, slots=True)
class ServiceAccountSummary:
    """The organisation's connection, without tokens."""

    access_mode: AccessMode
    provider_name: str | None
    delegated_scope: str
    status: ConnectionStatus
    connected_since: datetime
    data_center: str


@dataclass(frozen=True, slots=True)
class AuthorizationRow:
    """One line of the status table."""

    id: int
    email: str
    instructor_name: str
    status: AuthorizationStatus
    connection_status: ConnectionStatus | None
    error: str | None
    attempts: int
    requested_at: datetime
    completed_at: datetime | None

    @property
    def label(self) -> str:
        """pending / connected / failed, as the admin reads it."""
        if self.status is AuthorizationStatus.AUTHORIZED:
            return (
                "connected"
                if self.connection_status is ConnectionStatus.CONNECTED
                else ("disconnected")
            )
        return self.status.value

    @property
    def retryable(self) -> bool:
        """Pending and failed authorizations can be sent again."""
        return self.status is not AuthorizationStatus.AUTHORIZED or self.label == "disconnected"


@dataclass(frozen=True, slots=True)
class EnterpriseStatus:
    """Everything the Enterprise page needs about one organisation."""

    account: ServiceAccountSummary | None
    authorizations: tuple[AuthorizationRow, ...]

    @property
    def pending(self) -> int:
        """How many authorizations still wait for Cronofy's callback."""
        return sum(1 for row in self.authorizations if row.status is AuthorizationStatus.PENDING)


def organisation_status(organisation_id: int) -> EnterpriseStatus:
    """The organisation's service account and its authorizations (newest first)."""
    account = db.session.scalar(
        sa.select(ServiceAccount).where(ServiceAccount.organisation_id == organisation_id)
    )
    if account is None:
        return EnterpriseStatus(account=None, authorizations=())
    summary = ServiceAccountSummary(
        access_mode=account.access_mode,
        provider_name=account.provider_name,
        delegated_scope=account.delegated_scope,
        status=account.status,
        connected_since=account.created_at,
        data_center=account.data_center,
    )
    query = (
        sa.select(ServiceAccountAuthorization, User, CalendarConnection.status)
        .outerjoin(User, User.id == ServiceAccountAuthorization.user_id)
        .outerjoin(CalendarConnection, CalendarConnection.user_id == User.id)
        .where(ServiceAccountAuthorization.service_account_id == account.id)
        .order_by(
            ServiceAccountAuthorization.requested_at.desc(), ServiceAccountAuthorization.email
        )
    )
    rows = tuple(
        AuthorizationRow(
            id=auth.id,
            email=auth.email,
            instructor_name=user.name if user else "",
            status=auth.status,
            connection_status=connection_status,
            error=auth.error,
            attempts=auth.attempts,
            requested_at=auth.requested_at,
            completed_at=auth.completed_at,
        )
        for auth, user, connection_status in db.session.execute(query).all()
    )
    return EnterpriseStatus(account=summary, authorizations=rows)

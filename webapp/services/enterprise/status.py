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
    ConnectMethod,
    ServiceAccount,
    ServiceAccountAuthorization,
    User,
)
from webapp.services.enterprise.submissions import SubmissionSummary, last_submission


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
class InstructorCalendar:
    """An instructor's calendar connection as the admin sees it (no tokens, no calendars)."""

    method: ConnectMethod
    access_mode: AccessMode
    provider_name: str | None
    status: ConnectionStatus
    connected_at: datetime


@dataclass(frozen=True, slots=True)
class IndividualConnection:
    """An instructor who connected their own calendar (Enterprise Connect leaves it alone)."""

    user_id: int
    email: str
    name: str
    calendar: InstructorCalendar


@dataclass(frozen=True, slots=True)
class AuthorizationRow:
    """One line of the status table."""

    id: int
    email: str
    instructor_name: str
    status: AuthorizationStatus
    connection: InstructorCalendar | None
    error: str | None
    attempts: int
    requested_at: datetime
    completed_at: datetime | None
    user_id: int | None = None

    @property
    def individually_connected(self) -> bool:
        """The instructor's calendar is their own connection, which this row never touches."""
        return self.connection is not None and self.connection.method is ConnectMethod.INDIVIDUAL

    @property
    def label(self) -> str:
        """pending / connected / connected individually / disconnected / failed."""
        if self.individually_connected:
            return "connected individually"
        if self.status is AuthorizationStatus.AUTHORIZED:
            live = self.connection and self.connection.status is ConnectionStatus.CONNECTED
            return "connected" if live else "disconnected"
        return self.status.value

    @property
    def retryable(self) -> bool:
        """Only a failure (or a connection lost since) is worth sending again."""
        return self.label in ("failed", "disconnected")


@dataclass(frozen=True, slots=True)
class EnterpriseStatus:
    """Everything the Enterprise page needs about one organisation."""

    account: ServiceAccountSummary | None
    authorizations: tuple[AuthorizationRow, ...]
    individual: tuple[IndividualConnection, ...] = ()
    last_submission: SubmissionSummary | None = None

    @property
    def pending(self) -> int:
        """How many authorizations still wait for Cronofy's callback."""
        return sum(1 for row in self.authorizations if row.status is AuthorizationStatus.PENDING)


def organisation_status(organisation_id: int) -> EnterpriseStatus:
    """The organisation's service account and its authorizations (newest first)."""
    account = db.session.scalar(
        sa.select(ServiceAccount).where(ServiceAccount.organisation_id == organisation_id)
    )
    individual = _individual_connections(organisation_id)
    if account is None:
        return EnterpriseStatus(account=None, authorizations=(), individual=individual)
    summary = ServiceAccountSummary(
        access_mode=account.access_mode,
        provider_name=account.provider_name,
        delegated_scope=account.delegated_scope,
        status=account.status,
        connected_since=account.created_at,
        data_center=account.data_center,
    )
    query = (
        sa.select(ServiceAccountAuthorization, User, CalendarConnection)
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
            connection=_calendar(connection) if connection else None,
            error=auth.error,
            attempts=auth.attempts,
            requested_at=auth.requested_at,
            completed_at=auth.completed_at,
            user_id=auth.user_id,
        )
        for auth, user, connection in db.session.execute(query).all()
    )
    return EnterpriseStatus(
        account=summary,
        authorizations=rows,
        individual=individual,
        last_submission=last_submission(account.id),
    )


def _calendar(connection: CalendarConnection) -> InstructorCalendar:
    return InstructorCalendar(
        method=connection.method,
        access_mode=connection.access_mode,
        provider_name=connection.provider_name,
        status=connection.status,
        connected_at=connection.connected_at or connection.created_at,
    )


def _individual_connections(organisation_id: int) -> tuple[IndividualConnection, ...]:
    query = (
        sa.select(User, CalendarConnection)
        .join(CalendarConnection, CalendarConnection.user_id == User.id)
        .where(
            User.organisation_id == organisation_id,
            CalendarConnection.method == ConnectMethod.INDIVIDUAL,
        )
        .order_by(User.email)
    )
    return tuple(
        IndividualConnection(
            user_id=user.id, email=user.email, name=user.name, calendar=_calendar(connection)
        )
        for user, connection in db.session.execute(query).all()
    )

"""Marking a connection as needing the instructor's attention, and telling them once.

Used by token upkeep (``invalid_grant``, unreadable ciphertext) and by the push receiver
(``profile_disconnected``). The status change is a compare-and-set inside the caller's
transaction, so however many workers notice the problem at once, the instructor gets one
e-mail and one audit entry.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import sqlalchemy as sa
from flask import current_app

from webapp.clients import get_clients
from webapp.database import utcnow
from webapp.extensions import db
from webapp.mail import MailError, OutgoingMail
from webapp.models import CalendarConnection, ConnectionStatus, User
from webapp.services import audit

log = logging.getLogger(__name__)


class StatusReason(StrEnum):
    """Why a connection needs to be reconnected."""

    REFRESH_REJECTED = "refresh_rejected"
    PROFILE_DISCONNECTED = "profile_disconnected"
    TOKEN_UNREADABLE = "token_unreadable"  # noqa: S105 - a reason code, not a secret


# Reasons after which the stored grant must not be used again (no refresh, no API call).
DEAD_GRANT_REASONS = frozenset({StatusReason.REFRESH_REJECTED, StatusReason.TOKEN_UNREADABLE})

_SUBJECT = "Your calendar connection needs attention"
_BODIES = {
    StatusReason.REFRESH_REJECTED: (
        "Cronofy no longer accepts our access to your calendar (the access was revoked or expired)."
    ),
    StatusReason.TOKEN_UNREADABLE: "We can no longer read the stored access to your calendar.",
    StatusReason.PROFILE_DISCONNECTED: (
        "Cronofy lost the connection to your calendar account (for example after a password "
        "change or when access was removed at the provider)."
    ),
}


@dataclass(frozen=True, slots=True)
class Notice:
    """What the banner on every page says to an instructor whose calendar needs attention."""

    reason: StatusReason
    message: str


def record_heard_from(
    connection_id: int, at: datetime, *, unless_within: timedelta = timedelta(0)
) -> None:
    """Move the connection's "last heard from Cronofy" to ``at`` unless it already is within
    ``unless_within`` of it or later (in the session's transaction; the time is for people)."""
    db.session.execute(
        sa.update(CalendarConnection)
        .where(
            CalendarConnection.id == connection_id,
            sa.or_(
                CalendarConnection.last_notification_at.is_(None),
                CalendarConnection.last_notification_at < at - unless_within,
            ),
        )
        .values(last_notification_at=at)
        .execution_options(synchronize_session=False)
    )


def grant_is_dead(status: ConnectionStatus, reason: str | None) -> bool:
    """True when the stored tokens must not be used (revoked, or refresh rejected)."""
    if status is ConnectionStatus.REVOKED:
        return True
    return status is ConnectionStatus.NEEDS_RECONNECT and reason in DEAD_GRANT_REASONS


def mark_needs_reconnect(conn: sa.Connection, connection_id: int, reason: StatusReason) -> bool:
    """Set needs_reconnect (only from connected) and audit it; True when this call changed it."""
    table = CalendarConnection
    result = conn.execute(
        sa.update(table)
        .where(table.id == connection_id, table.status == ConnectionStatus.CONNECTED)
        .values(
            status=ConnectionStatus.NEEDS_RECONNECT,
            status_reason=reason.value,
            refresh_lease_until=None,
            updated_at=utcnow(),
        )
    )
    if result.rowcount != 1:
        return False
    user = conn.execute(
        sa.select(User.id, User.email, User.organisation_id)
        .join(table, table.user_id == User.id)
        .where(table.id == connection_id)
    ).one()
    audit.record_system_event(
        conn,
        "connection.needs_reconnect",
        target=user.email,
        organisation_id=user.organisation_id,
        details={"connection_id": connection_id, "reason": reason.value},
    )
    log.warning("connection id=%s needs reconnect (%s)", connection_id, reason.value)
    return True


def email_instructor(connection_id: int, reason: StatusReason) -> None:
    """Tell the instructor by e-mail (after the status change was committed); never raises."""
    if not send_reconnect_notice(connection_id, reason):
        log.error("the reconnect notice for connection id=%s was not sent", connection_id)


def send_reconnect_notice(connection_id: int, reason: StatusReason) -> bool:
    """E-mail the instructor that the calendar must be reconnected; False when the mail
    server refused or could not be reached (the caller may retry). True when there is no
    one to tell any more (disconnected or erased since)."""
    from webapp.extensions import db

    email = db.session.scalar(
        sa.select(User.email)
        .join(CalendarConnection, CalendarConnection.user_id == User.id)
        .where(CalendarConnection.id == connection_id)
    )
    if email is None:
        return True
    base = current_app.config["PUBLIC_BASE_URL"]
    body = (
        f"{_BODIES[reason]}\n\n"
        "Until you reconnect, your availability comes from your Bookly working hours only, so "
        "double bookings are possible.\n\n"
        f"Open {base}/calendars to reconnect your calendar.\n"
    )
    try:
        get_clients().mailer.send(OutgoingMail(to=email, subject=_SUBJECT, body=body))
    except MailError:
        log.exception("could not e-mail the reconnect notice for connection id=%s", connection_id)
        return False
    return True


def notice_for(connection: CalendarConnection | None) -> Notice | None:
    """The banner for a connection that needs the instructor's attention, if any."""
    if connection is None or connection.status is not ConnectionStatus.NEEDS_RECONNECT:
        return None
    try:
        reason = StatusReason(connection.status_reason or StatusReason.REFRESH_REJECTED)
    except ValueError:
        reason = StatusReason.REFRESH_REJECTED
    return Notice(reason=reason, message=_BODIES[reason])

"""An instructor's own data: everything we hold about them as JSON, and its erasure.

Export never includes tokens, token ciphertext, channel secrets or password hashes: they are
credentials, not information about the person. Bookings list the instructor's side (times,
status, delivery); the customer's contact details are the customer's own data.

Erasure (instructors; an admin account is erased by another admin or the CLI):
- the calendar connection is disconnected as the disconnect page does it: the push channel
  closed, the grant revoked with the refresh token (retried from the outbox on failure), the
  busy blocks we created deleted from Bookly and here, inbox rows deleted;
- Enterprise Connect authorization requests for their address are deleted;
- audit entries keep what happened but name a pseudonym (``erased-user-<id>``) instead of the
  person, as actor and wherever their address appeared;
- the account row stays, emptied and disabled, because bookings made with the instructor are
  the school's and the customer's records and point to it: it keeps no e-mail, name,
  password, time zone or Bookly link. Bookly's own appointments stay in Bookly.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from webapp.database import utcnow
from webapp.extensions import db
from webapp.models import (
    AuditEvent,
    AuthorizationSubmission,
    Booking,
    BusyBlock,
    CalendarConnection,
    ServiceAccount,
    ServiceAccountAuthorization,
    User,
)
from webapp.services import audit
from webapp.services.disconnection import DisconnectResult, disconnect
from webapp.services.sync import sync_health

log = logging.getLogger(__name__)

ERASED_DOMAIN = "erased.invalid"
NOT_EXPORTED = [
    "Access and refresh tokens (credentials for your calendar, kept encrypted until erased).",
    "Your password (only a one-way hash is kept).",
    "Customers' contact details on your bookings (they are the customers' own data).",
    "Event titles, descriptions and attendees: never stored, only busy times.",
]


class ErasureRefused(Exception):
    """This account cannot be erased here; the message says why and what to do."""


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def export_user(user: User) -> dict[str, Any]:
    """Everything we hold about ``user``, as JSON-ready data."""
    connection = db.session.scalar(
        sa.select(CalendarConnection).where(CalendarConnection.user_id == user.id)
    )
    return {
        "exported_at": utcnow().isoformat(),
        "account": {
            "id": user.id,
            "email": user.email,
            "name": user.name,
            "role": user.role.value,
            "organisation": user.organisation.name,
            "time_zone": user.time_zone,
            "bookly_staff_id": user.bookly_staff_id,
            "active": user.active,
            "created_at": _when(user.created_at),
            "last_login_at": _when(user.last_login_at),
        },
        "calendar_connection": _connection(connection) if connection else None,
        "busy_blocks": _blocks(connection.id) if connection else [],
        "bookings": _bookings(user.id),
        "enterprise_authorizations": _authorizations(user.email),
        "audit_events": _audit_events(user),
        "not_included": NOT_EXPORTED,
    }


def _connection(connection: CalendarConnection) -> dict[str, Any]:
    return {
        "method": connection.method.value,
        "access_mode": connection.access_mode.value,
        "provider": connection.provider_name,
        "profile_name": connection.profile_name,
        "status": connection.status.value,
        "status_reason": connection.status_reason,
        "write_calendar_id": connection.write_calendar_id,
        "conflict_calendar_ids": list(connection.conflict_calendar_ids or []),
        "connected_at": _when(connection.connected_at),
        "last_notification_at": _when(sync_health(connection).last_notification_at),
        "last_synced_at": _when(connection.last_synced_at),
    }


def _blocks(connection_id: int) -> list[dict[str, Any]]:
    rows = db.session.scalars(
        sa.select(BusyBlock).where(BusyBlock.connection_id == connection_id)
        .order_by(BusyBlock.starts_at)
    )  # fmt: skip
    return [
        {"starts_at": _when(b.starts_at), "ends_at": _when(b.ends_at),
         "bookly_appointment_id": b.bookly_appointment_id}
        for b in rows
    ]  # fmt: skip


def _bookings(user_id: int) -> list[dict[str, Any]]:
    rows = db.session.scalars(
        sa.select(Booking).where(Booking.instructor_id == user_id).order_by(Booking.starts_at)
    )
    return [
        {
            "id": b.public_id,
            "starts_at": _when(b.starts_at),
            "ends_at": _when(b.ends_at),
            "status": b.status.value,
            "bookly_service_id": b.bookly_service_id,
            "bookly_appointment_id": b.bookly_appointment_id,
            "delivery": b.delivery.value,
            "delivery_state": b.delivery_state.value,
            "created_at": _when(b.created_at),
            "cancelled_at": _when(b.cancelled_at),
        }
        for b in rows
    ]


def _authorizations(email: str) -> list[dict[str, Any]]:
    rows = db.session.scalars(
        sa.select(ServiceAccountAuthorization).where(
            sa.func.lower(ServiceAccountAuthorization.email) == email.lower()
        )
    )
    return [
        {"email": a.email, "status": a.status.value, "requested_at": _when(a.requested_at),
         "completed_at": _when(a.completed_at)}
        for a in rows
    ]  # fmt: skip


def _about(user: User) -> sa.ColumnElement[bool]:
    return sa.or_(AuditEvent.actor_user_id == user.id, AuditEvent.target == user.email)


def _audit_events(user: User) -> list[dict[str, Any]]:
    rows = db.session.scalars(sa.select(AuditEvent).where(_about(user)).order_by(AuditEvent.id))
    return [
        {"at": _when(e.created_at), "action": e.action, "actor": e.actor_label,
         "target": e.target, "details": e.details}
        for e in rows
    ]  # fmt: skip


@dataclass(frozen=True, slots=True)
class ErasureReport:
    """What an erasure did (shown once, and audited without the person's details)."""

    disconnected: DisconnectResult | None
    authorizations_deleted: int
    audit_events_pseudonymised: int
    bookings_kept: int


def pseudonym(user: User) -> str:
    """How audit entries name an erased person."""
    return f"erased-user-{user.id}"


def _forget_in_submissions(organisation_id: int, email: str, name: str) -> None:
    """The organisation's bulk-authorization results name the address: say the pseudonym."""
    submissions = db.session.scalars(
        sa.select(AuthorizationSubmission)
        .join(ServiceAccount, ServiceAccount.id == AuthorizationSubmission.service_account_id)
        .where(ServiceAccount.organisation_id == organisation_id)
    )
    for submission in submissions:
        results = submission.results or []
        if any(str(r.get("email", "")).lower() == email.lower() for r in results):
            submission.results = [
                {**r, "email": name} if str(r.get("email", "")).lower() == email.lower() else r
                for r in results
            ]


def erase_user(user: User, *, confirm_email: str) -> ErasureReport:
    """Erase an instructor (see the module docstring); ``confirm_email`` must be theirs."""
    if user.is_admin:
        raise ErasureRefused(
            "Administrator accounts are erased by another administrator, so that the "
            "organisation is never left without one."
        )
    if confirm_email.strip().lower() != user.email.lower():
        raise ErasureRefused("Type your e-mail address exactly to confirm the erasure.")
    email, name = user.email, pseudonym(user)
    connection_id = db.session.scalar(
        sa.select(CalendarConnection.id).where(CalendarConnection.user_id == user.id)
    )
    disconnected = None
    if connection_id is not None:  # revoke, close the channel, delete tokens, blocks, inbox
        disconnected = disconnect(connection_id=connection_id, actor=user, reason="account erased")
    removed = db.session.execute(
        sa.delete(ServiceAccountAuthorization).where(
            sa.func.lower(ServiceAccountAuthorization.email) == email.lower()
        )
    )
    _forget_in_submissions(user.organisation_id, email, name)
    renamed = _pseudonymise_audit(user, email, name)
    kept = db.session.scalar(
        sa.select(sa.func.count()).select_from(Booking).where(Booking.instructor_id == user.id)
    )
    user.email = f"{name}@{ERASED_DOMAIN}"
    user.name = ""
    user.password_hash = None
    user.time_zone = "UTC"
    user.bookly_staff_id = None
    user.active = False
    user.last_login_at = None
    audit.record("user.erased", actor_label=name, target=name,
                 organisation_id=user.organisation_id)  # fmt: skip
    db.session.commit()
    report = ErasureReport(
        disconnected,
        int(getattr(removed, "rowcount", 0) or 0),
        renamed,
        int(kept or 0),
    )
    log.info("user id=%s erased (%d audit entries pseudonymised)", user.id, renamed)
    return report


def _pseudonymise_audit(user: User, email: str, name: str) -> int:
    """Name the pseudonym instead of the person in every audit entry about or by them."""
    needle = email.lower()
    events = db.session.scalars(
        sa.select(AuditEvent).where(
            sa.or_(
                AuditEvent.actor_user_id == user.id,
                AuditEvent.organisation_id == user.organisation_id,
                AuditEvent.organisation_id.is_(None),
            )
        )
    ).all()
    changed = 0
    for event in events:
        before = (event.actor_label, event.target, json.dumps(event.details, sort_keys=True))
        if event.actor_user_id == user.id or event.actor_label.lower() == needle:
            event.actor_label = name
        event.target = _replace(event.target, email, name)
        event.details = json.loads(_replace(json.dumps(event.details), email, name))
        if (event.actor_label, event.target, json.dumps(event.details, sort_keys=True)) != before:
            changed += 1
    return changed


def _replace(text: str, email: str, name: str) -> str:
    """``text`` with every occurrence of ``email`` (any case) replaced by ``name``."""
    return re.sub(re.escape(email), lambda _: name, text, flags=re.IGNORECASE)

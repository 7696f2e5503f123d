"""The audit log: who did what to what (never passwords, tokens or codes)."""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa

from webapp.database import utcnow
from webapp.extensions import db
from webapp.models import AuditEvent, User

log = logging.getLogger(__name__)

ANONYMOUS = "anonymous"
SYSTEM = "system"


def record(
    action: str,
    *,
    actor: User | None = None,
    actor_label: str | None = None,
    target: str = "",
    details: dict[str, Any] | None = None,
    organisation_id: int | None = None,
) -> AuditEvent:
    """Add an audit event to the current transaction (the caller commits).

    The event belongs to the actor's organisation unless ``organisation_id`` is given.
    """
    event = AuditEvent(
        action=action,
        actor_user_id=actor.id if actor else None,
        actor_label=actor_label or (actor.email if actor else SYSTEM),
        organisation_id=organisation_id or (actor.organisation_id if actor else None),
        target=target[:254],
        details=details or {},
    )
    db.session.add(event)
    log.info("audit %s (actor id=%s)", action, event.actor_user_id)
    return event


def record_system_event(
    conn: sa.Connection,
    action: str,
    *,
    target: str,
    organisation_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Write a system audit event through ``conn`` (inside that Core transaction)."""
    conn.execute(
        sa.insert(AuditEvent).values(
            action=action,
            actor_user_id=None,
            actor_label=SYSTEM,
            organisation_id=organisation_id,
            target=target[:254],
            details=details or {},
            created_at=utcnow(),
        )
    )
    log.info("audit %s (system)", action)

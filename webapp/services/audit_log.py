"""Reading the audit log: who did what, when, as each viewer may see it.

Admins see every entry of their organisation; instructors see the entries they made or that
name them. Filters: the action, words in the actor or target, and a date range (UTC days).
Entries never hold secrets (``audit.record`` is given none), so they can be shown and
exported as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import AuditEvent, User

MAX_ROWS = 500
MAX_TEXT = 100


class InvalidFilter(ValueError):
    """A filter that cannot be used; the message says which and why."""


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """What the viewer asked for (all optional)."""

    action: str = ""
    text: str = ""
    start: date | None = None
    end: date | None = None  # inclusive

    @classmethod
    def parse(cls, args: dict[str, str]) -> AuditFilter:
        """From query-string values; InvalidFilter names the field that is wrong."""
        text = args.get("q", "").strip()
        if len(text) > MAX_TEXT:
            raise InvalidFilter(f"Search for at most {MAX_TEXT} characters.")
        start, end = _day(args.get("from", ""), "From"), _day(args.get("to", ""), "To")
        if start and end and end < start:
            raise InvalidFilter("'To' is before 'From'.")
        return cls(action=args.get("action", "").strip()[:64], text=text, start=start, end=end)


def _day(raw: str, label: str) -> date | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidFilter(f"'{label}' must be a date like 2026-12-31.") from None


def _scope(viewer: User) -> sa.ColumnElement[bool]:
    if viewer.is_admin:
        return AuditEvent.organisation_id == viewer.organisation_id
    return sa.or_(AuditEvent.actor_user_id == viewer.id, AuditEvent.target == viewer.email)


def entries(viewer: User, wanted: AuditFilter, *, limit: int = MAX_ROWS) -> list[AuditEvent]:
    """The newest entries the viewer may see that match ``wanted``."""
    query = sa.select(AuditEvent).where(_scope(viewer))
    if wanted.action:
        query = query.where(AuditEvent.action == wanted.action)
    if wanted.text:
        like = f"%{wanted.text.lower()}%"
        query = query.where(
            sa.or_(sa.func.lower(AuditEvent.actor_label).like(like),
                   sa.func.lower(AuditEvent.target).like(like))
        )  # fmt: skip
    if wanted.start:
        query = query.where(AuditEvent.created_at >= datetime.combine(wanted.start, time(), UTC))
    if wanted.end:
        after = datetime.combine(wanted.end + timedelta(days=1), time(), UTC)
        query = query.where(AuditEvent.created_at < after)
    query = query.order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc()).limit(limit)
    return list(db.session.scalars(query))


def actions(viewer: User) -> list[str]:
    """The actions that occur in what the viewer may see (for the filter's choices)."""
    query = (
        sa.select(AuditEvent.action).where(_scope(viewer)).distinct().order_by(AuditEvent.action)
    )
    return list(db.session.scalars(query))

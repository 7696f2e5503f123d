"""OAuth ``state`` values: random, stored as a digest, single use, ten minutes, bound to a user.

A state also remembers the purpose (individual or enterprise), the Cronofy data center the flow
was started against and the exact ``redirect_uri`` (the token request must repeat it byte for
byte). ``consume_state`` burns a state atomically, so a replayed callback always fails, and
then refuses a flow started against another data center (the state is burnt either way).
Individual and Enterprise Connect both use this module.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from webapp.database import utcnow
from webapp.extensions import db
from webapp.models import AccessMode, OAuthPurpose, OAuthState, User
from webapp.security import new_state_token, token_digest
from webapp.services.connection_errors import DataCenterMismatch, InvalidState, StateProblem

log = logging.getLogger(__name__)

STATE_LIFETIME = timedelta(minutes=10)
MAX_STATE_LENGTH = 200


@dataclass(frozen=True, slots=True)
class PendingFlow:
    """What was stored when the flow started (read back from a consumed state)."""

    user_id: int
    purpose: OAuthPurpose
    access_mode: AccessMode | None
    provider_name: str | None
    data_center: str
    redirect_uri: str


def create_state(
    *,
    user: User,
    purpose: OAuthPurpose,
    data_center: str,
    redirect_uri: str,
    access_mode: AccessMode | None = None,
    provider_name: str | None = None,
) -> str:
    """Store a new state (only its digest) in the session and return it; the caller commits."""
    state = new_state_token()
    now = utcnow()
    db.session.add(
        OAuthState(
            state_hash=token_digest(state),
            user_id=user.id,
            purpose=purpose,
            access_mode=access_mode,
            provider_name=provider_name,
            data_center=data_center,
            redirect_uri=redirect_uri,
            created_at=now,
            expires_at=now + STATE_LIFETIME,
        )
    )
    return state


def consume_state(
    *, user: User, state: str, purpose: OAuthPurpose, data_center: str
) -> PendingFlow:
    """Burn a state of this user and purpose, commit, and check it was for ``data_center``.

    InvalidState (with its ``problem``) when the state cannot be used; DataCenterMismatch when
    the flow was started against another Cronofy data center.
    """
    if not state or len(state) > MAX_STATE_LENGTH:
        raise InvalidState(
            "The link has no valid sign-in state. Start connecting again.", StateProblem.MISSING
        )
    digest = token_digest(state)
    now = utcnow()
    burnt = db.session.execute(
        sa.update(OAuthState)
        .where(
            OAuthState.state_hash == digest,
            OAuthState.user_id == user.id,
            OAuthState.purpose == purpose,
            OAuthState.used_at.is_(None),
            OAuthState.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(burnt, "rowcount", 0) != 1:
        db.session.rollback()
        log.warning("rejected an OAuth callback state for user id=%s", user.id)
        raise InvalidState(
            "This connection attempt is not valid any more (it expired after 10 minutes, was "
            "already used, or was started by someone else). Start connecting again.",
            _why_refused(digest, user=user, purpose=purpose, now=now),
        )
    flow = _pending_flow(digest)
    db.session.commit()
    if flow.data_center != data_center:
        log.warning("callback for data center %s reached %s", flow.data_center, data_center)
        raise DataCenterMismatch(
            "This answer came from another Cronofy region than the one we asked. "
            "Start connecting again."
        )
    return flow


def _why_refused(digest: str, *, user: User, purpose: OAuthPurpose, now: datetime) -> StateProblem:
    """Why the conditional burn matched no row (read after the fact, for the message only)."""
    row = db.session.execute(
        sa.select(OAuthState.user_id, OAuthState.used_at, OAuthState.expires_at).where(
            OAuthState.state_hash == digest, OAuthState.purpose == purpose
        )
    ).one_or_none()
    if row is None:
        return StateProblem.UNKNOWN
    if row.user_id != user.id:
        return StateProblem.FOREIGN
    if row.used_at is None and row.expires_at <= now:
        return StateProblem.EXPIRED
    return StateProblem.USED


def _pending_flow(digest: str) -> PendingFlow:
    row = db.session.scalars(sa.select(OAuthState).where(OAuthState.state_hash == digest)).one()
    return PendingFlow(
        user_id=row.user_id,
        purpose=row.purpose,
        access_mode=row.access_mode,
        provider_name=row.provider_name,
        data_center=row.data_center,
        redirect_uri=row.redirect_uri,
    )

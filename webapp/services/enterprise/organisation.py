"""Connecting an organisation's Enterprise Connect service account (the admin's OAuth flow)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from cronofy_client import (
    AccessMode as CronofyAccessMode,
)
from cronofy_client import (
    CronofyClient,
    CronofyError,
    CronofyInvalidGrant,
    CronofyUnavailable,
    Provider,
    TokenGrant,
)
from webapp.extensions import db
from webapp.models import AccessMode, ConnectionStatus, OAuthPurpose, ServiceAccount, User
from webapp.security import TokenCipher
from webapp.services import audit
from webapp.services.connection_errors import DataCenterMismatch, InvalidState, StateProblem
from webapp.services.enterprise.errors import (
    EnterpriseConnectFailed,
    EnterpriseDataCenterMismatch,
    InvalidEnterpriseState,
)
from webapp.services.oauth_states import PendingFlow, consume_state, create_state

log = logging.getLogger(__name__)

SERVICE_SCOPE = "service_account/accounts/manage"
DELEGATED_SCOPE = "free_busy_write"


def start_connect(
    cronofy: CronofyClient,
    *,
    admin: User,
    access_mode: AccessMode,
    provider: Provider | None,
    redirect_uri: str,
) -> str:
    """Store a single-use, 10-minute state bound to the admin; return Cronofy's consent URL."""
    provider = None if access_mode is AccessMode.NO_CALENDAR else provider
    state = create_state(
        user=admin,
        purpose=OAuthPurpose.ENTERPRISE,
        data_center=cronofy.data_center.value,
        redirect_uri=redirect_uri,
        access_mode=access_mode,
        provider_name=provider.value if provider else None,
    )
    url = cronofy.enterprise_connect_url(
        redirect_uri=redirect_uri,
        state=state,
        scope=SERVICE_SCOPE,
        delegated_scope=DELEGATED_SCOPE,
        access_mode=CronofyAccessMode(access_mode.value),
        provider_name=provider,
    )
    audit.record("enterprise.connect_started", actor=admin, details={"mode": access_mode.value})
    db.session.commit()
    return url


def complete_connect(
    cronofy: CronofyClient, cipher: TokenCipher, *, admin: User, code: str, state: str
) -> ServiceAccount:
    """Check the state, exchange the code, store the service account (tokens encrypted)."""
    pending = _consume_state(cronofy, admin=admin, state=state, code=code)
    try:
        grant = cronofy.exchange_code(code, redirect_uri=pending.redirect_uri)
    except CronofyInvalidGrant:
        raise EnterpriseConnectFailed(
            "Cronofy did not accept the authorization. Please start again."
        ) from None
    except CronofyUnavailable:
        raise EnterpriseConnectFailed("Cronofy could not be reached. Please try again.") from None
    except CronofyError as exc:
        raise EnterpriseConnectFailed(f"Cronofy refused the connection ({exc.status}).") from None
    _refuse_foreign_service_account(admin, grant.service_account_id or grant.sub)
    account = _store_service_account(cipher, admin=admin, grant=grant, pending=pending)
    audit.record(
        "enterprise.connected",
        actor=admin,
        target=account.cronofy_sub or "",
        details={"mode": account.access_mode.value, "provider": account.provider_name},
    )
    try:
        db.session.commit()
    except IntegrityError:  # a concurrent connect of the same account by another organisation
        db.session.rollback()
        raise EnterpriseConnectFailed(
            "This Cronofy service account is already connected to another organisation."
        ) from None
    log.info("organisation %s connected a service account", admin.organisation_id)
    return account


# The admin sees why a state was refused; every message ends with what to do.
_STATE_MESSAGES = {
    StateProblem.MISSING: "This sign-in link is not valid for you. Start again.",
    StateProblem.UNKNOWN: "This sign-in link is not valid for you. Start again.",
    StateProblem.FOREIGN: "This sign-in link is not valid for you. Start again.",
    StateProblem.USED: "This sign-in link was already used. Start again.",
    StateProblem.EXPIRED: "This sign-in link expired after 10 minutes. Start again.",
}


def _consume_state(cronofy: CronofyClient, *, admin: User, state: str, code: str) -> PendingFlow:
    """Validate and burn the state before any token call (single use, even on failure)."""
    if not state:
        raise InvalidEnterpriseState("The sign-in link is incomplete (no state). Start again.")
    if not code:
        raise InvalidEnterpriseState("Cronofy sent no authorization code. Start again.")
    try:
        return consume_state(
            user=admin,
            state=state,
            purpose=OAuthPurpose.ENTERPRISE,
            data_center=cronofy.data_center.value,
        )
    except InvalidState as exc:
        raise InvalidEnterpriseState(_STATE_MESSAGES[exc.problem]) from None
    except DataCenterMismatch:
        raise EnterpriseDataCenterMismatch(
            "This authorization belongs to another Cronofy data center. Start again."
        ) from None


def granted_mode(grant: TokenGrant, requested: AccessMode | None) -> AccessMode:
    """The mode Cronofy reports for the grant; else what the deeplink enforced."""
    if grant.access_mode is not None:
        return AccessMode(grant.access_mode.value)
    if grant.linking_profile is not None:
        mode = CronofyAccessMode.from_provider_name(grant.linking_profile.provider_name)
        return AccessMode(mode.value)
    return requested or AccessMode.READ_WRITE


def _refuse_foreign_service_account(admin: User, sub: str | None) -> None:
    """One Cronofy service account never belongs to two organisations."""
    if not sub:
        raise EnterpriseConnectFailed("Cronofy did not say which service account was connected.")
    owner = db.session.scalar(
        sa.select(ServiceAccount.organisation_id).where(ServiceAccount.cronofy_sub == sub)
    )
    if owner is not None and owner != admin.organisation_id:
        log.warning("service account already linked to another organisation; refused")
        raise EnterpriseConnectFailed(
            "This Cronofy service account is already connected to another organisation."
        )


def _store_service_account(
    cipher: TokenCipher, *, admin: User, grant: TokenGrant, pending: PendingFlow
) -> ServiceAccount:
    account = db.session.scalar(
        sa.select(ServiceAccount).where(ServiceAccount.organisation_id == admin.organisation_id)
    )
    if account is None:
        account = ServiceAccount(organisation_id=admin.organisation_id)
        db.session.add(account)
    account.cronofy_sub = grant.service_account_id or grant.sub
    account.data_center = pending.data_center
    account.access_token_encrypted = cipher.encrypt(grant.access_token)
    account.refresh_token_encrypted = cipher.encrypt(grant.refresh_token)
    account.access_token_expires_at = grant.expires_at
    account.scope = grant.scope[:255]
    account.delegated_scope = DELEGATED_SCOPE
    account.access_mode = granted_mode(grant, pending.access_mode)
    account.provider_name = pending.provider_name
    account.status = ConnectionStatus.CONNECTED
    account.refresh_lease_until = None
    account.created_at = datetime.now(UTC)
    return account

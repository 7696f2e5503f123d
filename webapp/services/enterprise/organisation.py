"""Connecting an organisation's Enterprise Connect service account (the admin's OAuth flow)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
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
    UserInfo,
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
    granted = granted_access(cronofy, grant, pending)
    account = _store_service_account(
        cipher, admin=admin, grant=grant, granted=granted, data_center=pending.data_center
    )
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


@dataclass(frozen=True, slots=True)
class GrantedAccess:
    """What the admin actually granted (Cronofy's screens may differ from the request)."""

    access_mode: AccessMode
    provider_name: str | None
    delegated_scope: str


def granted_access(
    cronofy: CronofyClient, grant: TokenGrant, pending: PendingFlow
) -> GrantedAccess:
    """Mode, provider and delegated scope from the grant, else userinfo, else the request."""
    info = _service_account_info(cronofy, grant)
    mode = granted_mode(grant, info, pending.access_mode)
    named = grant.linking_profile.provider_name if grant.linking_profile else None
    named = named or (info.service_account_provider if info else None)
    provider = _base_provider(named) if named else pending.provider_name
    return GrantedAccess(
        access_mode=mode,
        provider_name=None if mode is AccessMode.NO_CALENDAR else provider,
        delegated_scope=(info.delegated_scope if info else None) or DELEGATED_SCOPE,
    )


def granted_mode(
    grant: TokenGrant, info: UserInfo | None, requested: AccessMode | None
) -> AccessMode:
    """The mode Cronofy reports for the grant or its profiles; else what the deeplink enforced."""
    if grant.access_mode is not None:
        return AccessMode(grant.access_mode.value)
    if grant.linking_profile is not None:
        mode = CronofyAccessMode.from_provider_name(grant.linking_profile.provider_name)
        return AccessMode(mode.value)
    if info is not None and info.service_account_provider:
        mode = CronofyAccessMode.from_provider_name(info.service_account_provider)
        return AccessMode(mode.value)
    if info is not None and info.access_mode is not None:
        return AccessMode(info.access_mode.value)
    return requested or AccessMode.READ_WRITE


def _service_account_info(cronofy: CronofyClient, grant: TokenGrant) -> UserInfo | None:
    """The new service account's userinfo (token grants never carry the delegated scope)."""
    try:
        return cronofy.userinfo(grant.access_token)
    except CronofyError:
        log.warning("service-account userinfo unavailable; keeping the requested provider")
        return None


def _base_provider(provider_name: str) -> str | None:
    """``ms_graph_free_busy`` -> ``ms_graph``; ``cronofy`` (no-calendar mode) -> None."""
    if CronofyAccessMode.from_provider_name(provider_name) is CronofyAccessMode.NO_CALENDAR:
        return None
    return provider_name.removesuffix("_free_busy")


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
    cipher: TokenCipher,
    *,
    admin: User,
    grant: TokenGrant,
    granted: GrantedAccess,
    data_center: str,
) -> ServiceAccount:
    account = db.session.scalar(
        sa.select(ServiceAccount).where(ServiceAccount.organisation_id == admin.organisation_id)
    )
    if account is None:
        account = ServiceAccount(organisation_id=admin.organisation_id)
        db.session.add(account)
    account.cronofy_sub = grant.service_account_id or grant.sub
    account.data_center = data_center
    account.access_token_encrypted = cipher.encrypt(grant.access_token)
    account.refresh_token_encrypted = cipher.encrypt(grant.refresh_token)
    account.access_token_expires_at = grant.expires_at
    account.scope = grant.scope[:255]
    account.delegated_scope = granted.delegated_scope[:255]
    account.access_mode = granted.access_mode
    account.provider_name = granted.provider_name
    account.status = ConnectionStatus.CONNECTED
    account.refresh_lease_until = None
    account.created_at = datetime.now(UTC)
    return account

"""Individual Connect: start the flow, finish it, store a grant as the user's connection.

Public API (also used by Enterprise Connect): ``store_grant``, ``access_token``,
``call_with_token``, ``disconnect`` and the error classes of ``connection_errors``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from cronofy_client import AccessMode as CronofyAccessMode
from cronofy_client import (
    Calendar,
    CronofyClient,
    CronofyError,
    CronofyInvalidGrant,
    Provider,
    TokenGrant,
    UserInfo,
)
from webapp.extensions import db
from webapp.models import (
    AccessMode,
    CalendarConnection,
    ConnectionStatus,
    ConnectMethod,
    OAuthPurpose,
    User,
)
from webapp.security import TokenDecryptError, new_state_token, token_digest
from webapp.services import audit, bookly_sync
from webapp.services.calendar_settings import of_connection
from webapp.services.connection_errors import (
    AccountAlreadyLinked,
    CalendarConnectionError,
    CalendarUnavailable,
    ConnectFailed,
    DataCenterMismatch,
    InvalidChoice,
    InvalidState,
    NoConflictCalendars,
    NotConnected,
    ReconnectRequired,
)
from webapp.services.disconnection import (
    DisconnectResult,
    disconnect,
    disconnect_user,
    schedule_cleanup,
)
from webapp.services.oauth_states import consume_state, create_state
from webapp.services.revocation import queue_revocation
from webapp.services.tokens import access_token, call_with_token, token_cipher

log = logging.getLogger(__name__)

# The contract with Enterprise Connect names the base class ConnectionError.
ConnectionError = CalendarConnectionError  # noqa: A001 - the agreed public name

__all__ = [
    "AccountAlreadyLinked",
    "CalendarConnectionError",
    "CalendarUnavailable",
    "ConnectChoice",
    "ConnectFailed",
    "ConnectionError",
    "DataCenterMismatch",
    "DisconnectResult",
    "InvalidChoice",
    "InvalidState",
    "NoConflictCalendars",
    "NotConnected",
    "ReconnectRequired",
    "access_token",
    "call_with_token",
    "complete_connect",
    "disconnect",
    "disconnect_user",
    "mode_label",
    "parse_choice",
    "start_connect",
    "store_grant",
]

SCOPE = "free_busy_write"
CALLBACK_PATH = "/connect/callback"
WEBHOOK_PATH = "/webhooks/cronofy/"
LET_ME_CHOOSE = "choose"


@dataclass(frozen=True, slots=True)
class ConnectChoice:
    """A validated connect form: the access mode and the provider (None: choose on Cronofy)."""

    access_mode: AccessMode
    provider: Provider | None


def parse_choice(access_mode: str | None, provider_name: str | None) -> ConnectChoice:
    """Validate the connect form; InvalidChoice names what is wrong."""
    try:
        mode = AccessMode(access_mode or "")
    except ValueError:
        raise InvalidChoice(
            "Choose how much access to give: read-write, free/busy only or no calendar access."
        ) from None
    if mode is AccessMode.NO_CALENDAR:
        return ConnectChoice(mode, None)  # no calendar: there is no provider to pick
    key = provider_name or LET_ME_CHOOSE
    if key == LET_ME_CHOOSE:
        return ConnectChoice(mode, None)
    try:
        return ConnectChoice(mode, Provider(key))
    except ValueError:
        names = ", ".join(provider.label for provider in Provider)
        raise InvalidChoice(
            f"Choose {names}, or let Cronofy ask you which calendar to connect."
        ) from None


def start_connect(
    cronofy: CronofyClient, *, user: User, choice: ConnectChoice, public_base_url: str
) -> str:
    """Store a fresh state for this user and return Cronofy's authorize URL (commits)."""
    redirect_uri = f"{public_base_url}{CALLBACK_PATH}"
    state = create_state(
        user=user,
        purpose=OAuthPurpose.INDIVIDUAL,
        data_center=cronofy.data_center.value,
        redirect_uri=redirect_uri,
        access_mode=choice.access_mode,
        provider_name=choice.provider.value if choice.provider else None,
    )
    url = cronofy.individual_connect_url(
        redirect_uri=redirect_uri,
        state=state,
        scope=SCOPE,
        access_mode=CronofyAccessMode(choice.access_mode.value),
        provider_name=choice.provider,
        avoid_linking=True,
    )
    audit.record(
        "connection.started",
        actor=user,
        target=user.email,
        details={"access_mode": choice.access_mode.value},
    )
    db.session.commit()
    return url


def complete_connect(
    cronofy: CronofyClient, *, user: User, code: str, state: str, public_base_url: str
) -> CalendarConnection:
    """Finish Individual Connect: burn the state, exchange the code, store the connection."""
    pending = consume_state(
        user=user,
        state=state,
        purpose=OAuthPurpose.INDIVIDUAL,
        data_center=cronofy.data_center.value,
    )
    try:
        grant = cronofy.exchange_code(code, redirect_uri=pending.redirect_uri)
    except CronofyInvalidGrant:
        raise ConnectFailed(
            "Cronofy did not accept this sign-in (it may have expired). Start connecting again."
        ) from None
    except CronofyError:
        raise ConnectFailed("Cronofy could not be reached. Try connecting again shortly.") from None
    return store_grant(
        cronofy,
        user=user,
        grant=grant,
        method=ConnectMethod.INDIVIDUAL,
        data_center=pending.data_center,
        webhook_base_url=public_base_url,
    )


def store_grant(
    cronofy: CronofyClient,
    *,
    user: User,
    grant: TokenGrant,
    method: ConnectMethod,
    data_center: str,
    webhook_base_url: str,
) -> CalendarConnection:
    """Create or replace `user`'s connection from a token grant and commit once."""
    sub = grant.sub or grant.account_id
    if not sub:
        raise ConnectFailed("Cronofy did not say which account was connected. Try again.")
    _refuse_foreign_account(user, sub)
    info = _userinfo(cronofy, grant)
    mode = _granted_mode(grant, info)
    channel_token = new_state_token()
    channel_id = _create_channel(cronofy, grant, f"{webhook_base_url}{WEBHOOK_PATH}{channel_token}")
    connection, revoking = _upsert(cronofy, user, sub, grant)
    _apply_grant(connection, grant, info, mode, method, data_center)
    calendars = of_connection(
        info.calendars, profile_id=connection.profile_id, access_mode=connection.access_mode
    )
    connection.write_calendar_id = _default_write_calendar(calendars, connection.profile_id)
    connection.conflict_calendar_ids = [c.calendar_id for c in calendars]
    connection.channel_id = channel_id
    connection.channel_token_hash = token_digest(channel_token) if channel_id else None
    audit.record(
        "connection.connected",
        actor=user,
        target=user.email,
        details={"method": method.value, "access_mode": mode.value, "sub": sub},
    )
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise AccountAlreadyLinked(
            "This calendar account is already connected to another person."
        ) from None
    if revoking:
        schedule_cleanup(timedelta(0))  # the replaced grant is revoked now, not at the next beat
    log.info("user id=%s connected (%s, %s)", user.id, method.value, mode.value)
    return connection


def _refuse_foreign_account(user: User, sub: str) -> None:
    owner = db.session.scalar(
        sa.select(CalendarConnection.user_id).where(CalendarConnection.cronofy_sub == sub)
    )
    if owner is not None and owner != user.id:
        log.warning("user id=%s tried to link a Cronofy account of user id=%s", user.id, owner)
        raise AccountAlreadyLinked(
            "This calendar account is already connected to another person. "
            "Sign in to Cronofy with your own calendar account."
        )


def _userinfo(cronofy: CronofyClient, grant: TokenGrant) -> UserInfo:
    try:
        return cronofy.userinfo(grant.access_token)
    except CronofyError:
        raise ConnectFailed(
            "Cronofy could not list your calendars. Try connecting again."
        ) from None


def _granted_mode(grant: TokenGrant, info: UserInfo) -> AccessMode:
    """The mode actually granted (the person may change it on Cronofy's screens)."""
    if grant.access_mode is not None:
        return AccessMode(grant.access_mode.value)
    profile_id = grant.linking_profile.profile_id if grant.linking_profile else None
    profiles = [p for p in info.profiles if p.profile_id == profile_id] or list(info.profiles)
    if not profiles:
        raise ConnectFailed("Cronofy did not report which access you granted. Try again.")
    return AccessMode(CronofyAccessMode.from_provider_name(profiles[0].provider_name).value)


def _create_channel(cronofy: CronofyClient, grant: TokenGrant, callback_url: str) -> str | None:
    try:
        return cronofy.create_channel(grant.access_token, callback_url=callback_url).channel_id
    except CronofyError:
        # The connection works without it; the channel check recreates it later.
        log.warning("could not create the push channel for account (status unknown)")
        return None


def _upsert(
    cronofy: CronofyClient, user: User, sub: str, grant: TokenGrant
) -> tuple[CalendarConnection, bool]:
    """The user's connection row, and whether an older grant was queued for revocation."""
    existing = db.session.scalar(
        sa.select(CalendarConnection).where(CalendarConnection.user_id == user.id)
    )
    if existing is None:
        connection = CalendarConnection(user_id=user.id, cronofy_sub=sub)
        db.session.add(connection)
        return connection, False
    revoking = False
    if existing.cronofy_sub != sub and existing.refresh_token_encrypted:
        revoking = True
        queue_revocation(
            refresh_token_encrypted=existing.refresh_token_encrypted,
            sub=existing.cronofy_sub,
            first_try_now=True,
        )
    else:
        if existing.channel_id:
            _close_old_channel(cronofy, grant, existing.channel_id)
        if _old_grant_for_another_profile(existing, grant):
            # Same account, another profile: the old grant must not keep that profile
            # connected. By token only: revoking by sub would end the new grant too.
            queue_revocation(
                refresh_token_encrypted=existing.refresh_token_encrypted,
                sub=None,
                first_try_now=True,
            )
            revoking = True
    existing.cronofy_sub = sub
    return existing, revoking


def _old_grant_for_another_profile(existing: CalendarConnection, grant: TokenGrant) -> bool:
    new_profile = grant.linking_profile.profile_id if grant.linking_profile else None
    if not existing.refresh_token_encrypted or not existing.profile_id or not new_profile:
        return False
    if existing.profile_id == new_profile:
        return False
    try:
        old_token = token_cipher().decrypt(existing.refresh_token_encrypted)
    except TokenDecryptError:
        return False
    return old_token != grant.refresh_token  # one shared token would be revoked for both


def _close_old_channel(cronofy: CronofyClient, grant: TokenGrant, channel_id: str) -> None:
    try:
        cronofy.close_channel(grant.access_token, channel_id)
    except CronofyError:
        log.info("old push channel could not be closed; its URL token no longer matches")


def _apply_grant(
    connection: CalendarConnection,
    grant: TokenGrant,
    info: UserInfo,
    mode: AccessMode,
    method: ConnectMethod,
    data_center: str,
) -> None:
    cipher = token_cipher()
    linked = grant.linking_profile
    now = datetime.now(UTC)
    if method is ConnectMethod.INDIVIDUAL:
        connection.replaced_individual_at = None
    elif connection.method is ConnectMethod.INDIVIDUAL:
        # Only an explicit replacement gets here (callbacks refuse otherwise): say so.
        connection.replaced_individual_at = now
    connection.connected_at = now
    bookly_sync.reconcile_soon()  # Bookly's appointments of this instructor reach it now
    profile = next(
        (p for p in info.profiles if linked and p.profile_id == linked.profile_id),
        info.profiles[0] if info.profiles else None,
    )
    connection.cronofy_account_id = grant.account_id
    connection.data_center = data_center
    connection.method = method
    connection.access_mode = mode
    connection.provider_name = linked.provider_name if linked else _attr(profile, "provider_name")
    connection.provider_service = (
        linked.provider_service if linked else _attr(profile, "provider_service")
    )
    connection.profile_id = linked.profile_id if linked else _attr(profile, "profile_id")
    connection.profile_name = linked.profile_name if linked else _attr(profile, "profile_name")
    connection.access_token_encrypted = cipher.encrypt(grant.access_token)
    connection.refresh_token_encrypted = cipher.encrypt(grant.refresh_token)
    connection.access_token_expires_at = grant.expires_at
    connection.scope = grant.scope or ""
    connection.status = ConnectionStatus.CONNECTED
    connection.status_reason = None
    connection.refresh_lease_until = None


def _attr(profile: object, name: str) -> str | None:
    value = getattr(profile, name, None) if profile is not None else None
    return str(value) if value else None


def _default_write_calendar(calendars: list[Calendar], profile_id: str | None) -> str | None:
    """The primary writable calendar of the linked profile, else any writable one."""
    writable = [c for c in calendars if c.writable]
    ranked = sorted(
        writable, key=lambda c: (c.profile_id != profile_id, not c.primary, c.name.lower())
    )
    return ranked[0].calendar_id if ranked else None


def mode_label(mode: AccessMode) -> str:
    """Human label of an access mode ("Read-write", "Free/busy only", "No calendar access")."""
    return CronofyAccessMode(mode.value).label

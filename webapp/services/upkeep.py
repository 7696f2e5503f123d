"""Connection upkeep on beat: access tokens renewed before they expire, and push channels
checked and made again when Cronofy no longer has them.

Renewing ahead means a booking or a sync never waits for a refresh, and a refresh that fails
(Cronofy down for a while) is retried by the next upkeep while the old token still works; a
grant Cronofy refuses is marked "needs reconnect" and its owner told, as for any refresh.

A connection without its push channel hears of no calendar change: the channel may never have
been made (Cronofy failed at connect time) or Cronofy may have dropped it. The check lists the
account's channels and, when ours is missing, makes a new one under a new secret URL, swaps it
in only if the connection is still the one it read, audits it, and asks for a full sync (the
changes made while no channel existed were never announced).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa

from cronofy_client import CronofyClient, CronofyError
from webapp.database import utcnow
from webapp.extensions import db
from webapp.models import CalendarConnection, ConnectionStatus, ServiceAccount, User
from webapp.security import new_state_token, token_digest
from webapp.services import audit
from webapp.services.connection_errors import CalendarConnectionError
from webapp.services.connections import WEBHOOK_PATH
from webapp.services.enterprise.errors import EnterpriseError
from webapp.services.enterprise.service_tokens import service_access_token
from webapp.services.tokens import access_token, call_with_token, token_cipher

log = logging.getLogger(__name__)

# Tokens with less than this left are renewed: more than the interval between two upkeeps
# (extensions.TOKENS_RENEW_INTERVAL, 10 min) plus a slow refresh, so a token never reaches its
# last minutes unrenewed.
RENEW_AHEAD = timedelta(minutes=20)


@dataclass(frozen=True, slots=True)
class Renewal:
    """What one token upkeep did."""

    renewed: int = 0
    failed: int = 0


@dataclass(frozen=True, slots=True)
class ChannelCheck:
    """What one channel check did; ``recreated`` are the connections that need a full sync."""

    checked: int = 0
    recreated: list[int] = field(default_factory=list)
    failed: int = 0


def renew_tokens(cronofy: CronofyClient, *, ahead: timedelta = RENEW_AHEAD) -> Renewal:
    """Refresh every live access token (instructors' and service accounts') expiring within
    ``ahead``; each refresh is the usual single-flight one."""
    soon = utcnow() + ahead
    renewed = failed = 0
    for connection_id in _expiring(CalendarConnection, soon):
        try:
            access_token(cronofy, connection_id, valid_for=ahead)
        except (CalendarConnectionError, CronofyError) as exc:
            failed += 1
            log.warning("token of connection id=%s not renewed: %s", connection_id,
                        type(exc).__name__)  # fmt: skip
        else:
            renewed += 1
    for account_id in _expiring(ServiceAccount, soon):
        try:
            service_access_token(cronofy, token_cipher(), account_id, valid_for=ahead)
        except EnterpriseError as exc:
            failed += 1
            log.warning("token of service account id=%s not renewed: %s", account_id,
                        type(exc).__name__)  # fmt: skip
        else:
            renewed += 1
    return Renewal(renewed, failed)


def _expiring(model: type[CalendarConnection] | type[ServiceAccount], soon: datetime) -> list[int]:
    ids = db.session.scalars(
        sa.select(model.id).where(
            model.status == ConnectionStatus.CONNECTED,
            model.access_token_expires_at.isnot(None),
            model.access_token_expires_at < soon,
        )
    )
    found = list(ids)
    db.session.commit()  # hold no transaction while Cronofy answers
    return found


def check_channels(cronofy: CronofyClient, *, webhook_base_url: str) -> ChannelCheck:
    """Make sure every connected calendar has its push channel; make the missing ones."""
    rows = db.session.execute(
        sa.select(CalendarConnection.id, CalendarConnection.channel_id).where(
            CalendarConnection.status == ConnectionStatus.CONNECTED
        )
    ).all()
    db.session.commit()
    recreated: list[int] = []
    failed = 0
    for connection_id, channel_id in rows:
        try:
            channels = call_with_token(cronofy, connection_id, cronofy.list_channels)
        except (CalendarConnectionError, CronofyError) as exc:
            failed += 1
            log.warning("channels of connection id=%s not checked: %s", connection_id,
                        type(exc).__name__)  # fmt: skip
            continue
        if channel_id and any(channel.channel_id == channel_id for channel in channels):
            continue
        try:
            if _recreate(cronofy, connection_id, channel_id, webhook_base_url):
                recreated.append(connection_id)
        except (CalendarConnectionError, CronofyError) as exc:
            failed += 1
            log.warning("push channel of connection id=%s not made: %s", connection_id,
                        type(exc).__name__)  # fmt: skip
    return ChannelCheck(len(rows), recreated, failed)


def _recreate(
    cronofy: CronofyClient, connection_id: int, lost: str | None, webhook_base_url: str
) -> bool:
    """A new channel under a new secret URL, swapped in when the connection still has the
    channel we found missing; True when swapped in."""
    path_token = new_state_token()
    callback_url = f"{webhook_base_url.rstrip('/')}{WEBHOOK_PATH}{path_token}"
    channel = call_with_token(
        cronofy,
        connection_id,
        lambda token: cronofy.create_channel(token, callback_url=callback_url),
    )
    swapped = db.session.execute(
        sa.update(CalendarConnection)
        .where(
            CalendarConnection.id == connection_id,
            CalendarConnection.status == ConnectionStatus.CONNECTED,
            CalendarConnection.channel_id.is_not_distinct_from(lost),
        )
        .values(channel_id=channel.channel_id, channel_token_hash=token_digest(path_token))
    )
    if not getattr(swapped, "rowcount", 0):  # reconnected or disconnected meanwhile
        db.session.rollback()
        _close_quietly(cronofy, connection_id, channel.channel_id)
        return False
    user = db.session.scalars(
        sa.select(User).join(CalendarConnection, CalendarConnection.user_id == User.id)
        .where(CalendarConnection.id == connection_id)
    ).one()  # fmt: skip
    audit.record(
        "connection.channel_recreated",
        target=user.email,
        organisation_id=user.organisation_id,
        details={"had_channel": lost is not None},
    )
    db.session.commit()
    log.warning("push channel of connection id=%s was missing; made again", connection_id)
    return True


def _close_quietly(cronofy: CronofyClient, connection_id: int, channel_id: str) -> None:
    try:
        call_with_token(cronofy, connection_id, lambda t: cronofy.close_channel(t, channel_id))
    except (CalendarConnectionError, CronofyError):
        log.info("spare channel of connection id=%s left to Cronofy", connection_id)

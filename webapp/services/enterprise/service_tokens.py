"""A valid service-account access token: refreshed before expiry, one refresh at a time.

The single-flight mechanism is ``token_keeper.TokenKeeper`` (shared with calendar
connections). A dead grant moves the service account to ``needs_reconnect`` with one audit
entry; the Enterprise page then asks the admin to connect the organisation again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

import sqlalchemy as sa

from cronofy_client import CronofyClient, CronofyError
from webapp.database import utcnow
from webapp.models import ConnectionStatus, ServiceAccount
from webapp.security import TokenCipher
from webapp.services import audit, token_keeper
from webapp.services.enterprise.errors import (
    CronofyUnreachable,
    OrganisationNotConnected,
    ServiceAccountReconnectRequired,
)
from webapp.services.token_keeper import LossCause

log = logging.getLogger(__name__)

T = TypeVar("T")

_REJECTED = "Cronofy no longer accepts the organisation's authorization: connect it again."
_MESSAGES = {
    LossCause.DEAD: "Connect the organisation again.",
    LossCause.NO_TOKENS: _REJECTED,
    LossCause.REFRESH_REJECTED: _REJECTED,
    LossCause.TOKEN_UNREADABLE: _REJECTED,
}


def _grant_is_dead(status: ConnectionStatus, reason: str | None) -> bool:
    return status is not ConnectionStatus.CONNECTED


def _mark_needs_reconnect(conn: sa.Connection, account_id: int, cause: LossCause) -> bool:
    """Stop using the grant (only from connected, so one audit entry) and audit it."""
    result = conn.execute(
        sa.update(ServiceAccount)
        .where(ServiceAccount.id == account_id, ServiceAccount.status == ConnectionStatus.CONNECTED)
        .values(
            status=ConnectionStatus.NEEDS_RECONNECT, refresh_lease_until=None, updated_at=utcnow()
        )
    )
    if result.rowcount != 1:
        return False
    sub = conn.scalar(sa.select(ServiceAccount.cronofy_sub).where(ServiceAccount.id == account_id))
    audit.record_system_event(conn, "enterprise.needs_reconnect", target=sub or "")
    log.warning("service account %s needs reconnecting (%s)", account_id, cause.value)
    return True


_KEEPER = token_keeper.TokenKeeper(
    model=ServiceAccount, grant_is_dead=_grant_is_dead, mark_lost=_mark_needs_reconnect
)


def service_access_token(
    cronofy: CronofyClient,
    cipher: TokenCipher,
    account_id: int,
    *,
    stale: str | None = None,
    valid_for: timedelta = token_keeper.REFRESH_MARGIN,
) -> str:
    """The account's access token, refreshed when less than ``valid_for`` remains (5 min) or
    when it equals ``stale``."""
    try:
        return _KEEPER.access_token(
            cronofy, cipher, account_id, rejected=stale, valid_for=valid_for
        )
    except token_keeper.TokenRowMissing:
        raise OrganisationNotConnected("The organisation is not connected.") from None
    except token_keeper.GrantLost as exc:
        raise ServiceAccountReconnectRequired(_MESSAGES[exc.cause]) from None
    except token_keeper.RefreshBusy:
        raise CronofyUnreachable("Cronofy is slow to renew access; please try again.") from None
    except CronofyError:
        raise CronofyUnreachable("Cronofy could not renew access right now; try again.") from None


def call_with_service_token(
    cronofy: CronofyClient, cipher: TokenCipher, account_id: int, fn: Callable[[str], T]
) -> T:
    """Run ``fn(access_token)``; on a 401 refresh once and run it again."""
    return token_keeper.call_refreshing_once(
        lambda stale: service_access_token(cronofy, cipher, account_id, stale=stale), fn
    )

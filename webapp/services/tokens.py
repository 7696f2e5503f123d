"""Token upkeep of calendar connections: a valid access token, refreshed once at a time.

``access_token`` refreshes when less than five minutes remain; ``call_with_token`` also
refreshes once after a 401. The single-flight mechanism is ``token_keeper.TokenKeeper``
(a lease column, on SQLite and PostgreSQL). ``invalid_grant`` or unreadable ciphertext moves the
connection to ``needs_reconnect``: audit, one e-mail, the banner, and no further refresh
attempts (``connection_health``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import TypeVar

import sqlalchemy as sa
from flask import current_app

from cronofy_client import CronofyClient
from webapp.models import CalendarConnection
from webapp.security import TokenCipher
from webapp.services import token_keeper
from webapp.services.connection_errors import (
    CalendarUnavailable,
    NotConnected,
    ReconnectRequired,
)
from webapp.services.connection_health import (
    StatusReason,
    email_instructor,
    grant_is_dead,
    mark_needs_reconnect,
)
from webapp.services.token_keeper import LossCause

log = logging.getLogger(__name__)

T = TypeVar("T")

_REASONS = {
    LossCause.REFRESH_REJECTED: StatusReason.REFRESH_REJECTED,
    LossCause.TOKEN_UNREADABLE: StatusReason.TOKEN_UNREADABLE,
}
_MESSAGES = {
    LossCause.DEAD: "Your calendar connection must be renewed: connect it again.",
    LossCause.NO_TOKENS: "Your calendar connection has no access: connect it again.",
    LossCause.REFRESH_REJECTED: (
        "Cronofy no longer accepts our access to your calendar: connect it again."
    ),
    LossCause.TOKEN_UNREADABLE: (
        "We can no longer read the access to your calendar: connect it again."
    ),
}


def token_cipher() -> TokenCipher:
    """The app's token cipher (MultiFernet over TOKEN_ENCRYPTION_KEYS)."""
    cipher: TokenCipher = current_app.extensions["token_cipher"]
    return cipher


def _mark_lost(conn: sa.Connection, connection_id: int, cause: LossCause) -> bool:
    return mark_needs_reconnect(conn, connection_id, _REASONS[cause])


def _email_lost(connection_id: int, cause: LossCause) -> None:
    email_instructor(connection_id, _REASONS[cause])


_KEEPER = token_keeper.TokenKeeper(
    model=CalendarConnection,
    grant_is_dead=grant_is_dead,
    mark_lost=_mark_lost,
    after_lost=_email_lost,
    status_reason=CalendarConnection.status_reason.expression,
)


def access_token(
    cronofy: CronofyClient,
    connection_id: int,
    *,
    valid_for: timedelta = token_keeper.REFRESH_MARGIN,
) -> str:
    """A valid access token: refreshed when less than ``valid_for`` is left (5 min; the
    upkeep renews ahead of expiry), single-flight per connection."""
    return _token(cronofy, connection_id, None, valid_for)


def call_with_token(cronofy: CronofyClient, connection_id: int, fn: Callable[[str], T]) -> T:
    """Run fn(access_token); on CronofyAuthExpired refresh once and retry."""
    return token_keeper.call_refreshing_once(partial(_token, cronofy, connection_id), fn)


def _token(
    cronofy: CronofyClient,
    connection_id: int,
    rejected: str | None,
    valid_for: timedelta = token_keeper.REFRESH_MARGIN,
) -> str:
    try:
        return _KEEPER.access_token(
            cronofy, token_cipher(), connection_id, rejected=rejected, valid_for=valid_for
        )
    except token_keeper.TokenRowMissing:
        raise NotConnected("This calendar connection no longer exists.") from None
    except token_keeper.GrantLost as exc:
        raise ReconnectRequired(_MESSAGES[exc.cause]) from None
    except token_keeper.RefreshBusy:
        raise CalendarUnavailable(
            "Your calendar is busy renewing its access; please try again in a moment."
        ) from None

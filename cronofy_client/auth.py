"""Authorize links (Individual and Enterprise Connect) and the token endpoint calls.

pycronofy's ``user_auth_link`` knows neither ``access_mode`` nor Enterprise Connect, and its
token calls drop ``sub``, ``account_id`` and ``linking_profile`` and revoke only by access
token (reference §11.2), so this module builds links and token requests itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from cronofy_client.enums import AccessMode, Provider
from cronofy_client.errors import unexpected_response
from cronofy_client.models import TokenGrant
from cronofy_client.transport import Transport
from cronofy_client.wire import JsonObject

log = logging.getLogger(__name__)


def _mode_and_provider(
    access_mode: AccessMode | str | None, provider_name: Provider | str | None
) -> dict[str, str]:
    """Validate ``access_mode``/``provider_name`` and return their query parameters."""
    params: dict[str, str] = {}
    mode = AccessMode(access_mode) if access_mode is not None else None
    provider = Provider(provider_name) if provider_name is not None else None
    if mode is AccessMode.NO_CALENDAR and provider is not None:
        raise ValueError("no_calendar access takes no provider_name")
    if mode is not None:
        params["access_mode"] = mode.value
    if provider is not None:
        params["provider_name"] = provider.value
    return params


def _require(**values: str) -> None:
    for name, value in values.items():
        if not value:
            raise ValueError(f"{name} is required")


def individual_connect_url(
    app_base_url: str,
    client_id: str,
    *,
    redirect_uri: str,
    state: str,
    scope: str,
    access_mode: AccessMode | str | None,
    provider_name: Provider | str | None,
    avoid_linking: bool,
) -> str:
    """``/oauth/authorize`` URL for Individual Connect (validated before it is built)."""
    extra = _mode_and_provider(access_mode, provider_name)
    _require(redirect_uri=redirect_uri, state=state, scope=scope)
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": scope,
        "state": state,
        "avoid_linking": "true" if avoid_linking else "false",
        **extra,
    }
    return f"{app_base_url}/oauth/authorize?{urlencode(params)}"


def enterprise_connect_url(
    app_base_url: str,
    client_id: str,
    *,
    redirect_uri: str,
    state: str,
    scope: str,
    delegated_scope: str,
    access_mode: AccessMode | str | None,
    provider_name: Provider | str | None,
) -> str:
    """``/enterprise_connect/oauth/authorize`` URL for a service-account admin."""
    extra = _mode_and_provider(access_mode, provider_name)
    _require(redirect_uri=redirect_uri, state=state, scope=scope, delegated_scope=delegated_scope)
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": scope,
        "delegated_scope": delegated_scope,
        "state": state,
        **extra,
    }
    return f"{app_base_url}/enterprise_connect/oauth/authorize?{urlencode(params)}"


@dataclass(frozen=True, slots=True)
class TokenEndpoint:
    """Calls ``/oauth/token`` and ``/oauth/token/revoke`` with the client credentials."""

    transport: Transport
    api_base_url: str
    client_id: str
    client_secret: str
    utcnow: Callable[[], datetime]

    def exchange_code(self, code: str, redirect_uri: str) -> TokenGrant:
        """Exchange a single-use code; never retried (a retry could burn or reuse the code)."""
        _require(code=code, redirect_uri=redirect_uri)
        body = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        return self._grant(body, refresh_token=None)

    def refresh(self, refresh_token: str) -> TokenGrant:
        """Refresh an access token; ``CronofyInvalidGrant`` when the refresh token is dead."""
        _require(refresh_token=refresh_token)
        body = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        return self._grant(body, refresh_token=refresh_token)

    def revoke(self, *, refresh_token: str | None, sub: str | None) -> None:
        """Revoke an authorization by refresh token or by ``sub`` (exactly one)."""
        if bool(refresh_token) == bool(sub):
            raise ValueError("give exactly one of refresh_token or sub")
        body: JsonObject = self._credentials()
        body.update({"token": refresh_token} if refresh_token else {"sub": sub})
        # RFC 7009: revoking is idempotent, so retries are safe; Cronofy answers 200, no body.
        self.transport.request(
            "POST", f"{self.api_base_url}/oauth/token/revoke", json=body, idempotent=True
        )

    def _credentials(self) -> JsonObject:
        return {"client_id": self.client_id, "client_secret": self.client_secret}

    def _grant(self, grant: JsonObject, *, refresh_token: str | None) -> TokenGrant:
        body = {**self._credentials(), **grant}
        # Token grants are not retried: a code is single use, and a refresh may rotate tokens.
        response = self.transport.request(
            "POST", f"{self.api_base_url}/oauth/token", json=body, idempotent=False
        )
        with unexpected_response("token grant"):
            grant_obj = TokenGrant.from_json(
                response.json(), now=self.utcnow(), refresh_token=refresh_token
            )
        log.info("Cronofy token granted for sub %s", grant_obj.sub or "-")
        return grant_obj

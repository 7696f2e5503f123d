"""``CronofyClient``: the one object the rest of the project uses to talk to Cronofy."""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import requests

from cronofy_client import auth
from cronofy_client.enums import AccessMode, DataCenter, Provider
from cronofy_client.errors import unexpected_response
from cronofy_client.event_calls import EventCalls
from cronofy_client.models import Calendar, Profile, TokenGrant, UserInfo
from cronofy_client.ratelimit import RateLimiter
from cronofy_client.scheduling_calls import SchedulingCalls
from cronofy_client.sdk import sdk_errors
from cronofy_client.transport import CallOptions, RetryPolicy, Transport, full_jitter
from cronofy_client.webhooks import WebhookVerifier
from cronofy_client.wire import JsonObject

log = logging.getLogger(__name__)


class CronofyClient(EventCalls, SchedulingCalls):
    """Typed, resilient Cronofy client for one application (client id) in one data center.

    Thread-safe: the session, rate limiter and settings are shared; per-account pycronofy
    clients are built per call. Per-account calls take the access token first.
    """

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        *,
        previous_client_secrets: Sequence[str] = (),
        data_center: DataCenter | str = "us",
        api_base_url: str | None = None,
        app_base_url: str | None = None,
        session: requests.Session | None = None,
        timeout: tuple[float, float] = (3.05, 10.0),
        max_retries: int = 3,
        rate_limiter: RateLimiter | None = None,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[float], float] = full_jitter,
        clock: Callable[[], float] = time.monotonic,
        utcnow: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if not client_id or not client_secret:
            raise ValueError("client_id and client_secret are required")
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        self.client_id = client_id
        self._secret = client_secret
        self._previous_secrets = tuple(s for s in previous_client_secrets if s)
        self.data_center = DataCenter(data_center)
        # An explicit API base (the sandbox) also serves the authorize pages unless told otherwise.
        self.api_base_url = (api_base_url or self.data_center.api_base_url).rstrip("/")
        self.app_base_url = (app_base_url or api_base_url or self.data_center.app_base_url).rstrip(
            "/"
        )
        # Default: counted in this process' memory; pass a RateLimiter on shared storage to share.
        self.rate_limiter = rate_limiter or RateLimiter(sleep=sleep)
        self.transport = Transport(
            session=session or requests.Session(),
            timeout=timeout,
            retry=RetryPolicy(max_retries, backoff_base, backoff_cap),
            rate_limiter=self.rate_limiter,
            sleep=sleep,
            jitter=jitter,
            utcnow=utcnow,
            clock=clock,
        )
        self._utcnow = utcnow
        self._tokens = auth.TokenEndpoint(
            self.transport, self.api_base_url, client_id, client_secret, utcnow
        )

    def with_options(self, options: CallOptions) -> CronofyClient:
        """This client (same session, rate limiter, credentials) with per-call options.

        ``client.with_options(IN_REQUEST)`` is what a web request or webhook receiver uses:
        no retries and a total deadline of about 5 s per call.
        """
        clone = copy.copy(self)
        clone.transport = self.transport.with_options(options)
        clone._tokens = auth.TokenEndpoint(
            clone.transport, self.api_base_url, self.client_id, self._secret, self._utcnow
        )
        return clone

    @property
    def options(self) -> CallOptions:
        """The per-call options this client applies."""
        return self.transport.options

    def __repr__(self) -> str:
        return f"CronofyClient(client_id={self.client_id!r}, api_base_url={self.api_base_url!r})"

    # -- Authorize links -------------------------------------------------------------------

    def individual_connect_url(
        self,
        *,
        redirect_uri: str,
        state: str,
        scope: str = "free_busy_write",
        access_mode: AccessMode | None = None,
        provider_name: Provider | None = None,
        avoid_linking: bool = True,
    ) -> str:
        """Browser URL starting Individual Connect (``/oauth/authorize``)."""
        return auth.individual_connect_url(
            self.app_base_url,
            self.client_id,
            redirect_uri=redirect_uri,
            state=state,
            scope=scope,
            access_mode=access_mode,
            provider_name=provider_name,
            avoid_linking=avoid_linking,
        )

    def enterprise_connect_url(
        self,
        *,
        redirect_uri: str,
        state: str,
        delegated_scope: str = "free_busy_write",
        access_mode: AccessMode | None = None,
        provider_name: Provider | None = None,
        scope: str = "service_account/accounts/manage",
    ) -> str:
        """Browser URL starting Enterprise Connect (``/enterprise_connect/oauth/authorize``)."""
        return auth.enterprise_connect_url(
            self.app_base_url,
            self.client_id,
            redirect_uri=redirect_uri,
            state=state,
            scope=scope,
            delegated_scope=delegated_scope,
            access_mode=access_mode,
            provider_name=provider_name,
        )

    # -- Tokens ----------------------------------------------------------------------------

    def exchange_code(self, code: str, *, redirect_uri: str) -> TokenGrant:
        """Exchange an authorization code for the full token grant."""
        return self._tokens.exchange_code(code, redirect_uri)

    def refresh(self, refresh_token: str) -> TokenGrant:
        """Refresh tokens; raises ``CronofyInvalidGrant`` when the account must reconnect."""
        return self._tokens.refresh(refresh_token)

    def revoke(self, *, refresh_token: str | None = None, sub: str | None = None) -> None:
        """Revoke an authorization by refresh token (preferred) or by ``sub``."""
        self._tokens.revoke(refresh_token=refresh_token, sub=sub)

    # -- Account data ----------------------------------------------------------------------

    def userinfo(self, access_token: str) -> UserInfo:
        """``GET /v1/userinfo``: identity, profiles and their calendars."""
        sdk = self._sdk(access_token)
        with sdk_errors("userinfo"):
            data = sdk.userinfo()
        with unexpected_response("userinfo"):
            return UserInfo.from_json(data)

    def profiles(self, access_token: str) -> list[Profile]:
        """``GET /v1/profiles``."""
        sdk = self._sdk(access_token)
        with sdk_errors("profiles"):
            data = sdk.list_profiles()
        with unexpected_response("profiles"):
            return [Profile.from_json(p) for p in data]

    def calendars(self, access_token: str) -> list[Calendar]:
        """``GET /v1/calendars``."""
        sdk = self._sdk(access_token)
        with sdk_errors("calendars"):
            data = sdk.list_calendars()
        with unexpected_response("calendars"):
            return [Calendar.from_json(c) for c in data]

    def create_calendar(
        self, access_token: str, *, profile_id: str, name: str, color: str | None = None
    ) -> Calendar:
        """``POST /v1/calendars`` (not retried: a repeat could create a duplicate)."""
        body: JsonObject = {"profile_id": profile_id, "name": name}
        if color:
            body["color"] = color
        # pycronofy's create_calendar cannot send a color; use its request handler directly.
        sdk = self._sdk(access_token)
        with sdk_errors("create_calendar"):
            response = sdk.request_handler.post("calendars", data=body)
        with unexpected_response("create_calendar"):
            return Calendar.from_json(response.json()["calendar"])

    # -- Webhooks --------------------------------------------------------------------------

    def webhook_verifier(self) -> WebhookVerifier:
        """Verifier of ``Cronofy-HMAC-SHA256`` over the current and previous client secrets."""
        return WebhookVerifier((self._secret, *self._previous_secrets))

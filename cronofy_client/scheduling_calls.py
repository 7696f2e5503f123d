"""Scheduling calls of ``CronofyClient``: availability, push channels, Enterprise Connect
user authorizations and Smart Invites."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from cronofy_client.availability import run_query
from cronofy_client.core import ClientCore
from cronofy_client.errors import unexpected_response
from cronofy_client.models import Channel
from cronofy_client.scheduling import (
    AvailabilityQuery,
    AvailableInterval,
    ServiceAccountAuthorizationRequest,
    SmartInvite,
    SmartInviteEvent,
)
from cronofy_client.sdk import sdk_errors
from cronofy_client.wire import JsonObject

log = logging.getLogger(__name__)

# pycronofy's docstring: a bulk authorization request carries 1 to 50 items.
SERVICE_ACCOUNT_BATCH = 50


class SchedulingCalls(ClientCore):
    """Availability, channels, service-account authorizations, Smart Invites."""

    # -- Availability ----------------------------------------------------------------------

    def availability(
        self, query: AvailabilityQuery, *, access_token: str | None = None
    ) -> list[AvailableInterval]:
        """``POST /v1/availability``, split into several requests when the window is long.

        Authenticates with the client secret (needed across accounts) unless an access token
        is given. pycronofy cannot do either of those, so the call is made here.
        """
        bearer = access_token or self._secret
        url = f"{self.api_base_url}/v1/availability"

        def post(body: JsonObject) -> JsonObject:
            response = self.transport.request(
                "POST", url, bearer=bearer, json=body, idempotent=True
            )
            with unexpected_response("availability"):
                data = response.json()
                if not isinstance(data, dict):
                    raise TypeError("availability")
                return data

        with unexpected_response("availability"):
            return run_query(query, post)

    # -- Push channels ---------------------------------------------------------------------

    def create_channel(
        self,
        access_token: str,
        *,
        callback_url: str,
        only_managed: bool = False,
        calendar_ids: Sequence[str] | None = None,
    ) -> Channel:
        """``POST /v1/channels`` (an identical request returns the existing channel)."""
        sdk = self._sdk(access_token)
        with sdk_errors("create_channel"):
            data = sdk.create_notification_channel(
                callback_url, calendar_ids=list(calendar_ids or ()), only_managed=only_managed
            )
        with unexpected_response("create_channel"):
            return Channel.from_json(data)

    def list_channels(self, access_token: str) -> list[Channel]:
        """``GET /v1/channels``."""
        sdk = self._sdk(access_token)
        with sdk_errors("list_channels"):
            data = sdk.list_notification_channels()
        with unexpected_response("list_channels"):
            return [Channel.from_json(c) for c in data]

    def close_channel(self, access_token: str, channel_id: str) -> None:
        """``DELETE /v1/channels/{channel_id}``."""
        sdk = self._sdk(access_token)
        with sdk_errors("close_channel"):
            sdk.close_notification_channel(channel_id)

    # -- Enterprise Connect ----------------------------------------------------------------

    def authorize_service_account_users(
        self,
        service_access_token: str,
        requests: Sequence[ServiceAccountAuthorizationRequest],
    ) -> None:
        """Ask Cronofy to authorize users through a service account (202, callbacks follow).

        One request uses the documented single shape; several use the bulk shape in
        chunks of at most 50 (a trailing chunk of one stays bulk: the shapes must not mix).
        Not retried: a repeat would trigger a second callback per user.
        """
        sdk = self._sdk(service_access_token)
        if len(requests) == 1:
            only = requests[0]
            with sdk_errors("service_account_authorization"):
                sdk.authorize_with_service_account(
                    only.email, only.scope, only.callback_url, state=only.state
                )
            return
        for start in range(0, len(requests), SERVICE_ACCOUNT_BATCH):
            chunk = requests[start : start + SERVICE_ACCOUNT_BATCH]
            bodies = [r.to_json() for r in chunk]
            with sdk_errors("service_account_authorizations"):
                sdk.authorize_multiple_accounts_via_service_account(bodies)
            log.info("Requested %d service-account authorizations", len(chunk))

    # -- Smart Invites (client secret as bearer) --------------------------------------------

    def upsert_smart_invite(
        self,
        smart_invite_id: str,
        recipient_email: str,
        event: SmartInviteEvent,
        *,
        callback_url: str,
        organizer_name: str | None = None,
    ) -> SmartInvite:
        """Create or update a Smart Invite; send the returned ``icalendar`` yourself."""
        organizer = {"name": organizer_name} if organizer_name else None
        sdk, body = self._sdk(), event.to_json()
        with sdk_errors("upsert_smart_invite"):
            data = sdk.upsert_smart_invite(
                smart_invite_id,
                {"email": recipient_email},
                body,
                callback_url=callback_url,
                organizer=organizer,
            )
        with unexpected_response("upsert_smart_invite"):
            return SmartInvite.from_json(data)

    def cancel_smart_invite(self, smart_invite_id: str, recipient_email: str) -> SmartInvite:
        """Cancel a Smart Invite; send the returned cancellation ``icalendar`` yourself."""
        sdk = self._sdk()
        with sdk_errors("cancel_smart_invite"):
            data = sdk.cancel_smart_invite(smart_invite_id, {"email": recipient_email})
        with unexpected_response("cancel_smart_invite"):
            return SmartInvite.from_json(data)

    def smart_invite_status(self, smart_invite_id: str, recipient_email: str) -> SmartInvite:
        """``GET /v1/smart_invites``: the recipient's status and replies."""
        sdk = self._sdk()
        with sdk_errors("smart_invite_status"):
            data = sdk.get_smart_invite(smart_invite_id, recipient_email)
        with unexpected_response("smart_invite_status"):
            return SmartInvite.from_json(data)

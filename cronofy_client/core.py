"""State shared by the call groups of ``CronofyClient`` (set up by its constructor)."""

from __future__ import annotations

import logging

from cronofy_client.sdk import SdkClient
from cronofy_client.transport import Transport

log = logging.getLogger(__name__)


class ClientCore:
    """Attributes every call group relies on, and the per-call pycronofy factory."""

    client_id: str
    api_base_url: str
    app_base_url: str
    transport: Transport
    _secret: str

    def _sdk(self, access_token: str | None = None) -> SdkClient:
        """A fresh pycronofy client for one account, or for the app key when no token."""
        if access_token is not None and not access_token:
            raise ValueError("access_token is required")
        return SdkClient(
            transport=self.transport,
            api_base_url=self.api_base_url,
            client_id=self.client_id,
            client_secret=self._secret,
            access_token=access_token,
        )

"""The sandbox's configuration: one frozen dataclass, passed to create_app."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SandboxConfig:
    """Everything that varies between a demo run, a test run and the embedded default."""

    client_id: str = "sandbox-client"
    # All active client secrets (rotation); the first one signs callbacks, but every push
    # carries one comma-separated digest per active secret, as Cronofy does.
    client_secrets: tuple[str, ...] = ("CRN_sandbox_secret",)
    database: str = ":memory:"
    seed_demo: bool = True
    deliver_async: bool = True
    access_token_lifetime: int = 3600
    service_account_token_lifetime: int = 1800
    authorization_code_lifetime: int = 600
    # The reference says the docs' refresh example returns the same refresh token; real
    # Cronofy may or may not rotate. Rotation is the stricter behaviour, so it is the default.
    rotate_refresh_tokens: bool = True
    page_size: int = 250
    # Cronofy's body limit is undocumented ([INF]); 1 MiB is far above any real request.
    max_body_bytes: int = 1024 * 1024
    delivery_attempts: int = 4
    delivery_backoff: float = 0.2
    delivery_timeout: float = 5.0
    enforce_rate_limits: bool = False
    per_second_limit: int = 50
    per_minute_limit: int = 500
    # The sandbox is a local tool: its own browser UI and control API need no credentials.
    enable_control_api: bool = True

    @property
    def signing_secret(self) -> str:
        """The secret whose HMAC is listed first in Cronofy-HMAC-SHA256."""
        return self.client_secrets[0]

"""The outside world as one frozen object: Cronofy, Bookly and the mailer.

``create_app`` stores a ``Clients`` in ``app.extensions["clients"]``; tests inject fakes or
sandbox-backed clients through ``create_app(clients=...)``. The client packages are imported
lazily so the web app starts even while one of them is missing from an install.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask import current_app

from webapp.mail import CapturingMailer, Mailer, OutgoingMail, build_mailer

if TYPE_CHECKING:
    from bookly_client import BooklyGateway
    from cronofy_client import CronofyClient

log = logging.getLogger(__name__)

SANDBOX_MOUNT_PATH = "/sandbox/cronofy"


@dataclass(frozen=True, slots=True)
class Clients:
    """Everything that talks to another system, built once per app."""

    cronofy: CronofyClient
    bookly: BooklyGateway | None
    mailer: Mailer

    @property
    def cronofy_in_request(self) -> CronofyClient:
        """The Cronofy client for use inside a web request: no retries, about 5 s per call."""
        from cronofy_client import IN_REQUEST

        return self.cronofy.with_options(IN_REQUEST)


def get_clients() -> Clients:
    """The clients of the current app."""
    clients: Clients = current_app.extensions["clients"]
    return clients


def sandbox_base_url(config: Mapping[str, Any]) -> str:
    """Where the mounted sandbox answers, seen from this app and from browsers."""
    return f"{config['PUBLIC_BASE_URL']}{SANDBOX_MOUNT_PATH}"


def build_cronofy(config: Mapping[str, Any]) -> CronofyClient:
    """A CronofyClient for the configured account (sandbox or a live data center)."""
    from cronofy_client import CronofyClient, RateLimiter

    api_base = config.get("CRONOFY_API_BASE_URL")
    app_base = config.get("CRONOFY_APP_BASE_URL")
    if config["CRONOFY_SANDBOX"]:
        api_base = api_base or sandbox_base_url(config)
        app_base = app_base or sandbox_base_url(config)
    from webapp.metrics import CountingSession

    return CronofyClient(
        config["CRONOFY_CLIENT_ID"],
        config["CRONOFY_CLIENT_SECRET"],
        session=CountingSession(),
        previous_client_secrets=tuple(config["CRONOFY_PREVIOUS_CLIENT_SECRETS"]),
        data_center=config["CRONOFY_DATA_CENTER"],
        api_base_url=api_base,
        app_base_url=app_base,
        # Counted in Redis when RATELIMIT_STORAGE_URL points there: shared by every process.
        rate_limiter=RateLimiter(
            storage=config.get("RATELIMIT_STORAGE_URI") or "memory://",
            key=f"cronofy:{config['CRONOFY_CLIENT_ID']}",
        ),
    )


def bookly_token_secret(secret_key: str) -> bytes:
    """The key Bookly booking tokens are derived with (separate from the session key)."""
    return hmac.new(secret_key.encode("utf-8"), b"bookly-booking-token", hashlib.sha256).digest()


def build_bookly(config: Mapping[str, Any]) -> BooklyGateway | None:
    """The Bookly gateway, or None when no Bookly database is configured."""
    url = config.get("BOOKLY_DATABASE_URL")
    if not url:
        return None
    from bookly_client import BooklyGateway

    return BooklyGateway(
        url,
        table_prefix=config["BOOKLY_TABLE_PREFIX"],
        token_secret=bookly_token_secret(config["SECRET_KEY"]),
    )


def build_clients(config: Mapping[str, Any]) -> Clients:
    """All clients from the app config."""
    return Clients(
        cronofy=build_cronofy(config),
        bookly=build_bookly(config),
        mailer=build_mailer(
            config.get("MAIL_URL"), config["MAIL_FROM"], ca_file=config.get("MAIL_CA_FILE")
        ),
    )


def build_sandbox_app(config: Mapping[str, Any]) -> Any:
    """The Cronofy sandbox as its own WSGI app, registered with our client id and secrets."""
    from cronofy_sandbox import SandboxConfig, create_app

    secrets = (config["CRONOFY_CLIENT_SECRET"], *config["CRONOFY_PREVIOUS_CLIENT_SECRETS"])
    sandbox_db = config.get("CRONOFY_SANDBOX_DATABASE", ":memory:")
    return create_app(
        SandboxConfig(
            client_id=config["CRONOFY_CLIENT_ID"],
            client_secrets=secrets,
            database=sandbox_db,
            seed_demo=True,
            deliver_async=True,
        )
    )


def show_captured_mail_in_sandbox(mailer: Mailer, sandbox: Any) -> None:
    """Demo: each message we capture also lands on the mounted sandbox's mailbox page."""
    from cronofy_sandbox.invites import receive_mail
    from cronofy_sandbox.state import EXTENSION_KEY

    if not isinstance(mailer, CapturingMailer):
        return
    store = sandbox.extensions[EXTENSION_KEY].store

    def copy(message: OutgoingMail) -> None:
        calendar = message.calendar
        receive_mail(
            store,
            recipient=message.to,
            subject=message.subject,
            body=message.body,
            method=calendar.method if calendar else "",
            ics=calendar.content.decode("utf-8", "replace") if calendar else "",
        )

    mailer.copy_to = copy

"""A cronofy_sandbox served on loopback for benchmarks, and people connected to it by OAuth."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import requests

from cronofy_client import AccessMode, CronofyClient, Provider, RateLimiter, TokenGrant
from cronofy_sandbox import SandboxConfig, create_app
from cronofy_sandbox.testing import SandboxControl, click_through_consent, serve

CLIENT_ID = "bench-client"
CLIENT_SECRET = "CRN_bench_secret"  # noqa: S105 - known only to the local sandbox
REDIRECT_URI = "http://127.0.0.1:9/callback"
SCOPE = "read_account list_calendars read_events create_event delete_event"
# Far more than any benchmark sends: acquire() still runs on every call but never waits.
UNLIMITED = ((1_000_000, 1.0),)


@dataclass(frozen=True)
class ServedSandbox:
    """A served sandbox, its control API and a CronofyClient aimed at it."""

    base_url: str
    control: SandboxControl
    client: CronofyClient

    def connect(self, email: str) -> TokenGrant:
        """Run Individual Connect for ``email`` (consent click-through + code exchange)."""
        url = self.client.individual_connect_url(
            redirect_uri=REDIRECT_URI,
            state="bench",
            scope=SCOPE,
            access_mode=AccessMode.READ_WRITE,
            provider_name=Provider.GOOGLE,
        )
        with requests.Session() as session:
            location = click_through_consent(session, url, person=email)
        code = parse_qs(urlsplit(location).query)["code"][0]
        return self.client.exchange_code(code, redirect_uri=REDIRECT_URI)


@contextmanager
def served_sandbox() -> Iterator[ServedSandbox]:
    """A fresh sandbox (demo people seeded) on 127.0.0.1:<free port>."""
    config = SandboxConfig(client_id=CLIENT_ID, client_secrets=(CLIENT_SECRET,))
    access_log = logging.getLogger("werkzeug")  # one line per request would swamp the output
    level = access_log.level
    access_log.setLevel(logging.WARNING)
    try:
        with serve(create_app(config)) as base_url, requests.Session() as session:
            client = CronofyClient(
                CLIENT_ID, CLIENT_SECRET, api_base_url=base_url, rate_limiter=RateLimiter(UNLIMITED)
            )
            yield ServedSandbox(base_url, SandboxControl(base_url, session), client)
    finally:
        access_log.setLevel(level)

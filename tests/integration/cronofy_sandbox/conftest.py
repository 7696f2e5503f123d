"""Fixtures for the sandbox's own tests: connecting people, pycronofy clients, a receiver."""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pycronofy
import pytest
import requests

from cronofy_sandbox.testing import click_through_consent

REDIRECT_URI = "http://127.0.0.1:9/callback"
FULL_SCOPE = "read_account list_calendars read_events create_event delete_event create_calendar"


@dataclass(frozen=True)
class Received:
    """One callback POST the receiver got."""

    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The parsed body."""
        return json.loads(self.body)


class Receiver:
    """A loopback HTTP server recording every POST (answers `status`)."""

    def __init__(self) -> None:
        self.received: queue.Queue[Received] = queue.Queue()
        self.status = 200
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server API
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                outer.received.put(Received(self.path, dict(self.headers.items()), body))
                self.send_response(outer.status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def next(self, timeout: float = 2.0) -> Received:
        """The next callback (fails the test after `timeout` seconds)."""
        try:
            return self.received.get(timeout=timeout)
        except queue.Empty:
            pytest.fail(f"no callback within {timeout} s")

    def next_of(self, kind: str, timeout: float = 2.0) -> Received:
        """The next push notification of type `kind`, skipping others."""
        while True:
            got = self.next(timeout)
            if got.json().get("notification", {}).get("type") == kind:
                return got


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A callback receiver on 127.0.0.1:<free port>."""
    recv = Receiver()
    thread = threading.Thread(target=recv.server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield recv
    recv.server.shutdown()
    recv.server.server_close()
    thread.join(timeout=5)


def authorize_url(base_url: str, client_id: str, **params: str) -> str:
    """An Individual Connect URL on the sandbox."""
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": FULL_SCOPE,
        "state": "st4te",
        **params,
    }
    return f"{base_url}/oauth/authorize?{urlencode(query)}"


def code_from(location: str) -> str:
    """The code in a redirect Location."""
    return parse_qs(urlsplit(location).query)["code"][0]


@pytest.fixture
def get_code(sandbox: Any) -> Callable[..., str]:
    """Click through consent for a person and return the authorization code."""

    def run(email: str = "ada@demo.test", **params: str) -> str:
        with requests.Session() as session:
            return code_from(
                click_through_consent(
                    session,
                    authorize_url(sandbox.base_url, sandbox.client_id, **params),
                    person=email,
                )
            )

    return run


@pytest.fixture
def connect(sandbox: Any, get_code: Callable[..., str]) -> Callable[..., dict[str, Any]]:
    """Connect a person end to end; return the full token response JSON."""

    def run(email: str = "ada@demo.test", **params: str) -> dict[str, Any]:
        params.setdefault("access_mode", "read_write")
        params.setdefault("provider_name", "google")
        code = get_code(email, **params)
        resp = requests.post(
            f"{sandbox.base_url}/oauth/token",
            json={
                "client_id": sandbox.client_id,
                "client_secret": sandbox.client_secret,
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT_URI,
            },
            timeout=10,
        )
        assert resp.status_code == 200, resp.text
        return dict(resp.json())

    return run


@pytest.fixture
def pyclient(sandbox: Any) -> Callable[..., pycronofy.Client]:
    """A pycronofy.Client aimed at the sandbox through its own instance attributes."""

    def build(
        access_token: str | None = None, refresh_token: str | None = None
    ) -> pycronofy.Client:
        client = pycronofy.Client(
            client_id=sandbox.client_id,
            client_secret=sandbox.client_secret,
            access_token=access_token,
            refresh_token=refresh_token,
        )
        client.request_handler.base_url = sandbox.base_url
        client.app_base_url = sandbox.base_url
        return client

    return build

"""The `sandbox` fixture: a cronofy_sandbox app served on a loopback port for one test."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests
from flask import Flask

from cronofy_sandbox import SandboxConfig, create_app
from cronofy_sandbox.state import EXTENSION_KEY
from cronofy_sandbox.testing import SandboxControl, serve

CLIENT_ID = "sandbox-client"
CLIENT_SECRET = "CRN_sandbox_secret"


@dataclass(frozen=True)
class RunningSandbox:
    """A served sandbox: where it is, its app, its credentials and its control API."""

    base_url: str
    app: Flask
    client_id: str
    client_secret: str
    control: SandboxControl


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    """Override in a test module to change the sandbox's configuration."""
    return SandboxConfig(client_id=CLIENT_ID, client_secrets=(CLIENT_SECRET,))


@pytest.fixture
def sandbox(sandbox_config: SandboxConfig) -> Iterator[RunningSandbox]:
    """A fresh sandbox (demo people seeded) served on 127.0.0.1:<free port>.

    Teardown stops its callback delivery thread (callbacks still queued or due for a retry
    are dropped), so no push from this test reaches a later test's HTTP mocks.
    """
    with requests.Session() as delivery_session:
        app = create_app(sandbox_config, delivery_session=delivery_session)
        try:
            with serve(app) as base_url, requests.Session() as session:
                yield RunningSandbox(
                    base_url=base_url,
                    app=app,
                    client_id=sandbox_config.client_id,
                    client_secret=sandbox_config.client_secrets[0],
                    control=SandboxControl(base_url, session),
                )
        finally:
            app.extensions[EXTENSION_KEY].deliverer.close()

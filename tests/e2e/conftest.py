"""Browser tests: the real app (embedded demo config) served on a loopback port, and Chromium.

Chromium is Debian's (``apt-get install -y chromium``), never a Playwright download. Without
it the tests skip with a clear reason, except under REQUIRE_SERVICES=1 (CI), where they fail.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@dataclass(frozen=True, slots=True)
class RunningApp:
    """The served app and where it answers."""

    base_url: str
    app: Flask


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} is missing: install Debian's browser with `apt-get install -y chromium`"
    if os.environ.get("REQUIRE_SERVICES", "") == "1":
        pytest.fail(f"{reason} (REQUIRE_SERVICES=1 is set)")
    pytest.skip(reason)


class _Deferred:
    """A WSGI app filled in after the server knows its port (PUBLIC_BASE_URL needs it)."""

    def __init__(self) -> None:
        self.app: Any = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self.app(environ, start_response)


@pytest.fixture
def demo_app(tmp_path: Path) -> Iterator[RunningApp]:
    """The embedded demo (SQLite, mounted sandbox, demo seed) served from a thread."""
    from cronofy_sandbox.state import EXTENSION_KEY as SANDBOX_KEY
    from webapp import create_app
    from webapp.extensions import db

    deferred = _Deferred()
    server = make_server("127.0.0.1", 0, deferred, threaded=True)
    base_url = f"http://127.0.0.1:{server.server_port}"
    app = create_app(
        {
            "BRIDGE_ENV": "demo",
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "PUBLIC_BASE_URL": base_url,
            "LOG_LEVEL": "WARNING",
        }
    )
    with app.app_context():
        db.create_all()
    seeded = app.test_cli_runner().invoke(args=["demo", "seed"])
    assert seeded.exit_code == 0, seeded.output
    deferred.app = app
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield RunningApp(base_url=base_url, app=app)
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()
        app.extensions["cronofy_sandbox"].extensions[SANDBOX_KEY].deliverer.close()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def browser_page() -> Iterator[Any]:
    """A fresh Chromium page (Debian's binary, headless)."""
    _require_chromium()
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            context = browser.new_context()
            context.set_default_timeout(15_000)
            yield context.new_page()
        finally:
            browser.close()

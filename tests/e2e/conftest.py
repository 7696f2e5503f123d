"""Browser tests: the real app (embedded demo config) served on a loopback port, and Chromium.

Chromium is Debian's (``apt-get install -y chromium``), never a Playwright download. Without
it the tests skip with a clear reason, except under REQUIRE_SERVICES=1 (CI), where they fail.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
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
ROOT = Path(__file__).resolve().parents[2]
# axe-core from npm (package.json / package-lock.json; `make axe` or `npm ci` installs it).
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING_IMPACTS = frozenset({"serious", "critical"})
_AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ")),
  }));
}"""
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


def _unavailable(reason: str) -> None:
    if os.environ.get("REQUIRE_SERVICES", "") == "1":
        pytest.fail(f"{reason} (REQUIRE_SERVICES=1 is set)")
    pytest.skip(reason)


def _install_axe() -> None:
    """`npm ci` from the lock file when axe-core is not installed yet (a fresh clone)."""
    npm = shutil.which("npm")
    if AXE.exists() or npm is None or not (ROOT / "package-lock.json").exists():
        return
    subprocess.run(  # noqa: S603 - fixed arguments, our own lock file
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=ROOT,
        check=False,
        timeout=300,
    )


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core's browser bundle (installed with `npm ci` when missing)."""
    _install_axe()
    if not AXE.exists():
        _unavailable(f"{AXE} is missing: run `make axe` (npm ci) to install axe-core")
    return AXE.read_text(encoding="utf-8")


def accessibility_violations(page: Any, axe_source: str) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source)  # through DevTools, so the page's CSP does not block it
    violations: list[dict[str, Any]] = page.evaluate(_AXE_RUN)
    return [v for v in violations if v["impact"] in BLOCKING_IMPACTS]


class PageChecker:
    """Every page the suite looks at: a full-page screenshot and an axe-core check."""

    def __init__(self, axe_source: str) -> None:
        self.axe_source = axe_source
        self.checked: list[str] = []

    def __call__(self, page: Any, name: str) -> None:
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        problems = accessibility_violations(page, self.axe_source)
        self.checked.append(name)
        assert problems == [], f"{name} ({page.url}): " + json.dumps(problems, indent=1)


@pytest.fixture
def check_page(axe_source: str) -> PageChecker:
    """Screenshot + accessibility check of the page (call after each navigation)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return PageChecker(axe_source)


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    _unavailable(
        f"{CHROMIUM} is missing: install Debian's browser with `apt-get install -y chromium`"
    )


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

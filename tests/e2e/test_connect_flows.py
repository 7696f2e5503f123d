"""Real browser: an instructor connects in each access mode; an admin runs Enterprise Connect."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.e2e.conftest import ARTIFACTS, RunningApp

pytestmark = pytest.mark.browser

MODES = [
    ("read_write", "google", "Read-write"),
    ("free_busy", "ms_graph", "Free/busy only"),
    ("no_calendar", None, "No calendar access"),
]


def _shot(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _log_in(page: Any, base_url: str, email: str, password: str) -> None:
    page.goto(f"{base_url}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/")


def _log_out(page: Any) -> None:
    page.click("button:has-text('Log out')")
    page.wait_for_url(re.compile(r".*/login$"))


def _consent(page: Any, person: str) -> None:
    """The sandbox's Cronofy consent page: pick the person, press Allow."""
    page.wait_for_url(re.compile(r".*/sandbox/cronofy/.*oauth/authorize.*"))
    page.check(f"input[name=person][value='{person}']")
    page.click("button[value=allow]")


def _connect(page: Any, app: RunningApp, mode: str, provider: str | None, label: str) -> None:
    page.goto(f"{app.base_url}/connect")
    page.check(f"input[name=access_mode][value={mode}]")
    if provider:
        page.check(f"input[name=provider_name][value={provider}]")
    page.click("button:has-text('Connect')")
    _consent(page, "ada@demo.test")
    page.wait_for_url(f"{app.base_url}/calendars")
    assert "Calendar connected" in page.inner_text(".flashes")
    granted = page.locator("#access-mode").inner_text()
    assert granted.strip() == label
    _shot(page, f"instructor-{mode}-calendars")


def _change_write_calendar(page: Any, app: RunningApp) -> None:
    """Pick another writable calendar; the page then shows it as the booking calendar."""
    options = page.locator("#write-calendar option")
    offered = {
        options.nth(i).get_attribute("value"): options.nth(i).inner_text().strip()
        for i in range(options.count())
    }
    current = page.eval_on_selector("#write-calendar", "el => el.value")
    others = [value for value in offered if value != current]
    assert others, f"only one writable calendar offered: {offered}"
    target = others[0]
    page.select_option("#write-calendar", target)
    page.click("button:has-text('Save booking calendar')")
    page.wait_for_selector(".flash-success")
    name = offered[target].split(" (")[0]  # the option reads "name (profile)"
    assert f"New bookings go to “{name}”." in page.inner_text(".flashes")
    page.goto(f"{app.base_url}/calendars")
    assert page.eval_on_selector("#write-calendar", "el => el.value") == target


def _disconnect(page: Any, app: RunningApp, mode: str) -> None:
    page.goto(f"{app.base_url}/calendars/disconnect")
    assert "double bookings are possible" in page.inner_text("main")
    page.click("button:has-text('Disconnect calendar')")
    page.wait_for_url(f"{app.base_url}/calendars")
    assert "Your calendar is disconnected." in page.inner_text(".flashes")
    _shot(page, f"instructor-{mode}-disconnected")


def _enterprise_connect(page: Any, app: RunningApp) -> None:
    page.goto(f"{app.base_url}/enterprise")
    page.check("input[name=access_mode][value=read_write]")
    page.select_option("#provider_name", "google")
    page.click("button:has-text('Connect with Cronofy')")
    _consent(page, "admin@demo.test")
    page.wait_for_url(f"{app.base_url}/enterprise")
    assert "Organisation connected" in page.inner_text(".flashes")
    _shot(page, "admin-enterprise-connected")


def _authorize_two(page: Any, app: RunningApp) -> None:
    page.fill("#emails", "grace@demo.test\nalan@demo.test")
    page.click("button:has-text('Authorize')")
    page.wait_for_url(f"{app.base_url}/enterprise")
    assert "Sent to Cronofy: grace@demo.test, alan@demo.test." in page.inner_text(".flashes")
    for _ in range(100):  # the callbacks arrive within moments; the page has a Refresh link
        rows = page.locator("#authorizations tbody tr")
        statuses = [rows.nth(i).locator("td").nth(1).inner_text() for i in range(rows.count())]
        if statuses == ["connected", "connected"]:
            break
        page.wait_for_timeout(100)
        page.goto(f"{app.base_url}/enterprise")
    assert statuses == ["connected", "connected"]
    _shot(page, "admin-enterprise-authorized")


def test_instructor_and_admin_connect_calendars(browser_page: Any, demo_app: RunningApp) -> None:
    page = browser_page
    _log_in(page, demo_app.base_url, "ada@demo.test", "demo-instructor")
    for mode, provider, label in MODES:
        _connect(page, demo_app, mode, provider, label)
        if mode == "read_write":
            # Linking Ada's Microsoft profile too offers a second writable calendar.
            _connect(page, demo_app, mode, "ms_graph", label)
            _change_write_calendar(page, demo_app)
        _disconnect(page, demo_app, mode)
    _log_out(page)
    _log_in(page, demo_app.base_url, "admin@demo.test", "demo-admin")
    _enterprise_connect(page, demo_app)
    _authorize_two(page, demo_app)

"""Real browser: instructors connect in each mode and switch; an admin runs Enterprise Connect
around an instructor who connected herself; the phone layout. Every page looked at is
screenshotted into tests/e2e/artifacts/ and checked with axe-core (no serious or critical)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.e2e.conftest import PageChecker, RunningApp

pytestmark = pytest.mark.browser

ADA = "ada@demo.test"
MODES = [
    ("read_write", "google", "Read-write"),
    ("free_busy", "ms_graph", "Free/busy only"),
    ("no_calendar", None, "No calendar access"),
]


def _log_in(page: Any, check: PageChecker, base_url: str, email: str, password: str) -> None:
    page.goto(f"{base_url}/login")
    check(page, "login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/")
    check(page, f"dashboard-{email.split('@')[0]}")


def _log_out(page: Any) -> None:
    page.click("button:has-text('Log out')")
    page.wait_for_url(re.compile(r".*/login$"))


def _consent(page: Any, check: PageChecker, person: str, name: str) -> None:
    """The sandbox's Cronofy consent page: pick the person, press Allow."""
    page.wait_for_url(re.compile(r".*/sandbox/cronofy/.*oauth/authorize.*"))
    check(page, f"sandbox-consent-{name}")
    page.check(f"input[name=person][value='{person}']")
    page.click("button[value=allow]")


def _connect(
    page: Any, check: PageChecker, app: RunningApp, mode: str, provider: str | None
) -> None:
    page.goto(f"{app.base_url}/connect")
    check(page, f"connect-form-before-{mode}")
    page.check(f"input[name=access_mode][value={mode}]")
    if provider:
        page.check(f"input[name=provider_name][value={provider}]")
    page.click("button:has-text('Connect')")
    _consent(page, check, ADA, mode)
    page.wait_for_url(f"{app.base_url}/calendars")
    assert "Calendar connected" in page.inner_text(".flashes")


def _listed_calendars(page: Any) -> list[str]:
    """The calendars the page shows, as 'name (provider...)' texts."""
    rows = page.locator("#conflict-calendars label, #cronofy-calendars li")
    return [" ".join(rows.nth(i).inner_text().split()) for i in range(rows.count())]


def test_instructor_connects_switches_and_disconnects(
    browser_page: Any, demo_app: RunningApp, check_page: PageChecker
) -> None:
    page, check = browser_page, check_page
    _log_in(page, check, demo_app.base_url, ADA, "demo-instructor")
    seen: dict[str, list[str]] = {}
    for mode, provider, label in MODES:
        _connect(page, check, demo_app, mode, provider)
        assert page.inner_text("#access-mode").strip() == label
        assert page.inner_text("#connected-by").strip() == "You"
        seen[mode] = _listed_calendars(page)
        check(page, f"instructor-{mode}-calendars")
    assert seen["read_write"]
    assert all("(Google" in c for c in seen["read_write"])
    assert seen["free_busy"]
    assert all("(Microsoft 365" in c for c in seen["free_busy"])  # exactly the new profile's
    assert len(seen["no_calendar"]) == 1
    assert "Cronofy" in seen["no_calendar"][0]
    assert page.locator("input[name=calendar_ids]").count() == 0
    assert page.locator("#write-calendar").count() == 0
    page.goto(f"{demo_app.base_url}/calendars/disconnect")
    check(page, "instructor-disconnect-confirm")
    assert "double bookings are possible" in page.inner_text("main")
    page.click("button:has-text('Disconnect calendar')")
    page.wait_for_url(f"{demo_app.base_url}/calendars")
    assert "Your calendar is disconnected." in page.inner_text(".flashes")
    check(page, "instructor-disconnected")


def test_unticking_every_conflict_calendar_asks_first(
    browser_page: Any, demo_app: RunningApp, check_page: PageChecker
) -> None:
    page, check = browser_page, check_page
    _log_in(page, check, demo_app.base_url, ADA, "demo-instructor")
    _connect(page, check, demo_app, "read_write", "google")
    boxes = page.locator("input[name=calendar_ids]")
    for i in range(boxes.count()):
        boxes.nth(i).uncheck()
    page.click("button:has-text('Save conflict calendars')")
    page.wait_for_selector("text=Check no calendar for conflicts?")
    check(page, "instructor-confirm-no-conflicts")
    assert "double bookings become possible" in page.inner_text("main")
    page.click("button:has-text('Check no calendar')")
    page.wait_for_url(f"{demo_app.base_url}/calendars")
    assert "double bookings are possible" in page.inner_text(".flash-warning")
    check(page, "instructor-no-conflict-calendars")


def _enterprise_connect(page: Any, check: PageChecker, app: RunningApp) -> None:
    page.goto(f"{app.base_url}/enterprise")
    check(page, "admin-enterprise-start")
    page.check("input[name=access_mode][value=read_write]")
    page.select_option("#provider_name", "google")
    page.click("button:has-text('Connect with Cronofy')")
    _consent(page, check, "admin@demo.test", "enterprise")
    page.wait_for_url(f"{app.base_url}/enterprise")
    assert "Organisation connected" in page.inner_text(".flashes")


def _statuses(page: Any) -> dict[str, str]:
    rows = page.locator("#authorizations tbody tr")
    return {
        rows.nth(i).get_attribute("data-email"): rows.nth(i).locator("td").nth(1).inner_text()
        for i in range(rows.count())
    }


def test_enterprise_connect_leaves_an_individual_connection_alone(
    browser_page: Any, demo_app: RunningApp, check_page: PageChecker
) -> None:
    page, check = browser_page, check_page
    base = demo_app.base_url
    _log_in(page, check, base, ADA, "demo-instructor")
    _connect(page, check, demo_app, "read_write", "google")
    _log_out(page)

    _log_in(page, check, base, "admin@demo.test", "demo-admin")
    _enterprise_connect(page, check, demo_app)
    page.fill("#emails", f"{ADA}\ngrace@demo.test\ngrace@demo.test\nnobody@demo.test")
    page.click("button:has-text('Authorize')")
    page.wait_for_url(f"{base}/enterprise")
    results = page.inner_text("#submission-results")
    assert f"Connected individually (not sent; their own connection is kept): {ADA}." in results
    assert "Sent to Cronofy: grace@demo.test." in results
    assert page.locator(".result-info[data-outcome=duplicate]").count() == 1  # not red
    # No reload from here: the table refreshes itself until Cronofy's answer is in.
    page.wait_for_function(
        "() => document.querySelector('#authorizations-section')?.dataset.pending === 'false'"
    )
    assert _statuses(page) == {"grace@demo.test": "connected"}
    assert page.locator("#individual-connections tr[data-email='ada@demo.test']").count() == 1
    check(page, "admin-enterprise-authorized")
    page.reload()
    assert "Connected individually" in page.inner_text("#submission-results")  # kept

    page.goto(f"{base}/enterprise/disconnect")
    check(page, "admin-enterprise-disconnect-confirm")
    assert "1 keeps their own connection" in page.inner_text("main")
    page.click("button:has-text('Disconnect the organisation')")
    page.wait_for_url(f"{base}/enterprise")
    flash = page.inner_text(".flashes")
    assert "1 instructor who connected their own calendar keeps it" in flash
    check(page, "admin-enterprise-disconnected")
    _log_out(page)

    _log_in(page, check, base, ADA, "demo-instructor")
    page.goto(f"{base}/calendars")
    assert page.locator(".status-ok", has_text="Connected").count() == 1
    assert page.inner_text("#connected-by").strip() == "You"
    assert "neither replaces nor removes it" in page.inner_text("#own-connection-note")
    check(page, "instructor-still-connected-after-organisation-disconnect")


def test_connect_page_on_a_phone(
    browser_page: Any, demo_app: RunningApp, check_page: PageChecker
) -> None:
    page, check = browser_page, check_page
    page.set_viewport_size({"width": 390, "height": 844})
    _log_in(page, check, demo_app.base_url, ADA, "demo-instructor")
    page.goto(f"{demo_app.base_url}/connect")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    for label in ("Read-write", "Free/busy only", "No calendar access"):
        cell = page.locator(f"td[data-label='{label}']").first
        box = cell.bounding_box()
        assert box is not None
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= 390  # every column visible without scrolling
    # The whole card is the control; the provider choice is disabled where it does not apply.
    page.click("section.mode-card:has(#mode-no-calendar)", position={"x": 40, "y": 200})
    assert page.is_checked("input[name=access_mode][value=no_calendar]")
    assert page.is_disabled("input[name=provider_name][value=google]")
    page.click("section.mode-card:has(#mode-free-busy)", position={"x": 40, "y": 200})
    assert page.is_checked("input[name=access_mode][value=free_busy]")
    assert page.is_enabled("input[name=provider_name][value=google]")
    check(page, "connect-form-phone")

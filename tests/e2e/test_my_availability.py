"""Real browser: "My availability" for a schedule-only instructor and a connected one.

The embedded demo: Ada is not connected (schedule only); Grace connects her calendar through
the mounted sandbox, which then gets a busy event on her next working Tuesday. Screenshots go
to tests/e2e/artifacts/.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests

from cronofy_sandbox.testing import SandboxControl
from tests.e2e.conftest import ARTIFACTS, RunningApp

pytestmark = pytest.mark.browser

PASSWORD = "demo-instructor"  # noqa: S105 - the published demo login


def _shot(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _log_in(page: Any, base_url: str, email: str) -> None:
    page.goto(f"{base_url}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/")


def _next_monday(zone: str) -> date:
    today = datetime.now(UTC).astimezone(ZoneInfo(zone)).date()
    return today + timedelta(days=7 - today.weekday())


def test_a_schedule_only_instructor_sees_offered_times_and_the_banner(
    demo_app: RunningApp, browser_page: Any
) -> None:
    page = browser_page
    _log_in(page, demo_app.base_url, "ada@demo.test")
    page.click("a:has-text('My availability')")
    page.wait_for_url(re.compile(r".*/availability$"))
    monday = _next_monday("Europe/Berlin")
    page.goto(f"{demo_app.base_url}/availability?week={monday.isoformat()}")
    banner = page.locator(".schedule-only").inner_text()
    assert "Schedule only: calendar not checked (no calendar is connected)" in banner
    offered = page.locator("td.slot-offered")
    assert offered.count() > 10
    # Ada works Mon-Fri 08:00-16:00 in Berlin: Tuesday 08:00 is offered.
    tuesday = (monday + timedelta(days=1)).isoformat()
    assert page.locator(f"td[data-start='{tuesday}T08:00']").count() == 1
    _shot(page, "availability-schedule-only")
    # "Why not?" on an empty time: Sunday is a day off.
    sunday = (monday + timedelta(days=6)).isoformat()
    page.click(f"a[href*='date={sunday}'][href*='time=10:00']")
    page.wait_for_selector("ul.reasons")
    assert page.locator("li[data-code='day_off']").count() == 1
    _shot(page, "availability-why-not-day-off")


def test_a_connected_instructor_loses_the_times_their_calendar_is_busy(
    demo_app: RunningApp, browser_page: Any
) -> None:
    page = browser_page
    _log_in(page, demo_app.base_url, "grace@demo.test")
    page.goto(f"{demo_app.base_url}/connect")
    page.check("input[name=access_mode][value=read_write]")
    page.check("input[name=provider_name][value=google]")
    page.click("button:has-text('Connect')")
    page.wait_for_url(re.compile(r".*/sandbox/cronofy/.*oauth/authorize.*"))
    page.check("input[name=person][value='grace@demo.test']")
    page.click("button[value=allow]")
    page.wait_for_url(f"{demo_app.base_url}/calendars")

    zone = ZoneInfo("America/New_York")
    monday = _next_monday("America/New_York")
    tuesday = monday + timedelta(days=1)
    busy_from = datetime.combine(tuesday, datetime.min.time(), zone) + timedelta(hours=12)
    with requests.Session() as session:
        control = SandboxControl(f"{demo_app.base_url}/sandbox/cronofy", session)
        calendar = control.calendar_id("grace@demo.test")
        control.add_event(calendar, "Dentist Zhivago", busy_from, busy_from + timedelta(hours=2))

    page.goto(f"{demo_app.base_url}/availability?week={monday.isoformat()}")
    assert page.locator(".schedule-only").count() == 0
    day = tuesday.isoformat()
    assert page.locator(f"td[data-start='{day}T10:00']").count() == 1
    for busy in ("12:00", "13:00"):
        assert page.locator(f"td[data-start='{day}T{busy}']").count() == 0
    _shot(page, "availability-connected")
    page.click(f"a[href*='date={day}'][href*='time=12:00']")
    page.wait_for_selector("ul.reasons")
    assert page.locator("li[data-code='calendar_busy']").count() == 1
    assert "Zhivago" not in page.content()
    _shot(page, "availability-why-not-calendar-busy")

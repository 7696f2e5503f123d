"""Real browser: a customer books Ada on her public page, in their own time zone.

The embedded demo (served app, mounted sandbox, demo Bookly). Chromium runs in New York's
zone: the page switches itself to it, the customer picks the first free time and books, the
confirmation shows the same local time, Bookly holds the appointment, and the customer's
invitation is in the sandbox's mailbox. Screenshots go to tests/e2e/artifacts/.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

import pytest
import requests
import sqlalchemy as sa

from tests.e2e.conftest import ARTIFACTS, RunningApp
from webapp.clients import get_clients
from webapp.extensions import db
from webapp.models import Booking, User

pytestmark = pytest.mark.browser

ZONE = "America/New_York"
CUSTOMER = "kim.customer@example.com"


def test_a_customer_books_in_their_own_time_zone(demo_app: RunningApp, browser_page: Any) -> None:
    with demo_app.app.app_context():
        ada = db.session.scalars(sa.select(User).where(User.email == "ada@demo.test")).one()
        ada_id = ada.id
    context = browser_page.context.browser.new_context(timezone_id=ZONE)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(f"{demo_app.base_url}/book/{ada_id}")
    page.wait_for_url(f"**tz={quote(ZONE, safe='')}**")  # switched to the browser's zone
    assert f"({ZONE})" in page.inner_text("legend")
    page.screenshot(path=str(ARTIFACTS / "booking-page-new-york.png"), full_page=True)

    label = page.locator("label:has(input[name=start])").first
    first = label.locator("input")
    chosen = datetime.fromisoformat(first.get_attribute("value") or "")
    shown = label.inner_text().strip()
    assert shown == chosen.astimezone(_zone()).strftime("%a %d %b, %H:%M")
    first.check()
    page.fill("input[name=name]", "Kim Customer")
    page.fill("input[name=email]", CUSTOMER)
    page.click("button:has-text('Book')")
    page.wait_for_url("**/book/confirmed/**")
    assert "You are booked" in page.inner_text("h1")
    assert chosen.astimezone(_zone()).strftime("%H:%M") in page.inner_text("main")
    assert f"({ZONE})" in page.inner_text("main")
    page.screenshot(path=str(ARTIFACTS / "booking-confirmed.png"), full_page=True)
    context.close()

    with demo_app.app.app_context():
        booking = db.session.scalars(sa.select(Booking)).one()
        assert (booking.customer_email, booking.starts_at) == (CUSTOMER, chosen)
        bookly = get_clients().bookly
        assert bookly is not None
        found = bookly.find_booking_by_reference(booking.public_id)
        assert found is not None
        assert found.start == chosen
    mail = requests.get(f"{demo_app.base_url}/sandbox/cronofy/control/mailbox",
                        params={"recipient": CUSTOMER}, timeout=10).json()["messages"]  # fmt: skip
    assert mail, "the customer's invitation is in the mailbox"


def _zone() -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(ZONE)

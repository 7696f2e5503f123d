"""Real browser, each access mode: Ada connects, a customer books her on the public page and
later cancels from the link in their invitation.

The embedded demo (served app, mounted sandbox, demo Bookly on SQLite). Checked after the
booking: Bookly holds the appointment at the site-local time of the chosen slot; the sandbox
shows the event in Ada's write calendar (``read_write``) or Cronofy e-mailed her an
invitation (``free_busy``, ``no_calendar``); the customer's Smart Invite is in the mailbox.
After the customer cancels: the Bookly appointment is cancelled, the event is gone (or Ada got
the cancellation), and the customer got the cancelling invite. Screenshots go to
tests/e2e/artifacts/booking-<mode>-*.png.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
import sqlalchemy as sa

from cronofy_sandbox.testing import SandboxControl
from tests.e2e.conftest import ARTIFACTS, PageChecker, RunningApp
from webapp.clients import get_clients
from webapp.extensions import db
from webapp.models import Booking, CalendarConnection, User

pytestmark = pytest.mark.browser

ADA = "ada@demo.test"
CUSTOMER = "kim.customer@example.com"
SITE = ZoneInfo("Europe/Berlin")  # the demo Bookly site's zone
MODES = [("read_write", "google"), ("free_busy", "google"), ("no_calendar", None)]


def _log_in(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}/login")
    page.fill("input[name=email]", ADA)
    page.fill("input[name=password]", "demo-instructor")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/")


def _connect(page: Any, base_url: str, mode: str, provider: str | None) -> None:
    page.goto(f"{base_url}/connect")
    page.check(f"input[name=access_mode][value={mode}]")
    if provider:
        page.check(f"input[name=provider_name][value={provider}]")
    page.click("button:has-text('Connect')")
    page.wait_for_url(re.compile(r".*/sandbox/cronofy/.*oauth/authorize.*"))
    page.check(f"input[name=person][value='{ADA}']")
    page.click("button[value=allow]")
    page.wait_for_url(f"{base_url}/calendars")


def _shot(page: Any, mode: str, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"booking-{mode}-{name}.png"), full_page=True)


def _ours(control: SandboxControl, calendar: str, booking: str) -> list[dict[str, Any]]:
    return [
        e for e in control.events(calendar)
        if e.get("event_id") == f"bridge-booking-{booking}" and not e.get("deleted")
    ]  # fmt: skip


@pytest.mark.parametrize(("mode", "provider"), MODES)
def test_book_and_cancel_in_each_access_mode(
    demo_app: RunningApp, browser_page: Any, check_page: PageChecker, mode: str,
    provider: str | None,
) -> None:  # fmt: skip
    page, base = browser_page, demo_app.base_url
    _log_in(page, base)
    _connect(page, base, mode, provider)
    page.click("button:has-text('Log out')")
    with demo_app.app.app_context():
        ada = db.session.scalars(sa.select(User).where(User.email == ADA)).one()
        ada_id = ada.id
        calendar = str(db.session.scalar(sa.select(CalendarConnection.write_calendar_id)))

    page.goto(f"{base}/book/{ada_id}?tz=Europe/Berlin")
    first = page.locator("input[name=start]").first
    chosen = datetime.fromisoformat(first.get_attribute("value") or "")
    first.check()
    page.fill("input[name=name]", "Kim Customer")
    page.fill("input[name=email]", CUSTOMER)
    check_page(page, f"booking-{mode}-form")
    page.click("button:has-text('Book')")
    page.wait_for_url("**/book/confirmed/**")
    assert "You are booked" in page.inner_text("h1")
    check_page(page, f"booking-{mode}-confirmed")

    with demo_app.app.app_context():
        booking = db.session.scalars(sa.select(Booking)).one()
        public_id = booking.public_id
        bookly = get_clients().bookly
        assert bookly is not None
        found = bookly.find_booking_by_reference(public_id)
        assert found is not None
        # Bookly stores site-local wall time: the chosen instant as a Berlin clock reads it.
        appointments = sa.Table(f"{bookly.table_prefix}bookly_appointments", sa.MetaData(),
                                autoload_with=bookly.engine)  # fmt: skip
        with bookly.engine.connect() as conn:
            stored = conn.scalar(
                sa.select(appointments.c.start_date).where(
                    appointments.c.id == found.appointment_id
                )
            )
        assert stored == chosen.astimezone(SITE).replace(tzinfo=None)
    with requests.Session() as session:
        control = SandboxControl(f"{base}/sandbox/cronofy", session)
        instructor_mail = [m for m in control.mailbox(ADA) if m["method"] == "REQUEST"]
        if mode == "read_write":
            assert len(_ours(control, calendar, public_id)) == 1
            assert instructor_mail == []
        else:
            assert len(instructor_mail) == 1
        invites = control.mailbox(CUSTOMER)
        assert [m["method"] for m in invites] == ["REQUEST"]
        cancel_link = re.search(r"Cancel: (\S+)", invites[0]["body"])
        assert cancel_link, invites[0]["body"]

        page.goto(cancel_link.group(1))
        check_page(page, f"booking-{mode}-cancel")
        page.click("button:has-text('Cancel this booking')")
        page.wait_for_selector("h1:has-text('Booking cancelled')")
        _shot(page, mode, "cancelled")

        assert _ours(control, calendar, public_id) == []
        if mode != "read_write":
            assert [m["method"] for m in control.mailbox(ADA)] == ["REQUEST", "CANCEL"]
        assert [m["method"] for m in control.mailbox(CUSTOMER)] == ["REQUEST", "CANCEL"]
    with demo_app.app.app_context():
        bookly = get_clients().bookly
        assert bookly is not None
        gone = bookly.appointments_by_id([found.appointment_id]).get(found.appointment_id)
        assert gone is None or not gone.is_busy

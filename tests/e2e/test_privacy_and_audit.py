"""Real browser: an instructor downloads their data and erases their account; the admin reads
what happened on the audit log page (filtered) and downloads it as CSV.

The embedded demo: Grace connects her calendar, exports (a JSON download without tokens),
then erases after confirming her address; afterwards she cannot log in, her connection and
blocks are gone, and the admin's audit page lists the export and the erasure under a
pseudonym. Screenshots go to tests/e2e/artifacts/privacy-*.png.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.e2e.conftest import PageChecker, RunningApp
from webapp.extensions import db
from webapp.models import BusyBlock, CalendarConnection, InboundNotification, User

pytestmark = pytest.mark.browser

GRACE = "grace@demo.test"


def _log_in(page: Any, base_url: str, email: str, password: str) -> None:
    page.goto(f"{base_url}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/")


def test_export_erase_and_the_audit_page(
    demo_app: RunningApp, browser_page: Any, check_page: PageChecker, tmp_path: Path
) -> None:
    page, base = browser_page, demo_app.base_url
    _log_in(page, base, GRACE, "demo-instructor")
    page.goto(f"{base}/connect")
    page.check("input[name=access_mode][value=read_write]")
    page.check("input[name=provider_name][value=google]")
    page.click("button:has-text('Connect')")
    page.wait_for_url(re.compile(r".*/sandbox/cronofy/.*oauth/authorize.*"))
    page.check(f"input[name=person][value='{GRACE}']")
    page.click("button[value=allow]")
    page.wait_for_url(f"{base}/calendars")

    page.goto(f"{base}/profile")
    check_page(page, "privacy-profile")
    with page.expect_download() as download:
        page.click("#export-data")
    saved = tmp_path / "export.json"
    download.value.save_as(saved)
    exported = json.loads(saved.read_text(encoding="utf-8"))
    text = json.dumps(exported)
    assert GRACE in text
    assert not [k for k in _keys(exported) if "token" in k.lower() or "secret" in k.lower()]

    page.click("#erase-account")
    check_page(page, "privacy-erase")
    page.fill("#confirm_email", "someone.else@demo.test")
    page.click("button:has-text('Erase my account')")
    assert "Type your e-mail address exactly" in page.inner_text("#erase-error")
    page.fill("#confirm_email", GRACE)
    page.click("button:has-text('Erase my account')")
    page.wait_for_url(re.compile(r".*/login$"))
    check_page(page, "privacy-erased")
    with demo_app.app.app_context():
        assert db.session.scalars(sa.select(User).where(User.email == GRACE)).first() is None
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CalendarConnection)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(InboundNotification).where(
            InboundNotification.connection_id.isnot(None))) == 0  # fmt: skip
        assert db.session.scalar(sa.select(sa.func.count()).select_from(BusyBlock)) == 0
    page.fill("input[name=email]", GRACE)
    page.fill("input[name=password]", "demo-instructor")
    page.click("button[type=submit]")
    assert page.url.endswith("/login")  # gone

    _log_in(page, base, "admin@demo.test", "demo-admin")
    page.click("a:has-text('Audit log')")
    page.wait_for_url(re.compile(r".*/audit$"))
    check_page(page, "privacy-audit")
    table = page.inner_text("main")
    for action in ("connection.connected", "user.exported", "user.erased"):
        assert action in table, action
    assert GRACE not in table  # the erased person appears under a pseudonym
    page.select_option("#action", "user.erased")
    page.click("button:has-text('Filter')")
    rows = page.locator("tbody tr")
    assert rows.count() == 1
    check_page(page, "privacy-audit-filtered")
    with page.expect_download() as csv_download:
        page.click("a[href*='audit.csv']")
    csv_path = tmp_path / "audit.csv"
    csv_download.value.save_as(csv_path)
    lines = csv_path.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("time_utc,actor,action")
    assert len(lines) == 2
    assert "user.erased" in lines[1]


def _keys(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [str(k) for k in value] + [k for v in value.values() for k in _keys(v)]
    if isinstance(value, list):
        return [k for v in value for k in _keys(v)]
    return []

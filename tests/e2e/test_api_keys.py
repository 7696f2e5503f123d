"""Real browser: an admin creates an API key (shown once), a program uses it, the admin revokes it.

The embedded demo served for real; the program is plain HTTP (requests) against the same
server. Screenshots go to tests/e2e/artifacts/.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.e2e.conftest import ARTIFACTS, RunningApp

pytestmark = pytest.mark.browser

ADMIN_PASSWORD = "demo-admin"  # noqa: S105 - the published demo login
TIMEOUT = 10


def _shot(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _instructors(base_url: str, key: str) -> requests.Response:
    return requests.get(
        f"{base_url}/api/v1/instructors",
        headers={"Authorization": f"Bearer {key}"},
        timeout=TIMEOUT,
    )


def test_an_admin_creates_a_key_sees_it_once_and_revokes_it(
    demo_app: RunningApp, browser_page: Any
) -> None:
    base, page = demo_app.base_url, browser_page
    page.goto(f"{base}/login")
    page.fill("input[name=email]", "admin@demo.test")
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    page.click("nav a:has-text('API keys')")
    page.wait_for_url(f"{base}/api-keys")
    page.fill("#name", "Booking website")
    page.click("button:has-text('Create key')")
    key = page.locator("#new-key-value").inner_text().strip()
    assert key.startswith("bcb_")
    assert "shown this once" in page.locator("#new-key").inner_text()
    _shot(page, "api-keys-created")

    response = _instructors(base, key)
    assert response.status_code == 200
    names = [i["name"] for i in response.json()["instructors"]]
    assert names == ["Ada Lovelace", "Grace Hopper", "Alan Turing"]
    services = requests.get(
        f"{base}/api/v1/services", headers={"Authorization": f"Bearer {key}"}, timeout=TIMEOUT
    )
    assert services.status_code == 200
    assert services.json()["services"]  # the demo Bookly's services, with who offers them

    page.goto(f"{base}/api-keys")
    assert key not in page.content()
    row = page.locator("#api-keys tr", has_text="Booking website")
    assert "active" in row.inner_text()
    row.locator("button:has-text('Revoke')").click()
    page.wait_for_url(f"{base}/api-keys")
    row = page.locator("#api-keys tr", has_text="Booking website")
    assert "revoked" in row.inner_text()
    assert row.locator("button:has-text('Revoke')").count() == 0
    _shot(page, "api-keys-revoked")

    refused = _instructors(base, key)
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "invalid_api_key"

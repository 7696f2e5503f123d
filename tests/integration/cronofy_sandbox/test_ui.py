"""The sandbox UI, mounted under a prefix as the webapp mounts it."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from cronofy_sandbox import SandboxConfig, create_app
from cronofy_sandbox.unsupported import NOT_OFFERED

PREFIX = "/sandbox/cronofy"


@pytest.fixture
def mounted():
    sandbox = create_app(SandboxConfig())
    host = Flask("host")
    host.wsgi_app = DispatcherMiddleware(host.wsgi_app, {PREFIX: sandbox})  # type: ignore[method-assign]
    return host.test_client(), sandbox


def csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def test_person_adds_an_event_and_sees_it(mounted):
    client, _ = mounted
    index = client.get(f"{PREFIX}/").get_data(as_text=True)
    assert "Ada Lovelace" in index
    assert "<script" not in index
    assert f'href="{PREFIX}/static/sandbox.css"' in index
    link = re.search(rf'href="({PREFIX}/calendars/cal_[^"]+)">ada@demo.test', index).group(1)
    page = client.get(link).get_data(as_text=True)
    resp = client.post(
        f"{link}/events",
        data={
            "csrf": csrf(page),
            "summary": "Piano lesson",
            "start": "2031-03-04T09:30",
            "minutes": "45",
        },
    )
    assert resp.status_code == 302
    assert resp.headers["Location"].endswith(link)
    page = client.get(link).get_data(as_text=True)
    assert "Piano lesson" in page
    assert "2031-03-04T09:30:00Z" in page
    assert "2031-03-04T10:15:00Z" in page
    css = client.get(f"{PREFIX}/static/sandbox.css")
    css.close()
    assert css.status_code == 200


def test_forms_without_csrf_token_are_rejected(mounted):
    client, _ = mounted
    client.get(f"{PREFIX}/")
    assert client.post(f"{PREFIX}/faults", data={"status": "500", "count": "1"}).status_code == 400


def test_move_and_delete_external_event(mounted):
    client, sandbox = mounted
    store = sandbox.extensions["cronofy_sandbox"].store
    event = store.one("SELECT * FROM events WHERE managed = 0 LIMIT 1")
    link = f"{PREFIX}/calendars/{event['calendar_id']}"
    token = csrf(client.get(link).get_data(as_text=True))
    client.post(
        f"{PREFIX}/events/{event['event_uid']}/move",
        data={"csrf": token, "start": "2031-05-01T08:00", "minutes": "30", "back": link},
    )
    assert (
        store.one("SELECT start FROM events WHERE id = ?", (event["id"],))["start"]
        == "2031-05-01T08:00:00Z"
    )
    client.post(f"{PREFIX}/events/{event['event_uid']}/delete", data={"csrf": token, "back": link})
    assert store.one("SELECT deleted FROM events WHERE id = ?", (event["id"],))["deleted"] == 1


def test_mailbox_and_faults_pages(mounted):
    client, sandbox = mounted
    assert "No invites yet" in client.get(f"{PREFIX}/mailbox").get_data(as_text=True)
    token = csrf(client.get(f"{PREFIX}/faults").get_data(as_text=True))
    client.post(f"{PREFIX}/faults", data={"csrf": token, "status": "503", "count": "2"})
    assert "503 × 2" in client.get(f"{PREFIX}/faults").get_data(as_text=True)
    assert client.get(f"{PREFIX}/v1/userinfo").status_code == 503


def test_an_armed_fault_can_be_cleared_from_the_ui(mounted):
    client, _ = mounted
    token = csrf(client.get(f"{PREFIX}/faults").get_data(as_text=True))
    client.post(f"{PREFIX}/faults", data={"csrf": token, "status": "503", "count": "5"})
    assert client.get(f"{PREFIX}/v1/userinfo").status_code == 503
    cleared = client.post(
        f"{PREFIX}/faults/clear", data={"csrf": token}, follow_redirects=True
    ).get_data(as_text=True)
    assert "All faults cleared." in cleared
    assert "503 ×" not in cleared
    assert client.get(f"{PREFIX}/v1/userinfo").status_code == 401  # no token, but no fault


def test_session_cookie_does_not_clash_with_the_host(mounted):
    client, _ = mounted
    client.get(f"{PREFIX}/")
    assert (
        client.get_cookie("cronofy_sandbox_session", path=PREFIX) is not None
        or client.get_cookie("cronofy_sandbox_session") is not None
    )
    assert client.get_cookie("session") is None


def test_home_page_says_how_to_point_an_sdk_here_without_the_secret(mounted):
    client, sandbox = mounted
    index = client.get(f"{PREFIX}/").get_data(as_text=True)
    assert "<code>http://localhost/sandbox/cronofy</code>" in index
    assert "<code>sandbox-client</code>" in index
    assert "instance/demo-secrets.json" in index
    assert sandbox.extensions["cronofy_sandbox"].config.signing_secret not in index


def test_home_page_lists_what_is_not_offered_and_those_requests_are_json_404s(mounted):
    client, _ = mounted
    index = client.get(f"{PREFIX}/").get_data(as_text=True)
    for feature, request in NOT_OFFERED:
        assert feature in index
        if request:
            method, path = request.split(" ")
            resp = client.open(f"{PREFIX}{path}", method=method)
            assert (resp.status_code, resp.mimetype) == (404, "application/json"), request

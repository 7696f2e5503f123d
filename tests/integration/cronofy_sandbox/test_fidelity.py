"""Behaviour Cronofy's SDK fixtures show that the sandbox used to get wrong."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import requests

FAR = datetime(2031, 3, 4, 9, 0, tzinfo=UTC)
FAR_END = FAR + timedelta(hours=1)
FAR_END_S = "2031-03-04T13:00:00Z"


def api(sandbox, method, path, token, *, headers_extra=False, **kwargs):
    headers = {"Authorization": f"Bearer {token}"}
    if headers_extra:
        headers["Content-Type"] = "application/json"
    return requests.request(
        method, f"{sandbox.base_url}{path}", headers=headers, timeout=10, **kwargs
    )


def _read(sandbox, token):
    params = {
        "tzid": "Etc/UTC",
        "from": "2031-03-01",
        "to": "2031-03-10",
        "include_managed": "true",
    }
    return api(sandbox, "GET", "/v1/events", token, params=params).json()["events"]


def test_localized_times_carry_each_edges_own_zone_and_offset(sandbox, connect):
    token = connect()["access_token"]
    calendar_id = sandbox.control.calendar_id("ada@demo.test")
    body = {
        "event_id": "flight",
        "summary": "Flight",
        "start": {"time": "2031-09-13T21:00:00Z", "tzid": "Europe/Paris"},
        "end": {"time": "2031-09-14T05:00:00Z", "tzid": "America/New_York"},
    }
    assert api(sandbox, "POST", f"/v1/calendars/{calendar_id}/events", token, json=body).ok
    params = {"tzid": "Etc/UTC", "only_managed": "true", "localized_times": "true"}
    event = api(sandbox, "GET", "/v1/events", token, params=params).json()["events"][0]
    # Cronofy's fixtures: 21:00Z in Europe/Paris reads "2014-09-13T23:00:00+02:00".
    assert event["start"] == {"time": "2031-09-13T23:00:00+02:00", "tzid": "Europe/Paris"}
    assert event["end"] == {"time": "2031-09-14T01:00:00-04:00", "tzid": "America/New_York"}
    plain = api(sandbox, "GET", "/v1/events", token, params={**params, "localized_times": "false"})
    assert plain.json()["events"][0]["start"] == "2031-09-13T21:00:00Z"


def test_localized_times_in_utc_keep_the_z(sandbox, connect):
    token = connect()["access_token"]
    calendar_id = sandbox.control.calendar_id("ada@demo.test")
    body = {
        "event_id": "utc",
        "summary": "UTC",
        "start": "2031-09-13T21:00:00Z",
        "end": "2031-09-13T22:00:00Z",
    }
    assert api(sandbox, "POST", f"/v1/calendars/{calendar_id}/events", token, json=body).ok
    params = {"tzid": "Etc/UTC", "only_managed": "true", "localized_times": "true"}
    event = api(sandbox, "GET", "/v1/events", token, params=params).json()["events"][0]
    assert event["start"] == {"time": "2031-09-13T21:00:00Z", "tzid": "Etc/UTC"}


def _accept_in_browser(url: str, decision: str = "accept") -> str:
    with requests.Session() as browser:
        page = browser.get(url, timeout=10)
        assert page.status_code == 200
        marker = 'name="csrf" value="'
        start = page.text.index(marker) + len(marker)
        csrf = page.text[start : page.text.index('"', start)]
        resp = browser.post(
            url, data={"csrf": csrf, "decision": decision}, timeout=10, allow_redirects=False
        )
    assert resp.status_code == 302
    return str(resp.headers["Location"])


def test_external_events_need_unrestricted_permission(sandbox, connect):
    token = connect()["access_token"]
    calendar_id = sandbox.control.calendar_id("ada@demo.test")
    uid = sandbox.control.add_event(calendar_id, "Gym", FAR, FAR_END)
    edit = {"event_uid": uid, "summary": "Gym", "start": "2031-03-04T12:00:00Z", "end": FAR_END_S}
    path = f"/v1/calendars/{calendar_id}/events"
    assert api(sandbox, "POST", path, token, json=edit).status_code == 403
    assert api(sandbox, "DELETE", path, token, json={"event_uid": uid}).status_code == 403
    event = _read(sandbox, token)[0]
    assert event["options"] == {
        "delete": False,
        "update": False,
        "change_participation_status": False,
    }


def test_granted_permission_lets_the_app_edit_and_delete_the_persons_events(sandbox, connect):
    token = connect()["access_token"]
    calendar_id = sandbox.control.calendar_id("ada@demo.test")
    uid = sandbox.control.add_event(calendar_id, "Gym", FAR, FAR_END)
    body = {
        "permissions": [{"calendar_id": calendar_id, "permission_level": "unrestricted"}],
        "redirect_uri": "https://app.example.test/permission",
    }
    resp = api(sandbox, "POST", "/v1/permissions", token, json=body)
    assert resp.status_code == 200
    assert _accept_in_browser(resp.json()["permissions_request"]["url"]) == body["redirect_uri"]
    calendars = api(sandbox, "GET", "/v1/calendars", token).json()["calendars"]
    assert {c["calendar_id"]: c["permission_level"] for c in calendars}[calendar_id] == (
        "unrestricted"
    )
    assert _read(sandbox, token)[0]["options"]["update"] is True
    path = f"/v1/calendars/{calendar_id}/events"
    edit = {
        "event_uid": uid,
        "summary": "Gym, later",
        "start": "2031-03-04T12:00:00Z",
        "end": "2031-03-04T13:00:00Z",
    }
    assert api(sandbox, "POST", path, token, json=edit).status_code == 202
    assert [(e["summary"], e["start"]) for e in _read(sandbox, token)] == [
        ("Gym, later", "2031-03-04T12:00:00Z")
    ]
    assert api(sandbox, "DELETE", path, token, json={"event_uid": uid}).status_code == 202
    assert _read(sandbox, token) == []


def test_rejected_permission_changes_nothing(sandbox, connect):
    token = connect()["access_token"]
    calendar_id = sandbox.control.calendar_id("ada@demo.test")
    body = {
        "permissions": [{"calendar_id": calendar_id, "permission_level": "unrestricted"}],
        "redirect_uri": "https://app.example.test/permission",
    }
    url = api(sandbox, "POST", "/v1/permissions", token, json=body).json()["permissions_request"][
        "url"
    ]
    _accept_in_browser(url, decision="reject")
    calendars = api(sandbox, "GET", "/v1/calendars", token).json()["calendars"]
    assert {c["permission_level"] for c in calendars} == {"sandbox"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"permissions": [], "redirect_uri": "https://a.test/p"}, "permissions"),
        (
            {"permissions": [{"calendar_id": "cal_nope", "permission_level": "unrestricted"}]},
            "permissions",
        ),
        ({"permissions": [{"calendar_id": "CAL", "permission_level": "admin"}]}, "permissions"),
        (
            {"permissions": [{"calendar_id": "CAL", "permission_level": "unrestricted"}]},
            "redirect_uri",
        ),
    ],
)
def test_bad_permission_requests_are_422(sandbox, connect, body, field):
    token = connect()["access_token"]
    calendar_id = sandbox.control.calendar_id("ada@demo.test")
    text = json.dumps(body).replace("CAL", calendar_id)
    resp = api(sandbox, "POST", "/v1/permissions", token, data=text, headers_extra=True)
    assert resp.status_code == 422
    assert field in resp.json()["errors"]

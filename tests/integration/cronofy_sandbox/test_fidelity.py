"""Behaviour Cronofy's SDK fixtures show that the sandbox used to get wrong."""

from __future__ import annotations

import requests


def api(sandbox, method, path, token, **kwargs):
    return requests.request(
        method,
        f"{sandbox.base_url}{path}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
        **kwargs,
    )


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

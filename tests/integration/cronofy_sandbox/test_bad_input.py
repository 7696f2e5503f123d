"""Bad input gets a Cronofy-shaped 4xx in JSON, never a 500, and never poisons later reads."""

from __future__ import annotations

import pytest
import requests

SECRET_HEADER = {"Authorization": "Bearer CRN_sandbox_secret"}
EVENT = {
    "event_id": "b1",
    "summary": "Lesson",
    "start": "2031-03-04T09:00:00Z",
    "end": "2031-03-04T10:00:00Z",
}
INVITE = {
    "smart_invite_id": "inv-1",
    "recipient": {"email": "guest@example.net"},
    "event": {"summary": "Viewing", "start": "2031-03-04T09:30:00Z", "end": "2031-03-04T10:00:00Z"},
    "organizer": {"name": "Acme", "email": "bookings@acme.example"},
}


def _availability(sub: str, **changes: object) -> dict[str, object]:
    return {
        "participants": [{"members": [{"sub": sub}]}],
        "required_duration": {"minutes": 30},
        "query_periods": [{"start": "2031-03-04T09:00:00Z", "end": "2031-03-04T12:00:00Z"}],
        **changes,
    }


@pytest.fixture
def ada(sandbox, connect):
    """Ada connected read-write: her token, sub and primary calendar."""
    grant = connect()
    return {
        "headers": {"Authorization": f"Bearer {grant['access_token']}"},
        "sub": grant["sub"],
        "calendar_id": sandbox.control.calendar_id("ada@demo.test"),
    }


def _send(sandbox, ada, method, path, body=None, *, raw=None, api_key=False):
    headers = dict(SECRET_HEADER if api_key else ada["headers"])
    if raw is not None:
        headers["Content-Type"] = "application/json"
    return requests.request(
        method,
        f"{sandbox.base_url}{path.format(cal=ada['calendar_id'])}",
        json=body,
        data=raw,
        headers=headers,
        timeout=30,
    )


def _fields(resp) -> set[str]:
    assert resp.headers["Content-Type"].startswith("application/json"), resp.text[:200]
    return set(resp.json()["errors"])


# Each former 500: (method, path, body, api key?, the field the 422 names).
SHAPES = {
    "array body on create calendar": ("POST", "/v1/calendars", [1, 2], False, "body"),
    "array body on smart invite": ("POST", "/v1/smart_invites", [{"a": 1}], True, "body"),
    "attendees as a list": (
        "POST",
        "/v1/calendars/{cal}/events",
        {**EVENT, "attendees": [{"email": "kim@example.org"}]},
        False,
        "attendees",
    ),
    "attendees as a string": (
        "POST",
        "/v1/calendars/{cal}/events",
        {**EVENT, "attendees": "kim@example.org"},
        False,
        "attendees",
    ),
    "channel filters as a string": (
        "POST",
        "/v1/channels",
        {"callback_url": "http://127.0.0.1:9/push", "filters": "x"},
        False,
        "filters",
    ),
    "availability buffer as a string": ("POST", "/v1/availability", "buffer", True, "buffer"),
    "smart invite organizer as a string": (
        "POST",
        "/v1/smart_invites",
        {**INVITE, "organizer": "x"},
        True,
        "organizer",
    ),
    "start in year 1 east of UTC": (
        "POST",
        "/v1/calendars/{cal}/events",
        {**EVENT, "start": "0001-01-01T00:00:00+05:00"},
        False,
        "start",
    ),
    "end in year 9999 west of UTC": (
        "POST",
        "/v1/calendars/{cal}/events",
        {**EVENT, "end": "9999-12-31T22:00:00-05:00"},
        False,
        "end",
    ),
    "all-day event in year 1": (
        "POST",
        "/v1/calendars/{cal}/events",
        {**EVENT, "start": "0001-01-01", "end": "0001-01-02"},
        False,
        "start",
    ),
    "availability period in year 1": (
        "POST",
        "/v1/availability",
        "year1",
        True,
        "query_periods",
    ),
    "required_duration of 1e18 minutes": (
        "POST",
        "/v1/availability",
        "huge",
        True,
        "required_duration",
    ),
}


@pytest.mark.parametrize(
    ("method", "path", "body", "api_key", "field"), SHAPES.values(), ids=SHAPES
)
def test_former_500_is_a_422_naming_the_field(sandbox, ada, method, path, body, api_key, field):
    if path == "/v1/availability":
        changes = {
            "buffer": {"buffer": "x"},
            "year1": {
                "query_periods": [
                    {"start": "0001-01-01T00:00:00+05:00", "end": "0001-01-01T10:00:00+05:00"}
                ]
            },
            "huge": {"required_duration": {"minutes": 10**18}},
        }[body]
        body = _availability(ada["sub"], **changes)
    resp = _send(sandbox, ada, method, path, body, api_key=api_key)
    assert resp.status_code == 422, resp.text[:300]
    assert field in _fields(resp)


def test_read_events_from_year_1_in_tokyo_is_a_422(sandbox, ada):
    resp = _send(sandbox, ada, "GET", "/v1/events?tzid=Asia/Tokyo&from=0001-01-01")
    assert (resp.status_code, _fields(resp)) == (422, {"from"})


@pytest.mark.parametrize("minutes", [10**18, 1e18, -5, "30"])
def test_absurd_durations_are_refused(sandbox, ada, minutes):
    body = _availability(ada["sub"], required_duration={"minutes": minutes})
    resp = _send(sandbox, ada, "POST", "/v1/availability", body, api_key=True)
    assert (resp.status_code, _fields(resp)) == (422, {"required_duration"})


@pytest.mark.parametrize(
    "path", ["/v1/calendars", "/v1/calendars/{cal}/events", "/v1/channels", "/oauth/token"]
)
def test_deeply_nested_json_is_refused_without_a_500(sandbox, ada, path):
    resp = _send(sandbox, ada, "POST", path, raw="[" * 200_000)
    assert resp.status_code in (400, 422), resp.text[:200]
    assert resp.headers["Content-Type"].startswith("application/json")


def test_json_nested_past_the_limit_is_refused(sandbox, ada):
    nested: object = "deep"
    for _ in range(40):
        nested = {"description": nested}
    resp = _send(sandbox, ada, "POST", "/v1/calendars/{cal}/events", {**EVENT, "location": nested})
    assert (resp.status_code, _fields(resp)) == (422, {"body"})


def test_a_30_mb_body_is_413_before_parsing(sandbox, ada):
    body = b'{"event_id": "b1", "summary": "' + b"x" * (30 * 1024 * 1024) + b'"}'
    resp = _send(sandbox, ada, "POST", "/v1/calendars/{cal}/events", raw=body)
    assert resp.status_code == 413
    assert resp.json()["error"] == "request_entity_too_large"


def test_a_string_location_is_refused_not_stored(sandbox, ada):
    resp = _send(sandbox, ada, "POST", "/v1/calendars/{cal}/events", {**EVENT, "location": "Hall"})
    assert (resp.status_code, _fields(resp)) == (422, {"location"})
    assert all(e["event_id"] != "b1" for e in sandbox.control.events(ada["calendar_id"]))


def test_attendees_given_as_strings_are_refused_not_dropped(sandbox, ada):
    body = {**EVENT, "attendees": {"invite": ["kim@example.org"]}}
    resp = _send(sandbox, ada, "POST", "/v1/calendars/{cal}/events", body)
    assert (resp.status_code, _fields(resp)) == (422, {"attendees.invite"})


def test_attendees_invited_and_removed_read_back(sandbox, ada):
    body = {
        **EVENT,
        "attendees": {
            "invite": [
                {"email": "kim@example.org", "display_name": "Kim"},
                {"email": "lee@x.test"},
            ],
            "remove": [{"email": "LEE@x.test"}],
        },
    }
    assert _send(sandbox, ada, "POST", "/v1/calendars/{cal}/events", body).status_code == 202
    events = _send(
        sandbox,
        ada,
        "GET",
        "/v1/events?tzid=Etc/UTC&only_managed=true&from=2031-03-01&to=2031-03-10",
    ).json()["events"]
    assert [(a["email"], a["display_name"]) for a in events[0]["attendees"]] == [
        ("kim@example.org", "Kim")
    ]


def test_read_events_with_from_after_to_is_a_422(sandbox, ada):
    resp = _send(sandbox, ada, "GET", "/v1/events?tzid=Etc/UTC&from=2031-03-05&to=2031-03-01")
    assert (resp.status_code, _fields(resp)) == (422, {"to"})


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/v1/nope", 404),
        ("GET", "/oauth/token/nope", 404),
        ("PUT", "/v1/events", 405),
        ("GET", "/oauth/token", 405),
        ("DELETE", "/v1/calendars//events", 404),
        ("PUT", "/oauth/authorize", 405),
        ("GET", "/oauth/nope", 404),
    ],
)
def test_unknown_routes_and_methods_answer_json(sandbox, ada, method, path, status):
    resp = _send(sandbox, ada, method, path)
    assert resp.status_code == status
    assert resp.headers["Content-Type"].startswith("application/json")
    assert resp.json()["error"] in ("not_found", "method_not_allowed")


def test_bodiless_answers_are_not_labelled_html(sandbox, ada):
    accepted = _send(sandbox, ada, "POST", "/v1/calendars/{cal}/events", EVENT)
    unauthorized = requests.get(f"{sandbox.base_url}/v1/calendars", timeout=5)
    # An account token where a service account's is needed.
    forbidden = _send(sandbox, ada, "POST", "/v1/service_account_authorizations", {})
    for resp, status in ((accepted, 202), (unauthorized, 401), (forbidden, 403)):
        assert (resp.status_code, resp.content) == (status, b"")
        assert resp.headers["Content-Type"].startswith("application/json")


@pytest.mark.parametrize(
    ("event_changes", "field"),
    [
        ({"tzid": "Mars/Olympus_Mons"}, "event.tzid"),
        ({"start": "2031-03-04T10:00:00Z", "end": "2031-03-04T09:00:00Z"}, "event.end"),
        ({"location": "12 High St"}, "event.location"),
        ({"summary": {"text": "Viewing"}}, "event.summary"),
    ],
    ids=["unknown tzid", "end before start", "string location", "summary object"],
)
def test_smart_invite_with_a_bad_event_is_a_422(sandbox, ada, event_changes, field):
    body = {**INVITE, "event": {**INVITE["event"], **event_changes}}
    resp = _send(sandbox, ada, "POST", "/v1/smart_invites", body, api_key=True)
    assert (resp.status_code, _fields(resp)) == (422, {field})


def test_cancelling_a_smart_invite_keeps_the_recipients_reply_status(sandbox, ada):
    created = _send(sandbox, ada, "POST", "/v1/smart_invites", INVITE, api_key=True)
    assert created.json()["recipient"]["status"] == "pending"
    cancel = {"method": "cancel", "smart_invite_id": "inv-1", "recipient": INVITE["recipient"]}
    cancelled = _send(sandbox, ada, "POST", "/v1/smart_invites", cancel, api_key=True)
    assert cancelled.json()["recipient"] == {"email": "guest@example.net", "status": "pending"}
    assert "METHOD:CANCEL" in cancelled.json()["attachments"]["icalendar"]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/control/people", {"email": "x@demo.test", "name": "X", "tzid": "Nowhere/City"}, "tzid"),
        ("/control/events", {"calendar_id": "c", "events": True}, "events"),
        (
            "/control/events",
            {"events": [{"start": "2031-03-04T10:00:00Z", "end": "2031-03-04T09:00:00Z"}]},
            "end",
        ),
        ("/control/faults", {"status": 500, "count": "lots"}, "count"),
    ],
)
def test_control_api_bad_input_is_a_422(sandbox, path, body, field):
    resp = requests.post(f"{sandbox.base_url}{path}", json=body, timeout=5)
    assert (resp.status_code, _fields(resp)) == (422, {field})


@pytest.mark.parametrize("path", ["/oauth/authorize", "/enterprise_connect/oauth/authorize"])
def test_consent_page_with_an_unparsable_redirect_uri_is_a_400(sandbox, path):
    query = {"client_id": sandbox.client_id, "redirect_uri": "http://[", "response_type": "code"}
    resp = requests.get(f"{sandbox.base_url}{path}", params=query, timeout=5)
    assert resp.status_code == 400
    assert "redirect_uri must be an absolute http(s) URL" in resp.text


@pytest.mark.parametrize("callback_url", ["not a url", {"url": "http://x.test"}, "ftp://x.test/cb"])
def test_smart_invite_with_a_bad_callback_url_is_a_422(sandbox, ada, callback_url):
    body = {**INVITE, "callback_url": callback_url}
    resp = _send(sandbox, ada, "POST", "/v1/smart_invites", body, api_key=True)
    assert (resp.status_code, _fields(resp)) == (422, {"callback_url"})

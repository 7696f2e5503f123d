"""Every documented response shape: keys and JSON types, error bodies included."""

from __future__ import annotations

import pytest
import requests

from cronofy_sandbox import SandboxConfig

REDIRECT_URI = "http://127.0.0.1:9/callback"
S, INT, B = str, int, bool


def shape(value):
    """Replace every leaf by its type, recursively (lists: the first element's shape)."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value)


def api(sandbox, method, path, token=None, **kwargs):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.request(
        method, f"{sandbox.base_url}{path}", headers=headers, timeout=5, **kwargs
    )


CALENDAR = {
    "provider_name": S,
    "profile_id": S,
    "profile_name": S,
    "calendar_id": S,
    "calendar_name": S,
    "calendar_readonly": B,
    "calendar_deleted": B,
    "calendar_primary": B,
    "calendar_integrated_conferencing_available": B,
    "calendar_attachments_available": B,
    "permission_level": S,
}
LINKING = {"provider_name": S, "provider_service": S, "profile_id": S, "profile_name": S}


def test_token_response_shape(connect):
    assert shape(connect()) == {
        "token_type": S,
        "access_token": S,
        "expires_in": INT,
        "refresh_token": S,
        "scope": S,
        "account_id": S,
        "sub": S,
        "linking_profile": LINKING,
    }


def test_token_response_headers_forbid_caching(sandbox, get_code):
    resp = api(
        sandbox,
        "POST",
        "/oauth/token",
        data={
            "client_id": sandbox.client_id,
            "client_secret": sandbox.client_secret,
            "grant_type": "authorization_code",
            "code": get_code(),
            "redirect_uri": REDIRECT_URI,
        },
    )
    assert resp.status_code == 200
    assert resp.headers["Cache-Control"] == "no-store"
    assert resp.headers["Pragma"] == "no-cache"


def test_refresh_response_shape(sandbox, connect):
    grant = connect()
    resp = api(
        sandbox,
        "POST",
        "/oauth/token",
        json={
            "client_id": sandbox.client_id,
            "client_secret": sandbox.client_secret,
            "grant_type": "refresh_token",
            "refresh_token": grant["refresh_token"],
        },
    )
    assert shape(resp.json()) == {
        "token_type": S,
        "access_token": S,
        "expires_in": INT,
        "refresh_token": S,
        "scope": S,
    }


@pytest.mark.parametrize("mutation", ["wrong_redirect", "reused", "unknown"])
def test_invalid_grant_body(sandbox, get_code, mutation):
    code = get_code()
    body = {
        "client_id": sandbox.client_id,
        "client_secret": sandbox.client_secret,
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
    }
    if mutation == "wrong_redirect":
        body["redirect_uri"] = REDIRECT_URI + "/"
    elif mutation == "reused":
        assert api(sandbox, "POST", "/oauth/token", json=body).status_code == 200
    else:
        body["code"] = "x" * 32
    resp = api(sandbox, "POST", "/oauth/token", json=body)
    assert (resp.status_code, resp.json()) == (400, {"error": "invalid_grant"})


def test_bad_client_credentials_are_401(sandbox, get_code):
    resp = api(
        sandbox,
        "POST",
        "/oauth/token",
        json={
            "client_id": sandbox.client_id,
            "client_secret": "CRN_wrong",
            "grant_type": "authorization_code",
            "code": get_code(),
            "redirect_uri": REDIRECT_URI,
        },
    )
    assert (resp.status_code, resp.json()) == (401, {"error": "invalid_client"})


def test_revoke_is_200_even_for_unknown_tokens_and_kills_the_grant(sandbox, connect):
    grant = connect()
    creds = {"client_id": sandbox.client_id, "client_secret": sandbox.client_secret}
    assert (
        api(sandbox, "POST", "/oauth/token/revoke", json={**creds, "token": "nope"}).status_code
        == 200
    )
    resp = api(
        sandbox, "POST", "/oauth/token/revoke", data={**creds, "token": grant["refresh_token"]}
    )
    assert (resp.status_code, resp.content) == (200, b"")
    assert api(sandbox, "GET", "/v1/userinfo", grant["access_token"]).status_code == 401


@pytest.mark.parametrize(
    "identifier",
    [{}, {"refresh_token": "use-grant"}, {"token": ""}, {"token": ["x"]}, {"sub": 5}],
    ids=["credentials only", "refresh_token instead of token", "empty", "list", "sub number"],
)
def test_revoke_without_token_is_invalid_request_and_revokes_nothing(sandbox, connect, identifier):
    grant = connect()
    creds = {"client_id": sandbox.client_id, "client_secret": sandbox.client_secret}
    if identifier.get("refresh_token") == "use-grant":
        identifier = {"refresh_token": grant["refresh_token"]}
    resp = api(sandbox, "POST", "/oauth/token/revoke", json={**creds, **identifier})
    assert (resp.status_code, resp.json()) == (400, {"error": "invalid_request"})
    assert api(sandbox, "GET", "/v1/userinfo", grant["access_token"]).status_code == 200


def test_revoke_by_sub_kills_every_grant_of_the_account(sandbox, connect):
    grant = connect()
    creds = {"client_id": sandbox.client_id, "client_secret": sandbox.client_secret}
    resp = api(sandbox, "POST", "/oauth/token/revoke", json={**creds, "sub": grant["sub"]})
    assert resp.status_code == 200
    assert api(sandbox, "GET", "/v1/userinfo", grant["access_token"]).status_code == 401


def test_userinfo_shape(sandbox, connect):
    body = api(sandbox, "GET", "/v1/userinfo", connect()["access_token"]).json()
    profile = body["cronofy.data"]["profiles"][0]
    assert shape(body) == {
        "sub": S,
        "email": S,
        "name": S,
        "zoneinfo": S,
        "cronofy.type": S,
        "cronofy.data": {"authorization": {"scope": S, "status": S}, "profiles": [shape(profile)]},
    }
    assert shape(profile) == {
        **LINKING,
        "profile_connected": B,
        "profile_initial_sync_required": B,
        "profile_calendars": [
            {k: v for k, v in CALENDAR.items() if k.startswith(("calendar_", "perm"))}
        ],
    }


def test_account_profiles_calendars_shapes(sandbox, connect):
    token = connect()["access_token"]
    assert shape(api(sandbox, "GET", "/v1/account", token).json()) == {
        "account": {"account_id": S, "email": S, "name": S, "scope": S, "default_tzid": S}
    }
    assert shape(api(sandbox, "GET", "/v1/profiles", token).json()) == {
        "profiles": [
            {
                "provider_name": S,
                "provider_service": S,
                "profile_id": S,
                "profile_name": S,
                "profile_connected": B,
            }
        ]
    }
    assert shape(api(sandbox, "GET", "/v1/calendars", token).json()) == {
        "sub": S,
        "calendars": [CALENDAR],
    }


def test_create_calendar_shape_and_duplicate_422(sandbox, connect):
    grant = connect()
    body = {"profile_id": grant["linking_profile"]["profile_id"], "name": "Bookings"}
    created = api(sandbox, "POST", "/v1/calendars", grant["access_token"], json=body)
    assert shape(created.json()) == {"calendar": CALENDAR}
    dup = api(sandbox, "POST", "/v1/calendars", grant["access_token"], json=body)
    assert dup.status_code == 422
    assert dup.json()["errors"]["name"][0]["key"] == "errors.duplicate_calendar_name"
    assert shape(dup.json()) == {"errors": {"name": [{"key": S, "description": S}]}}


def test_read_events_shape(sandbox, connect):
    token = connect()["access_token"]
    body = api(sandbox, "GET", "/v1/events", token, params={"tzid": "Etc/UTC"}).json()
    assert shape(body["pages"]) == {"current": INT, "total": INT}
    assert shape(body["events"][0]) == {
        "calendar_id": S,
        "event_uid": S,
        "summary": S,
        "description": S,
        "start": S,
        "end": S,
        "deleted": B,
        "created": S,
        "updated": S,
        "participation_status": S,
        "attendees": [],
        "organizer": {"email": S, "display_name": S},
        "transparency": S,
        "status": S,
        "categories": [],
        "recurring": B,
        "event_private": B,
        "options": {"delete": B, "update": B, "change_participation_status": B},
    }


def test_free_busy_shape(sandbox, connect):
    body = api(
        sandbox, "GET", "/v1/free_busy", connect()["access_token"], params={"tzid": "Etc/UTC"}
    ).json()
    assert shape(body) == {
        "pages": {"current": INT, "total": INT},
        "free_busy": [{"calendar_id": S, "start": S, "end": S, "free_busy_status": S}],
    }


def test_missing_tzid_is_422_per_field(sandbox, connect):
    resp = api(
        sandbox, "GET", "/v1/events", connect()["access_token"], params={"include_managed": "yes"}
    )
    assert resp.status_code == 422
    assert set(resp.json()["errors"]) == {"tzid", "include_managed"}
    assert resp.json()["errors"]["tzid"] == [
        {"key": "errors.required", "description": "tzid must be specified"}
    ]


def test_upsert_validation_422_lists_every_field(sandbox, connect):
    calendar_id = sandbox.control.calendar_id("ada@demo.test")
    resp = api(
        sandbox,
        "POST",
        f"/v1/calendars/{calendar_id}/events",
        connect()["access_token"],
        json={"start": "2031-03-04T10:00:00Z", "end": "2031-03-04T09:00:00Z"},
    )
    assert resp.status_code == 422
    assert set(resp.json()["errors"]) == {"event_id", "summary", "end"}


@pytest.mark.parametrize("token", [None, "x" * 32])
def test_401_for_missing_or_unknown_token(sandbox, token):
    resp = api(sandbox, "GET", "/v1/calendars", token)
    assert (resp.status_code, resp.content) == (401, b"")
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")


def test_expired_access_token_is_401_until_refreshed(sandbox, connect):
    grant = connect()
    sandbox.control.expire_access_tokens(grant["sub"])
    assert api(sandbox, "GET", "/v1/userinfo", grant["access_token"]).status_code == 401


def test_403_for_missing_scope(sandbox, connect):
    token = connect(scope="read_account")["access_token"]
    resp = api(sandbox, "GET", "/v1/calendars", token)
    assert resp.status_code == 403
    assert 'scope="list_calendars"' in resp.headers["WWW-Authenticate"]


def test_404_for_unknown_calendar_and_stale_page(sandbox, connect):
    token = connect()["access_token"]
    assert api(sandbox, "POST", "/v1/calendars/cal_nope/events", token, json={}).status_code == 404
    assert api(sandbox, "GET", "/v1/events/pages/nope", token).status_code == 404


@pytest.mark.parametrize(
    ("path", "key"), [("/v1/events", "events"), ("/v1/free_busy", "free_busy")]
)
def test_next_page_links_stay_on_their_own_endpoint(sandbox, connect, path, key):
    from datetime import UTC, datetime, timedelta

    token = connect()["access_token"]
    calendar_id = sandbox.control.calendar_id("ada@demo.test")
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    page_size = 250  # the sandbox's default, as Cronofy's
    events = [
        {
            "summary": "Busy",
            "start": start + timedelta(hours=i),
            "end": start + timedelta(hours=i, minutes=30),
        }
        for i in range(page_size + 1)
    ]
    sandbox.control.add_events(calendar_id, events, notify=False)
    first = api(sandbox, "GET", path, token, params={"tzid": "Etc/UTC"}).json()
    next_page = first["pages"]["next_page"]
    assert f"{path}/pages/" in next_page
    second = requests.get(next_page, headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert second.status_code == 200
    assert second.json()["pages"]["current"] == 2
    other = "/v1/free_busy" if key == "events" else "/v1/events"
    crossed = next_page.replace(f"{path}/pages/", f"{other}/pages/")
    wrong = requests.get(crossed, headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert wrong.status_code == 404


def test_control_refuses_a_second_person_with_the_same_email(sandbox):
    resp = requests.post(
        f"{sandbox.base_url}/control/people",
        json={"email": "ada@demo.test", "name": "Ada Again"},
        timeout=5,
    )
    assert resp.status_code == 422
    assert resp.json()["errors"]["email"][0]["key"] == "errors.taken"


def test_429_fault_has_retry_after(sandbox, connect):
    token = connect()["access_token"]
    sandbox.control.fail_next(429, 2)
    first = api(sandbox, "GET", "/v1/calendars", token)
    assert (first.status_code, first.headers["Retry-After"]) == (429, "1")
    assert api(sandbox, "GET", "/v1/calendars", token).status_code == 429
    assert api(sandbox, "GET", "/v1/calendars", token).status_code == 200


@pytest.mark.parametrize("status", [500, 503])
def test_server_error_faults(sandbox, connect, status):
    token = connect()["access_token"]
    sandbox.control.fail_next(status)
    assert api(sandbox, "GET", "/v1/userinfo", token).status_code == status


def test_availability_shapes(sandbox, connect):
    grant = connect()
    body = {
        "participants": [{"members": [{"sub": grant["sub"]}], "required": "all"}],
        "required_duration": {"minutes": 30},
        "query_periods": [{"start": "2031-03-04T09:00:00Z", "end": "2031-03-04T10:00:00Z"}],
    }
    periods = api(sandbox, "POST", "/v1/availability", sandbox.client_secret, json=body).json()
    assert shape(periods) == {
        "available_periods": [{"start": S, "end": S, "participants": [{"sub": S}]}]
    }
    slots = api(
        sandbox,
        "POST",
        "/v1/availability",
        sandbox.client_secret,
        json={**body, "response_format": "slots"},
    ).json()
    assert shape(slots) == {
        "available_slots": [{"start": S, "end": S, "participants": [{"sub": S}]}]
    }
    bad = api(
        sandbox,
        "POST",
        "/v1/availability",
        sandbox.client_secret,
        json={**body, "required_duration": {"minutes": 0}},
    )
    assert bad.status_code == 422
    assert "required_duration" in bad.json()["errors"]


def test_channel_shapes(sandbox, connect, receiver):
    token = connect()["access_token"]
    created = api(
        sandbox, "POST", "/v1/channels", token, json={"callback_url": f"{receiver.url}/p"}
    )
    # The documented example lists "only_managed": false; calendar_ids only when filtering.
    channel = {"channel_id": S, "callback_url": S, "filters": {"only_managed": B}}
    assert shape(created.json()) == {"channel": channel}
    assert created.json()["channel"]["filters"] == {"only_managed": False}
    listed = api(sandbox, "GET", "/v1/channels", token).json()
    assert shape(listed) == {"channels": [channel]}
    closed = api(
        sandbox, "DELETE", f"/v1/channels/{created.json()['channel']['channel_id']}", token
    )
    assert closed.status_code == 202
    verification = receiver.next_of("verification").json()
    assert verification["channel"]["filters"] == {"only_managed": False}


def test_smart_invite_shape_and_api_key_required(sandbox):
    body = {
        "smart_invite_id": "inv-9",
        "recipient": {"email": "g@example.test"},
        "event": {"summary": "S", "start": "2031-03-04T09:00:00Z", "end": "2031-03-04T10:00:00Z"},
    }
    assert api(sandbox, "POST", "/v1/smart_invites", "not-the-key", json=body).status_code == 401
    resp = api(sandbox, "POST", "/v1/smart_invites", sandbox.client_secret, json=body)
    assert shape(resp.json()) == {
        "recipient": {"email": S, "status": S},
        "smart_invite_id": S,
        "callback_url": type(None),
        "event": {
            "summary": S,
            "description": S,
            "start": {"time": S, "tzid": S},
            "end": {"time": S, "tzid": S},
        },
        "attachments": {"icalendar": S},
    }


@pytest.mark.parametrize(
    ("mode", "provider", "reported_provider"),
    [
        ("free_busy", "ms_graph", "ms_graph_free_busy"),
        ("read_write", "google", "google"),
        ("no_calendar", None, "cronofy"),
    ],
)
def test_service_account_token_shape(sandbox, pyclient, mode, provider, reported_provider):
    from urllib.parse import urlencode

    from cronofy_sandbox.testing import click_through_consent

    params = {
        "response_type": "code",
        "client_id": sandbox.client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": "service_account/accounts/manage",
        "delegated_scope": "free_busy_write",
        "access_mode": mode,
        "state": "s",
    }
    if provider:
        params["provider_name"] = provider
    query = urlencode(params)
    with requests.Session() as session:
        location = click_through_consent(
            session,
            f"{sandbox.base_url}/enterprise_connect/oauth/authorize?{query}",
            person="admin@demo.test",
        )
    body = api(
        sandbox,
        "POST",
        "/oauth/token",
        json={
            "client_id": sandbox.client_id,
            "client_secret": sandbox.client_secret,
            "grant_type": "authorization_code",
            "code": location.split("code=")[1].split("&")[0],
            "redirect_uri": REDIRECT_URI,
        },
    ).json()
    assert shape(body) == {
        "token_type": S,
        "access_token": S,
        "expires_in": INT,
        "refresh_token": S,
        "scope": S,
        "service_account_id": S,
        "sub": S,
    }
    assert body["expires_in"] == 1800
    assert body["sub"].startswith("ser_")
    info = api(sandbox, "GET", "/v1/userinfo", body["access_token"]).json()
    assert info["cronofy.type"] == "service_account"
    assert info["cronofy.data"]["service_account"] == {
        "provider_name": reported_provider,
        "domain": "demo.test",
    }


class TestRateLimits:
    @pytest.fixture
    def sandbox_config(self):
        return SandboxConfig(enforce_rate_limits=True, per_second_limit=5, per_minute_limit=8)

    def test_limits_return_429(self, sandbox, connect):
        token = connect()["access_token"]  # the code exchange counts too
        statuses = [api(sandbox, "GET", "/v1/userinfo", token).status_code for _ in range(9)]
        assert statuses.count(429) >= 4
        assert 200 in statuses
        sandbox.control.set_rate_limits(False)
        assert api(sandbox, "GET", "/v1/userinfo", token).status_code == 200

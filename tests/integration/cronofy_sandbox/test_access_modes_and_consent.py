"""Consent pages, the three access modes and Enterprise Connect edge cases."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from cronofy_sandbox.testing import click_through_consent

REDIRECT_URI = "http://127.0.0.1:9/callback"
EVENT = {
    "event_id": "b1",
    "summary": "Lesson",
    "start": "2031-03-04T09:00:00Z",
    "end": "2031-03-04T10:00:00Z",
}


def api(sandbox, method, path, token, **kwargs):
    return requests.request(
        method,
        f"{sandbox.base_url}{path}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
        **kwargs,
    )


@pytest.mark.parametrize(
    ("params", "provider_name"),
    [
        ({"access_mode": "read_write", "provider_name": "google"}, "google"),
        ({"access_mode": "free_busy", "provider_name": "google"}, "google_free_busy"),
        ({"access_mode": "free_busy", "provider_name": "ms_graph"}, "ms_graph_free_busy"),
        ({"access_mode": "read_write", "provider_name": "ms_graph"}, "ms_graph"),
        ({"access_mode": "no_calendar"}, "cronofy"),
        ({"provider_name": "google_free_busy"}, "google_free_busy"),  # older deeplink style
    ],
)
def test_linking_profile_reveals_granted_mode(connect, params, provider_name):
    grant = connect(**{"access_mode": "", "provider_name": "", **params})
    assert grant["linking_profile"]["provider_name"] == provider_name


def test_mode_chosen_on_the_consent_page(sandbox):
    query = urlencode(
        {
            "response_type": "code",
            "client_id": sandbox.client_id,
            "state": "s",
            "redirect_uri": REDIRECT_URI,
            "scope": "free_busy_write",
        }
    )
    with requests.Session() as session:
        page = session.get(f"{sandbox.base_url}/oauth/authorize?{query}", timeout=5)
        assert 'name="access_mode"' in page.text
        assert 'name="provider"' in page.text
        assert "<script" not in page.text
        location = click_through_consent(
            session,
            f"{sandbox.base_url}/oauth/authorize?{query}",
            person="alan@demo.test",
            access_mode="free_busy",
            provider="ms_graph",
        )
    code = parse_qs(urlsplit(location).query)["code"][0]
    body = requests.post(
        f"{sandbox.base_url}/oauth/token",
        json={
            "client_id": sandbox.client_id,
            "client_secret": sandbox.client_secret,
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
        },
        timeout=5,
    ).json()
    assert body["linking_profile"]["provider_name"] == "ms_graph_free_busy"


def test_deny_redirects_with_access_denied_and_state(sandbox):
    query = urlencode(
        {
            "response_type": "code",
            "client_id": sandbox.client_id,
            "state": "xyz",
            "redirect_uri": REDIRECT_URI + "?keep=1",
            "scope": "read_account",
        }
    )
    with requests.Session() as session:
        location = click_through_consent(
            session,
            f"{sandbox.base_url}/oauth/authorize?{query}",
            person="ada@demo.test",
            allow=False,
        )
    assert parse_qs(urlsplit(location).query) == {
        "keep": ["1"],
        "error": ["access_denied"],
        "state": ["xyz"],
    }


@pytest.mark.parametrize(
    "bad", [{"client_id": "someone-else"}, {"redirect_uri": "javascript:alert(1)"}]
)
def test_bad_client_or_redirect_shows_error_page_without_redirect(sandbox, bad):
    query = urlencode(
        {
            "response_type": "code",
            "client_id": sandbox.client_id,
            "scope": "read_account",
            "redirect_uri": REDIRECT_URI,
            **bad,
        }
    )
    resp = requests.get(
        f"{sandbox.base_url}/oauth/authorize?{query}", allow_redirects=False, timeout=5
    )
    assert resp.status_code == 400
    assert "Location" not in resp.headers


def test_read_write_writes_into_the_calendar(sandbox, connect):
    token = connect()["access_token"]
    calendar_id = sandbox.control.calendar_id("ada@demo.test")
    assert (
        api(sandbox, "POST", f"/v1/calendars/{calendar_id}/events", token, json=EVENT).status_code
        == 202
    )
    stored = [e for e in sandbox.control.events(calendar_id) if e["managed"]]
    assert [(e["event_id"], e["delivery"]) for e in stored] == [("b1", "calendar")]
    assert sandbox.control.mailbox("ada@demo.test") == []


def test_free_busy_hides_details_and_mails_invites(sandbox, connect):
    token = connect(access_mode="free_busy", scope="free_busy_write")["access_token"]
    calendar_id = sandbox.control.calendar_id("ada@demo.test")
    assert api(sandbox, "GET", "/v1/events", token, params={"tzid": "Etc/UTC"}).status_code == 403
    assert (
        api(sandbox, "POST", f"/v1/calendars/{calendar_id}/events", token, json=EVENT).status_code
        == 202
    )
    events = api(
        sandbox, "GET", "/v1/events", token, params={"tzid": "Etc/UTC", "only_managed": "true"}
    ).json()["events"]
    assert [e["event_id"] for e in events] == ["b1"]
    busy = api(sandbox, "GET", "/v1/free_busy", token, params={"tzid": "Etc/UTC"}).json()[
        "free_busy"
    ]
    assert busy
    assert all(set(b) == {"calendar_id", "start", "end", "free_busy_status"} for b in busy)
    mail = sandbox.control.mailbox("ada@demo.test")
    assert [m["method"] for m in mail] == ["REQUEST"]
    assert "BEGIN:VEVENT" in mail[0]["ics"]
    api(sandbox, "DELETE", f"/v1/calendars/{calendar_id}/events", token, json={"event_id": "b1"})
    assert [m["method"] for m in sandbox.control.mailbox("ada@demo.test")] == ["REQUEST", "CANCEL"]


def test_free_busy_read_events_with_full_scope_omits_external_events(sandbox, connect):
    token = connect(access_mode="free_busy")["access_token"]
    events = api(sandbox, "GET", "/v1/events", token, params={"tzid": "Etc/UTC"}).json()["events"]
    assert events == []


def test_no_calendar_has_one_cronofy_calendar_with_managed_events_only(sandbox, connect):
    token = connect(access_mode="no_calendar", provider_name="")["access_token"]
    calendars = api(sandbox, "GET", "/v1/calendars", token).json()["calendars"]
    assert [(c["provider_name"], c["calendar_readonly"]) for c in calendars] == [("cronofy", False)]
    cal = calendars[0]["calendar_id"]
    assert api(sandbox, "POST", f"/v1/calendars/{cal}/events", token, json=EVENT).status_code == 202
    events = api(
        sandbox,
        "GET",
        "/v1/events",
        token,
        params={
            "tzid": "Etc/UTC",
            "include_managed": "True",
            "from": "2031-03-01",
            "to": "2031-03-09",
        },
    ).json()["events"]
    assert [e["event_id"] for e in events] == ["b1"]
    assert len(sandbox.control.mailbox("ada@demo.test")) == 1


def test_readonly_calendar_rejects_writes_with_422(sandbox, connect):
    token = connect()["access_token"]
    readonly = sandbox.control.calendar_id("ada@demo.test", primary=False)
    resp = api(sandbox, "POST", f"/v1/calendars/{readonly}/events", token, json=EVENT)
    assert resp.status_code == 422
    assert resp.json()["errors"]["calendar_id"][0]["key"] == "errors.calendar_readonly"


def test_bulk_delete_with_json_body(sandbox, connect):
    token = connect()["access_token"]
    calendar_id = sandbox.control.calendar_id("ada@demo.test")
    api(sandbox, "POST", f"/v1/calendars/{calendar_id}/events", token, json=EVENT)
    assert api(sandbox, "DELETE", "/v1/events", token, json={"delete_all": True}).status_code == 202
    assert all(e["deleted"] for e in sandbox.control.events(calendar_id) if e["managed"])


def _service_token(sandbox, delegated="read_events create_event"):
    query = urlencode(
        {
            "response_type": "code",
            "client_id": sandbox.client_id,
            "state": "s",
            "redirect_uri": REDIRECT_URI,
            "scope": "service_account/accounts/manage",
            "delegated_scope": delegated,
            "access_mode": "read_write",
            "provider_name": "google",
        }
    )
    with requests.Session() as session:
        location = click_through_consent(
            session,
            f"{sandbox.base_url}/enterprise_connect/oauth/authorize?{query}",
            person="admin@demo.test",
        )
    return requests.post(
        f"{sandbox.base_url}/oauth/token",
        json={
            "client_id": sandbox.client_id,
            "client_secret": sandbox.client_secret,
            "grant_type": "authorization_code",
            "code": parse_qs(urlsplit(location).query)["code"][0],
            "redirect_uri": REDIRECT_URI,
        },
        timeout=5,
    ).json()["access_token"]


def test_enterprise_unknown_email_and_excess_scope_get_unable_to_grant_scope(sandbox, receiver):
    token = _service_token(sandbox)
    items = [
        {
            "email": "nobody@demo.test",
            "callback_url": f"{receiver.url}/a",
            "scope": "read_events",
            "state": "1",
        },
        {
            "email": "ada@demo.test",
            "callback_url": f"{receiver.url}/b",
            "scope": "delete_event",
            "state": "2",
        },
    ]
    resp = api(
        sandbox,
        "POST",
        "/v1/service_account_authorizations",
        token,
        json={"service_account_authorizations": items},
    )
    assert resp.status_code == 202
    got = sorted([receiver.next().json()["authorization"] for _ in items], key=lambda a: a["state"])
    assert [(a["error"], a["state"]) for a in got] == [
        ("unable_to_grant_scope", "1"),
        ("unable_to_grant_scope", "2"),
    ]


def test_enterprise_consent_lists_only_admins_and_user_token_cannot_authorize(sandbox, connect):
    query = urlencode(
        {
            "response_type": "code",
            "client_id": sandbox.client_id,
            "redirect_uri": REDIRECT_URI,
            "scope": "service_account/accounts/manage",
            "delegated_scope": "read_events",
        }
    )
    page = requests.get(
        f"{sandbox.base_url}/enterprise_connect/oauth/authorize?{query}", timeout=5
    ).text
    assert "admin@demo.test" in page
    assert "ada@demo.test" not in page
    token = connect()["access_token"]
    assert (
        api(sandbox, "POST", "/v1/service_account_authorizations", token, json={}).status_code
        == 403
    )


def test_request_log_never_holds_tokens(sandbox, connect):
    grant = connect()
    api(sandbox, "GET", "/v1/userinfo", grant["access_token"])
    log = sandbox.control.requests()
    assert [(r["path"], r["auth_kind"]) for r in log][-2:] == [
        ("/oauth/token", "client_credentials"),
        ("/v1/userinfo", "account_token"),
    ]
    assert grant["access_token"] not in str(log)


def test_the_person_may_grant_another_mode_than_requested(sandbox):
    query = urlencode(
        {
            "response_type": "code",
            "client_id": sandbox.client_id,
            "state": "s",
            "redirect_uri": REDIRECT_URI,
            "scope": "free_busy_write",
            "access_mode": "free_busy",
            "provider_name": "google",
        }
    )
    url = f"{sandbox.base_url}/oauth/authorize?{query}"
    with requests.Session() as session:
        page = session.get(url, timeout=5).text
        assert 'value="free_busy" checked' in page
        assert 'value="read_write">' in page  # offered, not just named
        location = click_through_consent(
            session, url, person="alan@demo.test", access_mode="read_write", provider="ms_graph"
        )
    code = parse_qs(urlsplit(location).query)["code"][0]
    grant = requests.post(
        f"{sandbox.base_url}/oauth/token",
        json={
            "client_id": sandbox.client_id,
            "client_secret": sandbox.client_secret,
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
        },
        timeout=5,
    ).json()
    assert grant["linking_profile"]["provider_name"] == "ms_graph"


@pytest.mark.parametrize("revoke_by", ["refresh_token", "sub"])
def test_a_revoked_grant_no_longer_connects_its_profile(sandbox, connect, revoke_by):
    grant = connect("ada@demo.test", access_mode="read_write", provider_name="google")
    profile_id = grant["linking_profile"]["profile_id"]
    body = (
        {"token": grant["refresh_token"]} if revoke_by == "refresh_token" else {"sub": grant["sub"]}
    )
    requests.post(
        f"{sandbox.base_url}/oauth/token/revoke",
        json={"client_id": sandbox.client_id, "client_secret": sandbox.client_secret, **body},
        timeout=5,
    ).raise_for_status()
    person = sandbox.control.person("ada@demo.test")
    linked = {p["profile_id"]: p["linked"] for p in person["profiles"]}
    assert linked[profile_id] is False
    home = requests.get(f"{sandbox.base_url}/", timeout=5).text
    assert "connected as" not in home


def test_a_profile_another_live_grant_covers_stays_connected(sandbox, connect):
    first = connect("ada@demo.test", access_mode="read_write", provider_name="google")
    second = connect("ada@demo.test", access_mode="read_write", provider_name="google")
    requests.post(
        f"{sandbox.base_url}/oauth/token/revoke",
        json={
            "client_id": sandbox.client_id,
            "client_secret": sandbox.client_secret,
            "token": first["refresh_token"],
        },
        timeout=5,
    ).raise_for_status()
    person = sandbox.control.person("ada@demo.test")
    profile_id = second["linking_profile"]["profile_id"]
    assert {p["profile_id"]: p["linked"] for p in person["profiles"]}[profile_id] is True

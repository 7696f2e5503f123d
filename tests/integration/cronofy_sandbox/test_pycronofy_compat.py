"""pycronofy 2.1.1 itself, pointed at the sandbox, works for every call the project uses."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode

import pycronofy
import pytest
import requests
from pycronofy.exceptions import PyCronofyRequestError

from cronofy_sandbox.testing import click_through_consent

REDIRECT_URI = "http://127.0.0.1:9/callback"
FAR = datetime(2031, 3, 4, 9, 0, tzinfo=UTC)


def test_token_exchange_through_user_auth_link(sandbox, pyclient):
    client = pyclient()
    link = client.user_auth_link(REDIRECT_URI, state="abc")
    with requests.Session() as session:
        location = click_through_consent(
            session, link, person="ada@demo.test", access_mode="read_write", provider="google"
        )
    assert "state=abc" in location
    code = location.split("code=")[1].split("&")[0]
    tokens = client.get_authorization_from_code(code, redirect_uri=REDIRECT_URI)
    assert len(tokens["access_token"]) == 32
    assert len(tokens["refresh_token"]) == 32
    assert client.account()["email"] == "ada@demo.test"


def test_refresh_rotates_and_old_refresh_token_is_invalid_grant(connect, pyclient):
    grant = connect()
    client = pyclient(grant["access_token"], grant["refresh_token"])
    fresh = client.refresh_authorization()
    assert fresh["access_token"] != grant["access_token"]
    assert fresh["refresh_token"] != grant["refresh_token"]
    assert client.userinfo()["email"] == "ada@demo.test"
    stale = pyclient(refresh_token=grant["refresh_token"])
    with pytest.raises(PyCronofyRequestError) as err:
        stale.refresh_authorization()
    assert err.value.response.status_code == 400
    assert err.value.response.json() == {"error": "invalid_grant"}


def test_userinfo_and_calendars(connect, pyclient):
    grant = connect("grace@demo.test", provider_name="ms_graph")
    client = pyclient(grant["access_token"])
    info = client.userinfo()
    assert info["sub"] == grant["sub"]
    assert info["cronofy.data"]["profiles"][0]["provider_name"] == "ms_graph"
    calendars = client.list_calendars()
    assert {c["calendar_readonly"] for c in calendars} == {True, False}
    assert all(c["profile_id"] == grant["linking_profile"]["profile_id"] for c in calendars)
    assert client.list_profiles()[0]["profile_connected"] is True


def test_read_events_follows_pages_over_250_events(sandbox, connect, pyclient):
    grant = connect()
    calendar_id = sandbox.control.calendar_id("ada@demo.test")
    specs = [
        {
            "summary": f"E{i}",
            "start": FAR + timedelta(hours=i),
            "end": FAR + timedelta(hours=i, minutes=30),
        }
        for i in range(260)
    ]
    sandbox.control.add_events(calendar_id, specs, notify=False)
    pages = pyclient(grant["access_token"]).read_events(
        calendar_ids=(calendar_id,), from_date=date(2031, 3, 1), to_date=date(2031, 4, 1)
    )
    assert pages.total == 2
    summaries = [event["summary"] for event in pages]
    assert summaries == [f"E{i}" for i in range(260)]


def test_free_busy(sandbox, connect, pyclient):
    grant = connect()
    calendar_id = sandbox.control.calendar_id("ada@demo.test")
    sandbox.control.add_event(calendar_id, "Private", FAR, FAR + timedelta(hours=1))
    blocks = list(
        pyclient(grant["access_token"]).read_free_busy(
            from_date=date(2031, 3, 4), to_date=date(2031, 3, 5)
        )
    )
    assert blocks == [
        {
            "calendar_id": calendar_id,
            "start": "2031-03-04T09:00:00Z",
            "end": "2031-03-04T10:00:00Z",
            "free_busy_status": "busy",
        }
    ]


def test_upsert_then_delete_event(sandbox, connect, pyclient):
    grant = connect()
    client = pyclient(grant["access_token"])
    calendar_id = sandbox.control.calendar_id("ada@demo.test")
    client.upsert_event(
        calendar_id,
        {
            "event_id": "booking-1",
            "summary": "Lesson",
            "start": FAR,
            "end": FAR + timedelta(hours=1),
        },
    )
    managed = list(client.read_events(only_managed=True, include_managed=True))
    assert [(e["event_id"], e["summary"], e["start"]) for e in managed] == [
        ("booking-1", "Lesson", "2031-03-04T09:00:00Z")
    ]
    client.delete_event(calendar_id, "booking-1")
    assert list(client.read_events(only_managed=True)) == []


def test_localized_times_use_the_events_zone(sandbox, connect, pyclient):
    client = pyclient(connect()["access_token"])
    calendar_id = sandbox.control.calendar_id("ada@demo.test")
    start = {"time": FAR, "tzid": "Europe/Paris"}
    end = {"time": FAR + timedelta(hours=1), "tzid": "Europe/Paris"}
    client.upsert_event(calendar_id, {"event_id": "b", "summary": "L", "start": start, "end": end})
    (event,) = client.read_events(only_managed=True, localized_times=True)
    assert event["start"] == {"time": "2031-03-04T10:00:00+01:00", "tzid": "Europe/Paris"}


def test_availability_with_member_token(sandbox, connect, pyclient):
    grant = connect()
    calendar_id = sandbox.control.calendar_id("ada@demo.test")
    sandbox.control.add_event(
        calendar_id, "Busy", FAR + timedelta(hours=1), FAR + timedelta(hours=2)
    )
    periods = pyclient(grant["access_token"]).availability(
        participants={"members": [grant["sub"]]},
        required_duration=30,
        available_periods=[{"start": FAR, "end": FAR + timedelta(hours=4)}],
    )
    assert [(p["start"], p["end"]) for p in periods] == [
        ("2031-03-04T09:00:00Z", "2031-03-04T10:00:00Z"),
        ("2031-03-04T11:00:00Z", "2031-03-04T13:00:00Z"),
    ]
    assert periods[0]["participants"] == [{"sub": grant["sub"]}]


def test_channels_create_list_close(sandbox, connect, pyclient, receiver):
    grant = connect()
    client = pyclient(grant["access_token"])
    channel = client.create_notification_channel(f"{receiver.url}/push")
    assert channel["channel_id"].startswith("chn_")
    assert receiver.next_of("verification").json()["channel"]["channel_id"] == channel["channel_id"]
    assert [c["channel_id"] for c in client.list_notification_channels()] == [channel["channel_id"]]
    client.close_notification_channel(channel["channel_id"])
    assert client.list_notification_channels() == []


def _service_account_client(sandbox, pyclient):
    query = urlencode(
        {
            "response_type": "code",
            "client_id": sandbox.client_id,
            "redirect_uri": REDIRECT_URI,
            "scope": "service_account/accounts/manage",
            "delegated_scope": "free_busy_write read_events",
            "state": "ec",
        }
    )
    with requests.Session() as session:
        location = click_through_consent(
            session,
            f"{sandbox.base_url}/enterprise_connect/oauth/authorize?{query}",
            person="admin@demo.test",
            access_mode="read_write",
            provider="google",
        )
    client = pyclient()
    client.get_authorization_from_code(location.split("code=")[1].split("&")[0], REDIRECT_URI)
    return client


def test_service_account_authorization(sandbox, pyclient, receiver):
    admin = _service_account_client(sandbox, pyclient)
    callback_url = f"{receiver.url}/ec/u1?x=1"
    admin.authorize_with_service_account(
        "alan@demo.test", "read_events create_event", callback_url, state="u1"
    )
    payload = receiver.next().json()["authorization"]
    assert payload["state"] == "u1"
    user = pyclient()
    user.get_authorization_from_code(payload["code"], redirect_uri=callback_url)
    info = user.userinfo()
    assert info["email"] == "alan@demo.test"
    # Exactly what was granted: read_write would claim deletes and calendar creation too.
    assert info["cronofy.data"]["authorization"]["scope"] == "read_events create_event"


def test_elevated_permissions_are_accepted_at_once_for_enterprise_connect_users(
    sandbox, pyclient, receiver
):
    admin = _service_account_client(sandbox, pyclient)
    callback_url = f"{receiver.url}/ec/u1"
    admin.authorize_with_service_account("alan@demo.test", "read_events create_event", callback_url)
    user = pyclient()
    user.get_authorization_from_code(receiver.next().json()["authorization"]["code"], callback_url)
    calendar_id = sandbox.control.calendar_id("alan@demo.test")
    granted = user.elevated_permissions(
        [{"calendar_id": calendar_id, "permission_level": "unrestricted"}]
    )
    assert granted == {"accepted": True}


def test_elevated_permissions_give_individual_users_a_page_to_accept(sandbox, connect, pyclient):
    client = pyclient(connect()["access_token"])
    calendar_id = sandbox.control.calendar_id("ada@demo.test")
    request = client.elevated_permissions(
        [{"calendar_id": calendar_id, "permission_level": "unrestricted"}],
        redirect_uri="https://app.example.test/permission",
    )
    assert request["url"].startswith(f"{sandbox.base_url}/permissions/")


def test_smart_invite_create_status_cancel(pyclient):
    client = pyclient()
    created = client.upsert_smart_invite(
        "inv-1",
        {"email": "guest@example.test"},
        {
            "summary": "Viewing",
            "start": FAR,
            "end": FAR + timedelta(minutes=30),
            "tzid": "Europe/London",
        },
        organizer={"name": "Acme", "email": "bookings@acme.test"},
    )
    assert created["recipient"] == {"email": "guest@example.test", "status": "pending"}
    assert "BEGIN:VCALENDAR" in created["attachments"]["icalendar"]
    status = client.get_smart_invite("inv-1", "guest@example.test")
    assert status["replies"] == []
    cancelled = client.cancel_smart_invite("inv-1", {"email": "guest@example.test"})
    assert "METHOD:CANCEL" in cancelled["attachments"]["icalendar"]
    assert cancelled["recipient"] == {"email": "guest@example.test", "status": "pending"}


def test_revoke_authorization_sends_token_and_kills_the_grant(connect, pyclient):
    grant = connect()
    client = pyclient(grant["access_token"], grant["refresh_token"])
    client.revoke_authorization()
    with pytest.raises(PyCronofyRequestError) as err:
        pyclient(grant["access_token"]).userinfo()
    assert err.value.response.status_code == 401


def test_pycronofy_bulk_delete_query_form_is_rejected(connect, pyclient):
    # pycronofy sends delete_all as a query parameter; the API expects a JSON body (§11.3).
    client = pyclient(connect()["access_token"])
    with pytest.raises(PyCronofyRequestError) as err:
        client.delete_all_events()
    assert err.value.response.status_code == 422


def test_pycronofy_client_is_not_shared_state():
    # Pointing a client at the sandbox must not touch pycronofy's module settings.
    assert pycronofy.settings.API_BASE_URL == "https://api.cronofy.com"

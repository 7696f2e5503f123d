"""Userinfo, profiles, calendars, event writes, read events and free/busy with paging."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from cronofy_client import (
    AccessMode,
    Attendee,
    Calendar,
    CronofyClient,
    CronofyError,
    CronofyNotFound,
    Event,
    EventUpsert,
    FreeBusyPeriod,
)

API = "https://api.cronofy.com"
TOKEN = "acc_token_for_tests"
CAL = {
    "provider_name": "google",
    "profile_id": "pro_1",
    "profile_name": "dana@example.org",
    "calendar_id": "cal_1",
    "calendar_name": "Work",
    "calendar_readonly": False,
    "calendar_deleted": False,
    "calendar_primary": True,
    "permission_level": "sandbox",
}


def body_of(call: responses.Call) -> object:
    return json.loads(call.request.body or b"")


def params_of(call: responses.Call) -> dict[str, list[str]]:
    return parse_qs(urlsplit(call.request.url or "").query)


def test_userinfo(api: responses.RequestsMock, client: CronofyClient) -> None:
    api.get(
        f"{API}/v1/userinfo",
        json={
            "sub": "acc_1",
            "email": "dana@example.org",
            "name": "Dana",
            "zoneinfo": "Europe/London",
            "cronofy.type": "account",
            "cronofy.data": {
                "authorization": {"scope": "read_write", "status": "active"},
                "profiles": [
                    {
                        "provider_name": "google",
                        "provider_service": "gsuite",
                        "profile_id": "pro_1",
                        "profile_name": "dana@example.org",
                        "profile_connected": False,
                        "profile_initial_sync_required": True,
                        "profile_relink_url": "https://relink.test/1",
                        "profile_calendars": [
                            {k: v for k, v in CAL.items() if not k.startswith("pro")}
                        ],
                    }
                ],
            },
        },
    )
    info = client.userinfo(TOKEN)
    assert (info.sub, info.type, info.scope, info.zoneinfo) == (
        "acc_1",
        "account",
        "read_write",
        "Europe/London",
    )
    profile = info.profiles[0]
    assert not profile.connected
    assert profile.initial_sync_required
    assert profile.relink_url == "https://relink.test/1"
    # Calendars inherit profile fields the userinfo document leaves out.
    assert info.calendars == (Calendar.from_json(CAL),)
    assert api.calls[0].request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert api.calls[0].request.body is None  # no JSON body on GET


def test_userinfo_of_a_service_account(api: responses.RequestsMock, client: CronofyClient) -> None:
    api.get(
        f"{API}/v1/userinfo",
        json={
            "sub": "ser_1",
            "email": "svc@corp.example",
            "cronofy.type": "service_account",
            "cronofy.data": {
                "service_account": {"provider_name": "exchange", "domain": "corp.example"},
                "authorization": {
                    "scope": "service_account/accounts/manage",
                    "status": "active",
                    "delegated_scope": "free_busy_write",
                },
            },
        },
    )
    info = client.userinfo(TOKEN)
    assert (info.type, info.delegated_scope) == ("service_account", "free_busy_write")
    assert (info.service_account_provider, info.service_account_domain) == (
        "exchange",
        "corp.example",
    )
    assert info.profiles == ()
    assert info.access_mode is None


@pytest.mark.parametrize(
    ("provider_name", "mode"),
    [
        ("google", AccessMode.READ_WRITE),
        ("ms_graph_free_busy", AccessMode.FREE_BUSY),
        ("cronofy", AccessMode.NO_CALENDAR),
    ],
)
def test_userinfo_reports_the_granted_mode(
    api: responses.RequestsMock, client: CronofyClient, provider_name: str, mode: AccessMode
) -> None:
    profile = {"provider_name": provider_name, "profile_id": "pro_1", "profile_name": "d"}
    api.get(
        f"{API}/v1/userinfo",
        json={"sub": "acc_1", "cronofy.data": {"profiles": [profile]}},
    )
    assert client.userinfo(TOKEN).access_mode is mode


def test_profiles(api: responses.RequestsMock, client: CronofyClient) -> None:
    api.get(
        f"{API}/v1/profiles",
        json={
            "profiles": [
                {
                    "provider_name": "apple",
                    "profile_id": "pro_2",
                    "profile_name": "d@icloud.test",
                    "profile_connected": True,
                }
            ]
        },
    )
    [profile] = client.profiles(TOKEN)
    assert (profile.provider_name, profile.connected, profile.calendars) == ("apple", True, ())


def test_calendars_and_writable(api: responses.RequestsMock, client: CronofyClient) -> None:
    readonly = {**CAL, "calendar_id": "cal_2", "calendar_readonly": True}
    deleted = {**CAL, "calendar_id": "cal_3", "calendar_deleted": True}
    api.get(f"{API}/v1/calendars", json={"sub": "acc_1", "calendars": [CAL, readonly, deleted]})
    calendars = client.calendars(TOKEN)
    assert [c.writable for c in calendars] == [True, False, False]
    assert calendars[0] == Calendar(
        "cal_1", "Work", "pro_1", "dana@example.org", "google", False, False, True, "sandbox"
    )


def test_create_calendar_with_color(api: responses.RequestsMock, client: CronofyClient) -> None:
    api.post(f"{API}/v1/calendars", json={"calendar": CAL})
    calendar = client.create_calendar(TOKEN, profile_id="pro_1", name="Work", color="#49BED8")
    assert calendar.calendar_id == "cal_1"
    assert body_of(api.calls[0]) == {"profile_id": "pro_1", "name": "Work", "color": "#49BED8"}


def test_upsert_event_sends_the_full_body(
    api: responses.RequestsMock, client: CronofyClient
) -> None:
    api.post(f"{API}/v1/calendars/cal_1/events", status=202)
    berlin = timezone(timedelta(hours=1))
    event = EventUpsert(
        event_id="booking-7731",
        summary="Intro call",
        start=datetime(2031, 3, 4, 10, 30, tzinfo=berlin),
        end=datetime(2031, 3, 4, 11, 0, tzinfo=berlin),
        tzid="Europe/Berlin",
        description="Agenda",
        location="Video",
        invite=(Attendee("guest@example.net", "Guest"),),
        remove=(Attendee("old@example.net"),),
        reminders_minutes=(15, 5),
        transparency="opaque",
        conferencing_profile_id="default",
    )
    client.upsert_event(TOKEN, "cal_1", event)
    assert body_of(api.calls[0]) == {
        "event_id": "booking-7731",
        "summary": "Intro call",
        "start": {"time": "2031-03-04T09:30:00Z", "tzid": "Europe/Berlin"},
        "end": {"time": "2031-03-04T10:00:00Z", "tzid": "Europe/Berlin"},
        "tzid": "Europe/Berlin",
        "description": "Agenda",
        "location": {"description": "Video"},
        "reminders": [{"minutes": 15}, {"minutes": 5}],
        "transparency": "opaque",
        "conferencing": {"profile_id": "default"},
        "attendees": {
            "invite": [{"email": "guest@example.net", "display_name": "Guest"}],
            "remove": [{"email": "old@example.net"}],
        },
    }


def test_upsert_event_is_retried_because_it_is_idempotent(
    api: responses.RequestsMock, client: CronofyClient
) -> None:
    api.post(f"{API}/v1/calendars/cal_1/events", status=502)
    api.post(f"{API}/v1/calendars/cal_1/events", status=202)
    event = EventUpsert("e1", "All day", date(2031, 3, 4), date(2031, 3, 5))
    client.upsert_event(TOKEN, "cal_1", event)
    assert len(api.calls) == 2
    assert body_of(api.calls[1])["start"] == "2031-03-04"  # type: ignore[index]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"start": datetime(2031, 3, 4, 9), "end": datetime(2031, 3, 4, 10)},  # noqa: DTZ001
        {"start": datetime(2031, 3, 4, 10, tzinfo=UTC), "end": datetime(2031, 3, 4, 9, tzinfo=UTC)},
        {"start": date(2031, 3, 4), "end": datetime(2031, 3, 5, tzinfo=UTC)},
    ],
)
def test_invalid_event_upserts_raise_before_any_request(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="aware|after|both"):
        EventUpsert(event_id="e", summary="s", **kwargs)  # type: ignore[arg-type]


def test_delete_event_and_external_event_send_json_bodies(
    api: responses.RequestsMock, client: CronofyClient
) -> None:
    api.delete(f"{API}/v1/calendars/cal_1/events", status=202)
    api.delete(f"{API}/v1/calendars/cal_1/events", status=202)
    client.delete_event(TOKEN, "cal_1", "booking-7731")
    client.delete_external_event(TOKEN, "cal_1", "evt_external_1")
    assert body_of(api.calls[0]) == {"event_id": "booking-7731"}
    assert body_of(api.calls[1]) == {"event_uid": "evt_external_1"}


def test_delete_of_unknown_calendar_is_not_found(
    api: responses.RequestsMock, client: CronofyClient
) -> None:
    api.delete(f"{API}/v1/calendars/cal_x/events", status=404)
    with pytest.raises(CronofyNotFound):
        client.delete_event(TOKEN, "cal_x", "e1")


def test_bulk_delete_uses_a_json_body(api: responses.RequestsMock, client: CronofyClient) -> None:
    api.delete(f"{API}/v1/events", status=202)
    api.delete(f"{API}/v1/events", status=202)
    client.bulk_delete_events(TOKEN)
    client.bulk_delete_events(TOKEN, calendar_ids=["cal_1", "cal_2"])
    assert body_of(api.calls[0]) == {"delete_all": True}
    assert body_of(api.calls[1]) == {"calendar_ids": ["cal_1", "cal_2"]}
    assert all(urlsplit(c.request.url or "").query == "" for c in api.calls)
    with pytest.raises(ValueError, match="calendar_ids"):
        client.bulk_delete_events(TOKEN, calendar_ids=[])


EVENT = {
    "calendar_id": "cal_1",
    "event_uid": "evt_external_1",
    "summary": "Planning",
    "start": "2031-03-04T09:30:00Z",
    "end": "2031-03-04T10:30:00Z",
    "deleted": False,
    "created": "2031-02-20T08:00:01Z",
    "updated": "2031-02-21T11:12:13Z",
    "location": {"description": "Room 2"},
    "attendees": [{"email": "kim@example.org", "display_name": "Kim", "status": "accepted"}],
    "organizer": {"email": "kim@example.org"},
    "transparency": "opaque",
    "status": "confirmed",
    "recurring": False,
}


def test_read_events_follows_every_page_and_sends_all_filters(
    api: responses.RequestsMock, client: CronofyClient
) -> None:
    page2 = f"{API}/v1/events/pages/p2"
    page3 = f"{API}/v1/events/pages/p3"
    all_day = {**EVENT, "event_uid": "e2", "start": "2031-03-06", "end": "2031-03-08"}
    managed = {**EVENT, "event_uid": "e3", "event_id": "booking-1", "event_status": "tentative"}
    del managed["status"]
    api.get(
        f"{API}/v1/events",
        json={"pages": {"current": 1, "total": 3, "next_page": page2}, "events": [EVENT]},
    )
    api.get(
        page2, json={"pages": {"current": 2, "total": 3, "next_page": page3}, "events": [all_day]}
    )
    api.get(page3, json={"pages": {"current": 3, "total": 3, "next_page": ""}, "events": [managed]})
    events = list(
        client.read_events(
            TOKEN,
            from_date=date(2031, 3, 1),
            to_date=date(2031, 4, 1),
            tzid="Europe/London",
            last_modified=datetime(2031, 3, 4, 10, 24, 16, tzinfo=timezone(timedelta(hours=1))),
            include_deleted=True,
            include_moved=True,
            include_managed=True,
            only_managed=False,
            calendar_ids=["cal_1", "cal_2"],
        )
    )
    assert [e.event_uid for e in events] == ["evt_external_1", "e2", "e3"]
    first = events[0]
    assert first.start == datetime(2031, 3, 4, 9, 30, tzinfo=UTC)
    assert first.attendees == (Attendee("kim@example.org", "Kim", "accepted"),)
    assert (first.location, first.organizer_email, first.status) == (
        "Room 2",
        "kim@example.org",
        "confirmed",
    )
    assert events[1].all_day
    assert events[1].start == date(2031, 3, 6)
    assert (events[2].event_id, events[2].status) == ("booking-1", "tentative")
    params = params_of(api.calls[0])
    assert params["calendar_ids[]"] == ["cal_1", "cal_2"]
    assert params["from"] == ["2031-03-01"]
    assert params["to"] == ["2031-04-01"]
    assert params["last_modified"] == ["2031-03-04T09:24:16Z"]
    assert params["tzid"] == ["Europe/London"]
    for flag, value in [
        ("include_deleted", "true"),
        ("include_moved", "true"),
        ("include_managed", "true"),
        ("only_managed", "false"),
    ]:
        assert params[flag] == [value]
    assert all(c.request.headers["Authorization"] == f"Bearer {TOKEN}" for c in api.calls)


def test_read_events_single_page_without_next_page(
    api: responses.RequestsMock, client: CronofyClient
) -> None:
    api.get(f"{API}/v1/events", json={"pages": {"current": 1, "total": 1}, "events": [EVENT]})
    assert [e.summary for e in client.read_events(TOKEN, only_managed=True)] == ["Planning"]
    assert params_of(api.calls[0])["only_managed"] == ["true"]
    assert "calendar_ids[]" not in params_of(api.calls[0])


def test_read_events_refuses_a_next_page_on_another_host(
    api: responses.RequestsMock, client: CronofyClient
) -> None:
    api.get(
        f"{API}/v1/events",
        json={
            "pages": {"current": 1, "total": 2, "next_page": "https://evil.test/p2"},
            "events": [],
        },
    )
    with pytest.raises(CronofyError, match="next_page"):
        list(client.read_events(TOKEN))


def test_stale_next_page_is_not_found(api: responses.RequestsMock, client: CronofyClient) -> None:
    page2 = f"{API}/v1/events/pages/stale"
    api.get(
        f"{API}/v1/events",
        json={"pages": {"current": 1, "total": 2, "next_page": page2}, "events": [EVENT]},
    )
    api.get(page2, status=404)
    events = client.read_events(TOKEN)
    assert next(events).event_uid == "evt_external_1"
    with pytest.raises(CronofyNotFound):
        next(events)


def test_read_events_refuses_datetimes_for_dates(client: CronofyClient) -> None:
    with pytest.raises(TypeError):
        client.read_events(TOKEN, from_date=datetime(2031, 3, 1, tzinfo=UTC))


def test_free_busy_pages(api: responses.RequestsMock, client: CronofyClient) -> None:
    page2 = f"{API}/v1/free_busy/pages/2"
    busy = {
        "calendar_id": "cal_1",
        "start": "2031-03-04T09:30:00Z",
        "end": "2031-03-04T10:30:00Z",
        "free_busy_status": "busy",
    }
    free = {
        "calendar_id": "cal_1",
        "start": "2031-03-06",
        "end": "2031-03-07",
        "free_busy_status": "free",
    }
    api.get(
        f"{API}/v1/free_busy",
        json={"pages": {"current": 1, "total": 2, "next_page": page2}, "free_busy": [busy]},
    )
    api.get(page2, json={"pages": {"current": 2, "total": 2}, "free_busy": [free]})
    periods = list(client.free_busy(TOKEN, from_date=date(2031, 3, 1), calendar_ids=["cal_1"]))
    assert periods == [
        FreeBusyPeriod(
            "cal_1",
            datetime(2031, 3, 4, 9, 30, tzinfo=UTC),
            datetime(2031, 3, 4, 10, 30, tzinfo=UTC),
            "busy",
        ),
        FreeBusyPeriod("cal_1", date(2031, 3, 6), date(2031, 3, 7), "free"),
    ]
    params = params_of(api.calls[0])
    assert params["include_managed"] == ["false"]
    assert params["calendar_ids[]"] == ["cal_1"]


def test_free_busy_page_failure_is_retried(
    api: responses.RequestsMock, client: CronofyClient
) -> None:
    api.get(f"{API}/v1/free_busy", status=500)
    api.get(f"{API}/v1/free_busy", json={"pages": {"current": 1, "total": 1}, "free_busy": []})
    assert list(client.free_busy(TOKEN)) == []
    assert len(api.calls) == 2


def test_event_parses_with_offset_times() -> None:
    event = Event.from_json({**EVENT, "start": "2031-03-04T10:30:00+01:00"})
    assert event.start == datetime(2031, 3, 4, 9, 30, tzinfo=UTC)
    assert isinstance(event.start, datetime)
    assert event.start.tzinfo is UTC

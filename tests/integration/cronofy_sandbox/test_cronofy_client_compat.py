"""The project's own cronofy_client against the sandbox: happy paths and error mapping."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from cronofy_client import (
    AccessMode,
    AvailabilityMember,
    AvailabilityQuery,
    CronofyAuthExpired,
    CronofyClient,
    CronofyError,
    CronofyInvalidGrant,
    CronofyNotFound,
    CronofyRateLimited,
    CronofyUnavailable,
    CronofyValidationError,
    EnterpriseConnectCallback,
    EventUpsert,
    Period,
    Provider,
    PushNotification,
    ServiceAccountAuthorizationRequest,
    SmartInviteEvent,
    parse_callback,
)
from cronofy_sandbox.testing import click_through_consent

REDIRECT_URI = "http://127.0.0.1:9/callback"
FAR = datetime(2031, 3, 4, 9, 0, tzinfo=UTC)


@pytest.fixture
def client(sandbox):
    return CronofyClient(
        sandbox.client_id,
        sandbox.client_secret,
        api_base_url=sandbox.base_url,
        max_retries=1,
        sleep=lambda _s: None,
    )


def _grant(
    client,
    email="ada@demo.test",
    mode=AccessMode.READ_WRITE,
    provider=Provider.GOOGLE,
    scope="read_account list_calendars read_events create_event delete_event",
):
    url = client.individual_connect_url(
        redirect_uri=REDIRECT_URI, state="st", scope=scope, access_mode=mode, provider_name=provider
    )
    with requests.Session() as session:
        location = click_through_consent(session, url, person=email)
    return client.exchange_code(
        parse_qs(urlsplit(location).query)["code"][0], redirect_uri=REDIRECT_URI
    )


def test_exchange_reads_the_granted_mode(client):
    grant = _grant(
        client, mode=AccessMode.FREE_BUSY, provider=Provider.MS_GRAPH, scope="free_busy_write"
    )
    assert grant.access_mode is AccessMode.FREE_BUSY
    assert grant.linking_profile.provider_name == "ms_graph_free_busy"
    assert grant.expires_at > datetime.now(UTC) + timedelta(minutes=59)


def test_userinfo_calendars_and_refresh(client):
    grant = _grant(client)
    info = client.userinfo(grant.access_token)
    assert info.email == "ada@demo.test"
    assert [c.writable for c in client.calendars(grant.access_token)] == [True, False]
    fresh = client.refresh(grant.refresh_token)
    assert fresh.refresh_token != grant.refresh_token
    with pytest.raises(CronofyInvalidGrant):
        client.refresh(grant.refresh_token)


def test_events_round_trip_and_paging(client, sandbox):
    grant = _grant(client)
    calendar_id = sandbox.control.calendar_id("ada@demo.test")
    sandbox.control.add_events(
        calendar_id,
        [
            {
                "summary": f"E{i}",
                "start": FAR + timedelta(hours=i),
                "end": FAR + timedelta(hours=i, minutes=20),
            }
            for i in range(255)
        ],
        notify=False,
    )
    client.upsert_event(
        grant.access_token,
        calendar_id,
        EventUpsert(event_id="bk-1", summary="Lesson", start=FAR, end=FAR + timedelta(hours=1)),
    )
    events = list(
        client.read_events(
            grant.access_token,
            from_date=date(2031, 3, 1),
            to_date=date(2031, 4, 1),
            include_managed=True,
        )
    )
    assert len(events) == 256
    assert [e.event_id for e in events if e.event_id] == ["bk-1"]
    busy = list(
        client.free_busy(grant.access_token, from_date=date(2031, 3, 4), to_date=date(2031, 3, 5))
    )
    assert len(busy) == 15
    client.delete_event(grant.access_token, calendar_id, "bk-1")
    client.bulk_delete_events(grant.access_token)
    assert list(client.read_events(grant.access_token, only_managed=True)) == []


def test_availability_with_api_key_across_two_people(client, sandbox):
    ada, alan = _grant(client), _grant(client, "alan@demo.test")
    sandbox.control.add_event(
        sandbox.control.calendar_id("alan@demo.test"), "Busy", FAR, FAR + timedelta(hours=1)
    )
    found = client.availability(
        AvailabilityQuery(
            required_duration=timedelta(minutes=60),
            query_periods=(Period(FAR, FAR + timedelta(hours=3)),),
            members=(AvailabilityMember(ada.sub), AvailabilityMember(alan.sub)),
            response_format="slots",
            start_interval=timedelta(minutes=60),
        )
    )
    assert [(s.start, s.end) for s in found] == [
        (FAR + timedelta(hours=1), FAR + timedelta(hours=2)),
        (FAR + timedelta(hours=2), FAR + timedelta(hours=3)),
    ]
    assert found[0].participants == tuple(sorted((ada.sub, alan.sub)))


def test_push_verifies_and_parses(client, sandbox, receiver):
    grant = _grant(client)
    channel = client.create_channel(grant.access_token, callback_url=f"{receiver.url}/push")
    receiver.next_of("verification")
    sandbox.control.add_event(
        sandbox.control.calendar_id("ada@demo.test"), "X", FAR, FAR + timedelta(hours=1)
    )
    got = receiver.next_of("change")
    assert client.webhook_verifier().verify(got.body, got.headers["Cronofy-HMAC-SHA256"])
    note = parse_callback(got.body)
    assert isinstance(note, PushNotification)
    assert (note.type, note.channel_id) == ("change", channel.channel_id)
    client.close_channel(grant.access_token, channel.channel_id)
    assert client.list_channels(grant.access_token) == []


def test_enterprise_connect_callback_parses(client, sandbox, receiver):
    url = client.enterprise_connect_url(
        redirect_uri=REDIRECT_URI,
        state="ec",
        delegated_scope="read_events create_event",
        access_mode=AccessMode.READ_WRITE,
        provider_name=Provider.GOOGLE,
    )
    with requests.Session() as session:
        location = click_through_consent(session, url, person="admin@demo.test")
    service = client.exchange_code(
        parse_qs(urlsplit(location).query)["code"][0], redirect_uri=REDIRECT_URI
    )
    assert service.service_account_id.startswith("ser_")
    callback_url = f"{receiver.url}/ec/grace"
    client.authorize_service_account_users(
        service.access_token,
        [ServiceAccountAuthorizationRequest("grace@demo.test", callback_url, "read_events", "g")],
    )
    got = receiver.next()
    assert client.webhook_verifier().verify(got.body, got.headers["Cronofy-HMAC-SHA256"])
    parsed = parse_callback(got.body)
    assert isinstance(parsed, EnterpriseConnectCallback)
    user = client.exchange_code(parsed.code, redirect_uri=callback_url)
    assert client.userinfo(user.access_token).email == "grace@demo.test"


def test_smart_invite(client):
    event = SmartInviteEvent(summary="Viewing", start=FAR, end=FAR + timedelta(minutes=30))
    invite = client.upsert_smart_invite(
        "inv-7", "guest@example.test", event, callback_url="http://127.0.0.1:9/si"
    )
    assert invite.recipient_status == "pending"
    assert "BEGIN:VEVENT" in invite.icalendar
    assert client.smart_invite_status("inv-7", "guest@example.test").smart_invite_id == "inv-7"
    assert "METHOD:CANCEL" in client.cancel_smart_invite("inv-7", "guest@example.test").icalendar


def test_error_mapping(client, sandbox):
    grant = _grant(client)
    with pytest.raises(CronofyNotFound):
        client.upsert_event(
            grant.access_token,
            "cal_missing",
            EventUpsert(event_id="x", summary="x", start=FAR, end=FAR + timedelta(hours=1)),
        )
    readonly = sandbox.control.calendar_id("ada@demo.test", primary=False)
    with pytest.raises(CronofyValidationError) as invalid:
        client.upsert_event(
            grant.access_token,
            readonly,
            EventUpsert(event_id="x", summary="x", start=FAR, end=FAR + timedelta(hours=1)),
        )
    assert invalid.value.errors["calendar_id"][0].key == "errors.calendar_readonly"
    sandbox.control.fail_next(429, 2)
    with pytest.raises(CronofyRateLimited) as limited:
        client.userinfo(grant.access_token)
    assert limited.value.retry_after == 1
    sandbox.control.fail_next(503, 2)
    with pytest.raises(CronofyUnavailable):
        client.calendars(grant.access_token)
    sandbox.control.fail_next(503, 1)
    assert client.calendars(grant.access_token)  # one retry absorbs one failure
    sandbox.control.expire_access_tokens()
    with pytest.raises(CronofyAuthExpired):
        client.userinfo(grant.access_token)


def test_revoke_sends_token_and_kills_the_grant(client, sandbox):
    grant = _grant(client)
    sandbox.control.clear_requests()
    client.revoke(refresh_token=grant.refresh_token)
    assert [(r["path"], r["status"]) for r in sandbox.control.requests()] == [
        ("/oauth/token/revoke", 200)
    ]
    with pytest.raises(CronofyAuthExpired):
        client.userinfo(grant.access_token)
    with pytest.raises(CronofyInvalidGrant):
        client.refresh(grant.refresh_token)


@pytest.mark.parametrize(
    ("status", "error"),
    [(500, CronofyUnavailable), (503, CronofyUnavailable), (429, CronofyRateLimited)],
)
def test_revoke_raises_when_cronofy_does_not_confirm(client, sandbox, status, error):
    grant = _grant(client)
    # max_retries=1: both attempts fail, so the caller learns nothing was revoked.
    sandbox.control.fail_next(status, 2, path_prefix="/oauth/token/revoke")
    with pytest.raises(error):
        client.revoke(refresh_token=grant.refresh_token)
    assert client.userinfo(grant.access_token).email == "ada@demo.test"


def test_revoke_with_bad_client_credentials_raises(sandbox):
    wrong = CronofyClient(sandbox.client_id, "CRN_wrong", api_base_url=sandbox.base_url)
    with pytest.raises(CronofyError) as err:
        wrong.revoke(refresh_token="x" * 32)
    assert err.value.status == 401

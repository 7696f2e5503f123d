"""Availability (splitting and merging), channels, service-account authorizations, Smart Invites."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import responses

from cronofy_client import (
    AvailabilityMember,
    AvailabilityQuery,
    AvailableInterval,
    Channel,
    CronofyClient,
    CronofyValidationError,
    ParticipantGroup,
    Period,
    ServiceAccountAuthorizationRequest,
    SmartInviteEvent,
)
from cronofy_client.availability import MAX_REQUEST_SPAN, plan_requests

API = "https://api.cronofy.com"
TOKEN = "acc_token_for_tests"
SECRET = "CRN_current_secret_for_tests"
T0 = datetime(2031, 3, 4, 8, tzinfo=UTC)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def interval(start: float, end: float, *subs: str) -> dict[str, object]:
    return {
        "start": at(start).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "end": at(end).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "participants": [{"sub": s} for s in subs],
    }


def query(**kwargs: object) -> AvailabilityQuery:
    options: dict[str, object] = {
        "members": (AvailabilityMember("acc_1", calendar_ids=("cal_1",)),),
        "required_duration": timedelta(minutes=45),
        "query_periods": (Period(at(0), at(9)),),
    }
    options.update(kwargs)
    return AvailabilityQuery(**options)  # type: ignore[arg-type]


def sent(call: responses.Call) -> dict[str, object]:
    return json.loads(call.request.body or b"")  # type: ignore[no-any-return]


def test_availability_uses_the_client_secret_and_sends_every_option(
    api: responses.RequestsMock, client: CronofyClient
) -> None:
    api.post(f"{API}/v1/availability", json={"available_periods": [interval(1, 2, "acc_1")]})
    q = query(
        buffer_before=timedelta(minutes=10),
        buffer_after=timedelta(minutes=5),
        start_interval=timedelta(minutes=15),
        max_results=20,
        members=(
            AvailabilityMember(
                "acc_1",
                calendar_ids=("cal_1",),
                managed_availability=True,
                availability_rule_ids=("work_hours",),
                available_periods=(Period(at(0), at(4)),),
            ),
        ),
    )
    assert client.availability(q) == [AvailableInterval(at(1), at(2), ("acc_1",))]
    assert api.calls[0].request.headers["Authorization"] == f"Bearer {SECRET}"
    assert sent(api.calls[0]) == {
        "participants": [
            {
                "members": [
                    {
                        "sub": "acc_1",
                        "calendar_ids": ["cal_1"],
                        "managed_availability": True,
                        "availability_rule_ids": ["work_hours"],
                        "available_periods": [
                            {"start": "2031-03-04T08:00:00Z", "end": "2031-03-04T12:00:00Z"}
                        ],
                    }
                ],
                "required": "all",
            }
        ],
        "required_duration": {"minutes": 45},
        "query_periods": [{"start": "2031-03-04T08:00:00Z", "end": "2031-03-04T17:00:00Z"}],
        "response_format": "periods",
        "buffer": {"before": {"minutes": 10}, "after": {"minutes": 5}},
        "start_interval": {"minutes": 15},
        "max_results": 20,
    }


def test_availability_with_access_token_and_groups(
    api: responses.RequestsMock, client: CronofyClient
) -> None:
    api.post(
        f"{API}/v1/availability",
        json={"available_slots": [interval(1, 1.75, "res_2", "acc_1")]},
    )
    q = query(
        members=(),
        groups=(
            ParticipantGroup((AvailabilityMember("acc_1"),)),
            ParticipantGroup((AvailabilityMember("res_1"), AvailabilityMember("res_2")), 1),
        ),
        response_format="slots",
        periods_key="available_periods",
    )
    [slot] = client.availability(q, access_token=TOKEN)
    assert slot.participants == ("acc_1", "res_2")
    assert api.calls[0].request.headers["Authorization"] == f"Bearer {TOKEN}"
    body = sent(api.calls[0])
    participants = body["participants"]
    assert isinstance(participants, list)
    assert participants[1] == {"members": [{"sub": "res_1"}, {"sub": "res_2"}], "required": 1}
    assert "available_periods" in body
    assert "query_periods" not in body


def test_availability_is_retried_as_an_idempotent_post(
    api: responses.RequestsMock, client: CronofyClient
) -> None:
    api.post(f"{API}/v1/availability", status=503)
    api.post(f"{API}/v1/availability", json={"available_periods": []})
    assert client.availability(query()) == []
    assert len(api.calls) == 2


def test_availability_validation_error(api: responses.RequestsMock, client: CronofyClient) -> None:
    api.post(
        f"{API}/v1/availability",
        status=422,
        json={"errors": {"query_periods": [{"key": "errors.too_long", "description": "x"}]}},
    )
    with pytest.raises(CronofyValidationError) as info:
        client.availability(query())
    assert list(info.value.errors) == ["query_periods"]


def test_long_window_is_split_and_periods_merged(
    api: responses.RequestsMock, client: CronofyClient
) -> None:
    days = 80
    long_query = query(query_periods=(Period(T0, T0 + timedelta(days=days)),))
    batches = plan_requests(long_query)
    assert len(batches) == 3
    assert all(b[-1].end - b[0].start <= MAX_REQUEST_SPAN for b in batches)
    assert batches[0][0].start == T0
    assert batches[-1][-1].end == T0 + timedelta(days=days)
    # consecutive pieces overlap by the required duration, so no slot is lost at a cut
    assert batches[1][0].start == batches[0][-1].end - timedelta(minutes=45)
    cut = (batches[0][-1].end - T0).total_seconds() / 3600
    api.post(
        f"{API}/v1/availability",
        json={"available_periods": [interval(1, 2, "acc_1"), interval(cut - 5, cut, "acc_1")]},
    )
    api.post(
        f"{API}/v1/availability",
        json={"available_periods": [interval(cut - 0.75, cut + 3, "acc_1")]},
    )
    api.post(
        f"{API}/v1/availability", json={"available_periods": [interval(cut + 1, cut + 3, "acc_1")]}
    )
    result = client.availability(long_query)
    assert result == [
        AvailableInterval(at(1), at(2), ("acc_1",)),
        AvailableInterval(at(cut - 5), at(cut + 3), ("acc_1",)),
    ]
    for call, batch in zip(api.calls, batches, strict=True):
        periods = sent(call)["query_periods"]
        assert len(periods) == len(batch)  # type: ignore[arg-type]


def test_split_slots_are_deduplicated_and_limited(
    api: responses.RequestsMock, client: CronofyClient
) -> None:
    long_query = query(
        query_periods=(Period(T0, T0 + timedelta(days=40)),),
        response_format="overlapping_slots",
        max_results=3,
    )
    slot_a, slot_b, slot_c, slot_d = (interval(h, h + 0.75, "acc_1") for h in (1, 2, 3, 4))
    api.post(f"{API}/v1/availability", json={"available_slots": [slot_a, slot_b]})
    api.post(f"{API}/v1/availability", json={"available_slots": [slot_b, slot_c, slot_d]})
    result = client.availability(long_query)
    assert [r.start for r in result] == [at(1), at(2), at(3)]


def test_enough_results_stop_further_requests(
    api: responses.RequestsMock, client: CronofyClient
) -> None:
    long_query = query(
        query_periods=(Period(T0, T0 + timedelta(days=100)),),
        response_format="slots",
        max_results=1,
    )
    api.post(
        f"{API}/v1/availability",
        json={"available_slots": [interval(1, 1.75, "a"), interval(2, 2.75, "a")]},
    )
    assert len(client.availability(long_query)) == 1
    assert len(api.calls) == 1


def test_many_short_periods_are_batched_by_fifty() -> None:
    periods = tuple(Period(at(h), at(h + 0.5)) for h in range(0, 120))
    batches = plan_requests(query(query_periods=periods))
    assert [len(b) for b in batches] == [50, 50, 20]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"members": ()},
        {"groups": (ParticipantGroup((AvailabilityMember("a"),)),)},
        {"query_periods": ()},
        {"required_duration": timedelta(seconds=90)},
        {"response_format": "blocks"},
        {"max_results": 0},
    ],
)
def test_invalid_queries_raise(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="members|period|minutes|response_format|max_results"):
        query(**kwargs)


def test_channels(api: responses.RequestsMock, client: CronofyClient) -> None:
    channel = {
        "channel_id": "chn_1",
        "callback_url": "https://svc.test/push/a",
        "filters": {"calendar_ids": ["cal_1"], "only_managed": True},
    }
    api.post(f"{API}/v1/channels", json={"channel": channel})
    api.get(
        f"{API}/v1/channels",
        json={"channels": [channel, {"channel_id": "chn_2", "callback_url": "u"}]},
    )
    api.delete(f"{API}/v1/channels/chn_1", status=202)
    created = client.create_channel(
        TOKEN, callback_url="https://svc.test/push/a", only_managed=True, calendar_ids=["cal_1"]
    )
    assert created == Channel("chn_1", "https://svc.test/push/a", ("cal_1",), True)
    assert sent(api.calls[0]) == {
        "callback_url": "https://svc.test/push/a",
        "filters": {"calendar_ids": ["cal_1"], "only_managed": True},
    }
    assert [c.channel_id for c in client.list_channels(TOKEN)] == ["chn_1", "chn_2"]
    client.close_channel(TOKEN, "chn_1")


def test_single_service_account_authorization_uses_the_single_shape(
    api: responses.RequestsMock, client: CronofyClient
) -> None:
    api.post(f"{API}/v1/service_account_authorizations", status=202)
    request = ServiceAccountAuthorizationRequest(
        "lee@corp.test", "https://svc.test/ec/u1", "read_events", "u1"
    )
    client.authorize_service_account_users("svc_token", [request])
    assert sent(api.calls[0]) == {
        "email": "lee@corp.test",
        "callback_url": "https://svc.test/ec/u1",
        "scope": "read_events",
        "state": "u1",
    }
    assert api.calls[0].request.headers["Authorization"] == "Bearer svc_token"


def test_bulk_service_account_authorizations_are_chunked_by_fifty(
    api: responses.RequestsMock, client: CronofyClient
) -> None:
    for _ in range(3):
        api.post(f"{API}/v1/service_account_authorizations", status=202)
    requests = [
        ServiceAccountAuthorizationRequest(
            f"u{i}@corp.test", f"https://svc.test/ec/{i}", "read_events"
        )
        for i in range(101)
    ]
    client.authorize_service_account_users("svc_token", requests)
    sizes = [len(sent(c)["service_account_authorizations"]) for c in api.calls]  # type: ignore[arg-type]
    assert sizes == [50, 50, 1]
    assert sent(api.calls[2])["service_account_authorizations"] == [
        {
            "email": "u100@corp.test",
            "callback_url": "https://svc.test/ec/100",
            "scope": "read_events",
        }
    ]


def test_no_service_account_requests_sends_nothing(
    api: responses.RequestsMock, client: CronofyClient
) -> None:
    client.authorize_service_account_users("svc_token", [])
    assert len(api.calls) == 0


INVITE = {
    "recipient": {"email": "guest@example.net", "status": "pending"},
    "smart_invite_id": "inv-1",
    "callback_url": "https://svc.test/si",
    "event": {
        "summary": "Viewing",
        "start": {"time": "2031-03-04T09:30:00Z", "tzid": "Europe/London"},
        "end": {"time": "2031-03-04T10:00:00Z", "tzid": "Europe/London"},
    },
    "attachments": {"icalendar": "BEGIN:VCALENDAR"},
}


def test_smart_invite_upsert_cancel_and_status(
    api: responses.RequestsMock, client: CronofyClient
) -> None:
    api.post(f"{API}/v1/smart_invites", status=202, json=INVITE)
    api.post(f"{API}/v1/smart_invites", json={**INVITE, "attachments": {"icalendar": "CANCEL"}})
    api.get(
        f"{API}/v1/smart_invites",
        json={
            **INVITE,
            "recipient": {"email": "guest@example.net", "status": "accepted"},
            "replies": [{"email": "guest@example.net", "status": "accepted"}],
        },
    )
    event = SmartInviteEvent("Viewing", at(1.5), at(2), tzid="Europe/London", location="12 High St")
    invite = client.upsert_smart_invite(
        "inv-1",
        "guest@example.net",
        event,
        callback_url="https://svc.test/si",
        organizer_name="Acme",
    )
    assert (invite.recipient_status, invite.icalendar) == ("pending", "BEGIN:VCALENDAR")
    assert invite.event_start == at(1.5)
    assert sent(api.calls[0]) == {
        "smart_invite_id": "inv-1",
        "recipient": {"email": "guest@example.net"},
        "callback_url": "https://svc.test/si",
        "organizer": {"name": "Acme"},
        "event": {
            "summary": "Viewing",
            "start": "2031-03-04T09:30:00Z",
            "end": "2031-03-04T10:00:00Z",
            "tzid": "Europe/London",
            "location": {"description": "12 High St"},
        },
    }
    cancelled = client.cancel_smart_invite("inv-1", "guest@example.net")
    assert cancelled.icalendar == "CANCEL"
    assert sent(api.calls[1]) == {
        "smart_invite_id": "inv-1",
        "method": "cancel",
        "recipient": {"email": "guest@example.net"},
    }
    status = client.smart_invite_status("inv-1", "guest@example.net")
    assert status.recipient_status == "accepted"
    assert [r.status for r in status.replies] == ["accepted"]
    assert "recipient_email=guest%40example.net" in (api.calls[2].request.url or "")
    assert all(c.request.headers["Authorization"] == f"Bearer {SECRET}" for c in api.calls)

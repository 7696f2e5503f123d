"""Push notifications: verification, change (within 2 s, correctly signed), disconnects."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from datetime import UTC, datetime, timedelta

import pytest
import requests

from cronofy_client import WebhookVerifier
from cronofy_sandbox import SandboxConfig

START = datetime(2031, 3, 4, 9, 0, tzinfo=UTC)


def _channel(sandbox, token, url, **filters):
    body = {"callback_url": url, **({"filters": filters} if filters else {})}
    resp = requests.post(
        f"{sandbox.base_url}/v1/channels",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    assert resp.status_code == 200, resp.text
    return resp.json()["channel"]


def test_change_notification_arrives_signed_within_two_seconds(sandbox, connect, receiver):
    grant = connect()
    channel = _channel(sandbox, grant["access_token"], f"{receiver.url}/push/abc")
    receiver.next_of("verification")
    calendar_id = sandbox.control.calendar_id("ada@demo.test")
    before = datetime.now(UTC).replace(microsecond=0)
    started = time.monotonic()
    sandbox.control.add_event(calendar_id, "Dentist", START, START + timedelta(hours=1))
    got = receiver.next_of("change", timeout=2.0)
    assert time.monotonic() - started < 2.0
    assert got.path == "/push/abc"
    header = got.headers["Cronofy-HMAC-SHA256"]
    assert WebhookVerifier([sandbox.client_secret]).verify(got.body, header)
    expected = base64.b64encode(
        hmac.new(sandbox.client_secret.encode(), got.body, hashlib.sha256).digest()
    ).decode()
    assert header == expected
    payload = got.json()
    assert payload["channel"]["channel_id"] == channel["channel_id"]
    since = datetime.fromisoformat(payload["notification"]["changes_since"].replace("Z", "+00:00"))
    assert since >= before


def test_changes_since_finds_the_change(sandbox, connect, receiver):
    grant = connect()
    _channel(sandbox, grant["access_token"], f"{receiver.url}/push")
    calendar_id = sandbox.control.calendar_id("ada@demo.test")
    uid = sandbox.control.add_event(calendar_id, "Gym", START, START + timedelta(hours=1))
    since = receiver.next_of("change").json()["notification"]["changes_since"]
    sandbox.control.move_event(uid, START + timedelta(hours=3), START + timedelta(hours=4))
    since = receiver.next_of("change").json()["notification"]["changes_since"]
    resp = requests.get(
        f"{sandbox.base_url}/v1/events",
        params={
            "tzid": "Etc/UTC",
            "last_modified": since,
            "include_moved": "true",
            "include_deleted": "true",
            "from": "2031-03-01",
            "to": "2031-03-10",
        },
        headers={"Authorization": f"Bearer {grant['access_token']}"},
        timeout=5,
    )
    assert [(e["event_uid"], e["start"]) for e in resp.json()["events"]] == [
        (uid, "2031-03-04T12:00:00Z")
    ]


def test_channel_filters_skip_other_calendars_and_only_managed(sandbox, connect, receiver):
    grant = connect()
    primary = sandbox.control.calendar_id("ada@demo.test")
    other = sandbox.control.calendar_id("ada@demo.test", primary=False)
    _channel(sandbox, grant["access_token"], f"{receiver.url}/cal", calendar_ids=[primary])
    _channel(sandbox, grant["access_token"], f"{receiver.url}/managed", only_managed=True)
    receiver.next_of("verification")
    receiver.next_of("verification")
    sandbox.control.add_event(other, "Elsewhere", START, START + timedelta(hours=1))
    sandbox.control.add_event(primary, "Here", START, START + timedelta(hours=1))
    got = receiver.next_of("change")
    assert got.path == "/cal"
    with pytest.raises(pytest.fail.Exception):
        receiver.next(timeout=0.5)


def _upsert(sandbox, token, calendar_id, event_id="b1", start="2031-03-04T09:00:00Z"):
    resp = requests.post(
        f"{sandbox.base_url}/v1/calendars/{calendar_id}/events",
        json={
            "event_id": event_id,
            "summary": "Lesson",
            "start": start,
            "end": start[:11] + "23:00:00Z",
        },
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    assert resp.status_code == 202, resp.text


def _read_changes(sandbox, token, since):
    resp = requests.get(
        f"{sandbox.base_url}/v1/events",
        params={
            "tzid": "Etc/UTC",
            "last_modified": since,
            "include_deleted": "true",
            "include_managed": "true",
            "from": "2031-03-01",
            "to": "2031-03-10",
        },
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    return [(e["event_id"], e["deleted"]) for e in resp.json()["events"]]


def test_api_upsert_and_delete_notify_like_calendar_changes(sandbox, connect, receiver):
    # Cronofy: "whether they are the events your app creates or the user created".
    grant = connect()
    token = grant["access_token"]
    _channel(sandbox, token, f"{receiver.url}/push")
    receiver.next_of("verification")
    calendar_id = sandbox.control.calendar_id("ada@demo.test")
    _upsert(sandbox, token, calendar_id)
    since = receiver.next_of("change").json()["notification"]["changes_since"]
    assert _read_changes(sandbox, token, since) == [("b1", False)]
    resp = requests.delete(
        f"{sandbox.base_url}/v1/calendars/{calendar_id}/events",
        json={"event_id": "b1"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    assert resp.status_code == 202
    since = receiver.next_of("change").json()["notification"]["changes_since"]
    assert _read_changes(sandbox, token, since) == [("b1", True)]


def test_only_managed_channels_hear_api_writes_and_not_the_persons_own(sandbox, connect, receiver):
    grant = connect()
    token = grant["access_token"]
    primary = sandbox.control.calendar_id("ada@demo.test")
    other = sandbox.control.calendar_id("ada@demo.test", primary=False)
    _channel(sandbox, token, f"{receiver.url}/managed", only_managed=True)
    _channel(sandbox, token, f"{receiver.url}/other", calendar_ids=[other])
    receiver.next_of("verification")
    receiver.next_of("verification")
    sandbox.control.add_event(primary, "Own", START, START + timedelta(hours=1))
    _upsert(sandbox, token, primary)
    got = receiver.next_of("change")
    assert (got.path, got.json()["channel"]["filters"]) == ("/managed", {"only_managed": True})
    with pytest.raises(pytest.fail.Exception):
        receiver.next(timeout=0.5)


def test_bulk_delete_notifies_each_channel_once(sandbox, connect, receiver):
    grant = connect()
    token = grant["access_token"]
    calendar_id = sandbox.control.calendar_id("ada@demo.test")
    for event_id in ("a", "b", "c"):
        _upsert(sandbox, token, calendar_id, event_id)
    _channel(sandbox, token, f"{receiver.url}/push")
    receiver.next_of("verification")
    resp = requests.delete(
        f"{sandbox.base_url}/v1/events",
        json={"delete_all": True},
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    assert resp.status_code == 202
    since = receiver.next_of("change").json()["notification"]["changes_since"]
    assert sorted(_read_changes(sandbox, token, since)) == [("a", True), ("b", True), ("c", True)]
    with pytest.raises(pytest.fail.Exception):
        receiver.next(timeout=0.5)


def test_profile_disconnected_is_sent(sandbox, connect, receiver):
    grant = connect()
    _channel(sandbox, grant["access_token"], f"{receiver.url}/push")
    receiver.next_of("verification")
    assert sandbox.control.disconnect_profile(grant["linking_profile"]["profile_id"]) == 1
    assert receiver.next_of("profile_disconnected").json()["notification"] == {
        "type": "profile_disconnected"
    }


def test_identical_channel_create_returns_existing_without_new_verification(
    sandbox, connect, receiver
):
    grant = connect()
    first = _channel(sandbox, grant["access_token"], f"{receiver.url}/push")
    second = _channel(sandbox, grant["access_token"], f"{receiver.url}/push")
    assert first == second
    receiver.next_of("verification")
    with pytest.raises(pytest.fail.Exception):
        receiver.next(timeout=0.3)


class TestRetries:
    @pytest.fixture
    def sandbox_config(self):
        return SandboxConfig(
            client_secrets=("CRN_sandbox_secret", "CRN_old_secret"),
            delivery_attempts=3,
            delivery_backoff=0.05,
        )

    def test_failed_delivery_is_retried_then_given_up(self, sandbox, connect, receiver):
        receiver.status = 500
        grant = connect()
        _channel(sandbox, grant["access_token"], f"{receiver.url}/push")
        for _ in range(3):
            receiver.next_of("verification")
        sandbox.app.extensions["cronofy_sandbox"].deliverer.wait_idle(5)
        assert [(d["attempts"], d["outcome"]) for d in sandbox.control.deliveries()] == [
            (3, "failed")
        ]

    def test_header_has_one_digest_per_active_secret(self, sandbox, connect, receiver):
        grant = connect()
        _channel(sandbox, grant["access_token"], f"{receiver.url}/push")
        got = receiver.next_of("verification")
        parts = got.headers["Cronofy-HMAC-SHA256"].split(",")
        assert len(parts) == 2
        assert WebhookVerifier(["CRN_old_secret"]).verify(got.body, parts[1])
        assert not WebhookVerifier(["CRN_other"]).verify(
            got.body, got.headers["Cronofy-HMAC-SHA256"]
        )

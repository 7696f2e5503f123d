"""A burst of change notifications queues one calendar sync, not one per notification
(webapp/sync_queue.py), with the broker on the real Redis and no worker running."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient

from cronofy_client import HMAC_HEADER, sign_body
from tests.integration.connect.conftest import PUBLIC_BASE_URL, Wiring, connect, the_connection
from tests.webapp_fixtures import People
from webapp.extensions import CALENDAR_SYNC_TASK
from webapp.services import connections
from webapp.sync_queue import RedisMarks, get_sync_queue
from webapp.tasks import sweep_calendar_syncs, sync_calendar

pytestmark = pytest.mark.redis


@pytest.fixture
def app_overrides(idle_broker_url: str) -> dict[str, Any]:
    """Production's shape: a broker no worker listens to; the test runs tasks itself."""
    return {"PUBLIC_BASE_URL": PUBLIC_BASE_URL, "CELERY_BROKER_URL": idle_broker_url}


def queued_syncs(broker_url: str) -> list[int]:
    """Connection ids of the calendar syncs waiting in the broker's default queue."""
    broker = redis.Redis.from_url(broker_url, socket_timeout=5, socket_connect_timeout=5)
    ids = []
    for raw in broker.lrange("celery", 0, -1):
        message = json.loads(raw)
        if message["headers"]["task"] == CALENDAR_SYNC_TASK:
            args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
            ids.append(int(args[0]))
    return ids


def connected(
    app: Flask, instructor: FlaskClient, people: People, wiring: Wiring
) -> tuple[int, str, str]:
    """Ada connected: her connection id, channel id and the secret path of her push URL."""
    assert connect(instructor, "read_write").status_code == 302
    conn = the_connection(app, people.instructor_id)
    assert conn is not None
    assert conn.channel_id
    with app.app_context():
        token = connections.access_token(wiring.cronofy, conn.id)
    channel = next(
        c for c in wiring.cronofy.list_channels(token) if c.channel_id == conn.channel_id
    )
    return conn.id, conn.channel_id, "/" + channel.callback_url.split("/", 3)[3]


def change(client: FlaskClient, path: str, channel_id: str, n: int, secret: str) -> int:
    """Post the n-th distinct signed change notification; its status code."""
    body = json.dumps({
        "notification": {"type": "change", "changes_since": f"2026-12-01T00:00:{n:02d}Z"},
        "channel": {"channel_id": channel_id, "callback_url": "https://x/y", "filters": {}},
    }).encode()  # fmt: skip
    headers = {HMAC_HEADER: sign_body(body, secret), "Content-Type": "application/json"}
    return client.post(path, data=body, headers=headers).status_code


def test_a_burst_queues_one_sync_and_a_started_sync_lets_the_next_change_queue_again(
    app: Flask, instructor: FlaskClient, people: People, wiring: Wiring, idle_broker_url: str
) -> None:
    connection_id, channel_id, path = connected(app, instructor, people, wiring)
    assert queued_syncs(idle_broker_url) == [connection_id]  # the full sync of connecting
    client, secret = app.test_client(), wiring.sandbox.client_secret
    assert [change(client, path, channel_id, n, secret) for n in range(30)] == [202] * 30
    assert queued_syncs(idle_broker_url) == [connection_id] * 2  # one for the 30 changes

    with app.app_context():  # a worker starts that run (this app has no Bookly: it stops there)
        sync_calendar(connection_id)
    assert change(client, path, channel_id, 30, secret) == 202
    assert queued_syncs(idle_broker_url) == [connection_id] * 3  # a change after it queues again
    assert change(client, path, channel_id, 31, secret) == 202
    assert queued_syncs(idle_broker_url) == [connection_id] * 3


def test_the_sweep_queues_pending_changes_whatever_the_markers_say(
    app: Flask, instructor: FlaskClient, people: People, wiring: Wiring, idle_broker_url: str
) -> None:
    """A marker whose message was lost (a worker killed with it) does not strand changes."""
    connection_id, channel_id, path = connected(app, instructor, people, wiring)
    assert change(app.test_client(), path, channel_id, 0, wiring.sandbox.client_secret) == 202
    redis.Redis.from_url(idle_broker_url, socket_timeout=5, socket_connect_timeout=5).delete(
        "celery"
    )  # the queued run is lost; its marker stays until it expires
    with app.app_context():
        assert get_sync_queue().claim(connection_id) is False
        assert sweep_calendar_syncs() == 1
    assert queued_syncs(idle_broker_url) == [connection_id]


def test_markers_are_per_database_and_a_deferred_run_is_marked(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=5)
    ours, theirs = RedisMarks(client, "ours-test"), RedisMarks(client, "theirs-test")
    try:
        assert ours.claim(7) is True
        assert ours.claim(7) is False
        assert theirs.claim(7) is True  # another deployment sharing the Redis
        ours.clear(7)
        assert ours.claim(7) is True
        ours.clear(7)
        ours.mark(7, 2.5)  # a burst deferred for 2.5 s: its delayed run is queued
        assert ours.claim(7) is False
        assert 60 < client.ttl("sync-queued:ours-test:7") <= 63
    finally:
        client.delete("sync-queued:ours-test:7", "sync-queued:theirs-test:7")


def test_a_redis_that_does_not_answer_never_keeps_a_sync_from_being_queued(
    caplog: pytest.LogCaptureFixture,
) -> None:
    marks = RedisMarks.from_url("redis://127.0.0.1:9/0", "nobody")
    assert marks.claim(1) is True
    marks.mark(1, 2.0)
    marks.clear(1)
    assert "sync queue marker" in caplog.text

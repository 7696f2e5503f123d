"""Celery over the real Redis (db 15): a worker in this process, beat's schedule, settings.

The worker runs in a thread (solo pool) with its own unique queue, so it only ever sees the
messages of the test that started it; every Redis key the test created is deleted afterwards.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
import redis
from celery import Celery, _state
from celery.beat import Scheduler
from celery.contrib.testing.worker import start_worker
from flask import Flask

from webapp.database import utcnow
from webapp.extensions import CLEANUP_TASK, db, worker_celery
from webapp.models import OutboxJob, OutboxStatus
from webapp.services import revocation

pytestmark = pytest.mark.redis

INTERVAL_SECONDS = 17
WAIT_SECONDS = 10.0


@pytest.fixture
def app_overrides(redis_url: str) -> dict[str, Any]:
    """Broker and result backend on the test Redis; a non-default beat interval."""
    return {
        "CELERY_BROKER_URL": redis_url,
        "CELERY_RESULT_BACKEND": redis_url,
        "DISCONNECT_CLEANUP_INTERVAL_SECONDS": str(INTERVAL_SECONDS),
    }


@pytest.fixture
def redis_db(redis_url: str) -> Iterator[redis.Redis]:
    """The test Redis database; keys created during the test are deleted afterwards."""
    client = redis.Redis.from_url(redis_url)
    before = set(client.scan_iter(count=1000))
    try:
        yield client
    finally:
        created = set(client.scan_iter(count=1000)) - before
        if created:
            client.delete(*created)
        client.close()


@pytest.fixture
def celery_app(
    app: Flask, redis_db: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Celery]:
    """The worker's Celery instance of ``app``, on a queue of its own."""
    monkeypatch.setattr(_state, "default_app", _state.default_app)
    monkeypatch.setattr(_state._tls, "current_app", None, raising=False)
    app.extensions["celery"].conf.task_default_queue = f"test-{uuid.uuid4().hex}"
    celery = worker_celery(app)
    yield celery
    celery.close()


@contextmanager
def running_worker(celery: Celery) -> Iterator[None]:
    """A worker consuming the app's queue from a thread, stopped on exit."""
    with start_worker(celery, pool="solo", perform_ping_check=False, shutdown_timeout=10.0):
        yield


def queue_due_job(app: Flask) -> int:
    """One due clean-up job that needs nothing outside our database; its id."""
    with app.app_context():
        job = revocation.queue_block_deletion([])
        job.next_attempt_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        return job.id


def job_status(app: Flask, job_id: int) -> OutboxStatus:
    """The stored status of an outbox job."""
    with app.app_context():
        job = db.session.get(OutboxJob, job_id)
        assert job is not None
        return job.status


def test_delay_travels_through_redis_and_runs_in_the_app_context(
    app: Flask, celery_app: Celery, redis_db: redis.Redis
) -> None:
    from webapp.tasks import finish_disconnects

    job_id = queue_due_job(app)
    result = finish_disconnects.delay()
    assert not celery_app.conf.task_always_eager
    assert redis_db.llen(celery_app.conf.task_default_queue) == 1  # waiting in Redis

    with running_worker(celery_app):
        assert result.get(timeout=WAIT_SECONDS) == 1  # get_clients() needs the app context

    assert redis_db.llen(celery_app.conf.task_default_queue) == 0
    assert redis_db.exists(f"celery-task-meta-{result.id}")
    assert job_status(app, job_id) is OutboxStatus.DONE


def test_beat_sends_finish_disconnects_every_configured_interval(
    app: Flask, celery_app: Celery
) -> None:
    scheduler = Scheduler(app=celery_app)
    entry = scheduler.schedule["finish-disconnects"]
    assert entry.task == CLEANUP_TASK
    assert entry.schedule.run_every == timedelta(seconds=INTERVAL_SECONDS)
    job_id = queue_due_job(app)

    with running_worker(celery_app):  # declares the queue beat publishes to
        try:
            result = scheduler.apply_async(entry, advance=False)
        finally:
            scheduler.close()
        assert result.get(timeout=WAIT_SECONDS) == 1

    assert job_status(app, job_id) is OutboxStatus.DONE

"""Retention (reliability requirement 25, last point): history older than RETENTION_DAYS is
deleted by the periodic task; unfinished work is kept whatever its age."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from webapp.config import ConfigError
from webapp.extensions import RETENTION_TASK, beat_schedule, db
from webapp.models import InboundNotification, OutboxJob, OutboxStatus
from webapp.services import retention

NOW = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def notification(name: str, received: datetime, processed: datetime | None) -> None:
    db.session.add(
        InboundNotification(body_hash=name.ljust(64, "0"), notification_type="change",
                            body="{}", received_at=received, processed_at=processed)
    )  # fmt: skip


def job(name: str, status: OutboxStatus, updated: datetime) -> None:
    db.session.add(
        OutboxJob(kind="test", payload={"name": name}, status=status, created_at=updated,
                  updated_at=updated, next_attempt_at=updated)
    )  # fmt: skip


def left(app: Flask) -> tuple[list[str], list[str]]:
    with app.app_context():
        hashes = db.session.scalars(sa.select(InboundNotification.body_hash)).all()
        payloads = db.session.scalars(sa.select(OutboxJob.payload)).all()
    return sorted(h.rstrip("0") for h in hashes), sorted(p["name"] for p in payloads)


@pytest.mark.requirement(25)
def test_old_history_is_deleted_and_unfinished_work_is_kept(app: Flask) -> None:
    with app.app_context():
        notification("a", days_ago(40), days_ago(40))  # processed 40 days ago: goes
        notification("b", days_ago(40), days_ago(29))  # processed 29 days ago: stays
        notification("c", days_ago(90), None)  # never processed: stays (it is work)
        job("old-done", OutboxStatus.DONE, days_ago(31))
        job("new-done", OutboxStatus.DONE, days_ago(1))
        job("old-pending", OutboxStatus.PENDING, days_ago(60))
        job("old-dead", OutboxStatus.DEAD, days_ago(60))  # admins still need to see it
        db.session.commit()
        purged = retention.purge_expired(days=30, now=NOW)
    assert purged == retention.Purged(notifications=1, jobs=1)
    assert left(app) == (["b", "c"], ["new-done", "old-dead", "old-pending"])
    with app.app_context():
        again = retention.purge_expired(days=30, now=NOW)
    assert again == retention.Purged(0, 0)


def test_a_shorter_retention_deletes_sooner(app: Flask) -> None:
    with app.app_context():
        notification("a", days_ago(3), days_ago(3))
        job("done", OutboxStatus.DONE, days_ago(3))
        db.session.commit()
        assert retention.purge_expired(days=7, now=NOW) == retention.Purged(0, 0)
        assert retention.purge_expired(days=2, now=NOW) == retention.Purged(1, 1)


def test_the_task_uses_the_configured_days_and_beat_runs_it(app: Flask, make_app: Any) -> None:
    five_days = make_app(RETENTION_DAYS="5")  # on app's database, whose schema app made
    assert five_days.config["RETENTION_DAYS"] == 5
    with five_days.app_context():
        six_days_ago = datetime.now(UTC) - timedelta(days=6)
        notification("a", six_days_ago, six_days_ago)
        notification("b", six_days_ago, datetime.now(UTC) - timedelta(days=4))
        db.session.commit()
        ran = five_days.extensions["celery"].tasks[RETENTION_TASK].delay()  # eager: no broker
        # A worker started in this process by another test leaves Celery's "inside a task"
        # guard on; this is a test reading an eager result, not a task waiting on another.
        assert ran.get(disable_sync_subtasks=False) == 1
    assert left(app) == (["b"], [])
    assert beat_schedule(five_days.config)["purge-expired"]["task"] == RETENTION_TASK


@pytest.mark.parametrize("raw", ["0", "-3", "thirty", "1.5"])
def test_a_retention_that_is_not_whole_days_is_refused(make_app: Any, raw: str) -> None:
    with pytest.raises(ConfigError, match="RETENTION_DAYS must be a whole number of days"):
        make_app(RETENTION_DAYS=raw)

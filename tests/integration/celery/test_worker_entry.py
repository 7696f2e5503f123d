"""The worker entry module and the Celery settings every deployment gets (no broker needed)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from types import ModuleType

import pytest
from celery import _state
from celery.app.utils import find_app
from flask import Flask

from tests.webapp_fixtures import MakeApp
from webapp.config import ConfigError
from webapp.extensions import CLEANUP_TASK, db
from webapp.services.revocation import BACKOFF_BASE

BROKER = "redis://127.0.0.1:6379/15"  # never connected to here


@pytest.fixture
def worker_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """``webapp.worker`` imported afresh from a demo environment with a broker and interval."""
    for name, value in {
        "BRIDGE_ENV": "demo",
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "CELERY_BROKER_URL": BROKER,
        "DISCONNECT_CLEANUP_INTERVAL_SECONDS": "45",
        "LOG_LEVEL": "WARNING",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(_state, "default_app", _state.default_app)
    monkeypatch.setattr(_state._tls, "current_app", None, raising=False)
    monkeypatch.delitem(sys.modules, "webapp.worker", raising=False)
    module = importlib.import_module("webapp.worker")
    yield module
    sys.modules.pop("webapp.worker", None)
    flask_app: Flask = module.flask_app
    with flask_app.app_context():
        db.engine.dispose()
    module.celery.close()


def test_celery_a_finds_the_celery_instance_of_the_flask_app(worker_module: ModuleType) -> None:
    celery = find_app("webapp.worker")  # what `celery -A webapp.worker` resolves
    assert celery is worker_module.celery
    assert celery is worker_module.flask_app.extensions["celery"]
    assert CLEANUP_TASK in celery.tasks
    assert celery.conf.task_always_eager is False
    assert celery.conf.broker_url == BROKER


def test_beat_interval_comes_from_the_environment(worker_module: ModuleType) -> None:
    entry = worker_module.celery.conf.beat_schedule["finish-disconnects"]
    assert entry["task"] == CLEANUP_TASK
    assert entry["schedule"] == timedelta(seconds=45)
    assert entry["options"]["expires"] == 45.0  # a stale wake-up is dropped, not piled up


def test_default_interval_is_a_minute(app: Flask) -> None:
    entry = app.extensions["celery"].conf.beat_schedule["finish-disconnects"]
    assert entry["schedule"] == timedelta(seconds=60)


@pytest.mark.parametrize("bad", ["soon", "0", "-5", "inf"])
def test_an_unusable_interval_stops_start_up_naming_the_variable(
    make_app: MakeApp, bad: str
) -> None:
    with pytest.raises(ConfigError, match="DISCONNECT_CLEANUP_INTERVAL_SECONDS"):
        make_app(DISCONNECT_CLEANUP_INTERVAL_SECONDS=bad)


def test_delivery_settings_follow_the_reliability_notes(make_app: MakeApp) -> None:
    conf = make_app(CELERY_BROKER_URL=BROKER).extensions["celery"].conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.accept_content == ["json"]
    assert conf.task_serializer == conf.result_serializer == "json"
    visibility = conf.broker_transport_options["visibility_timeout"]
    # Longer than any run (hard limit) and any countdown we send (at most BACKOFF_BASE).
    assert 0 < conf.task_soft_time_limit < conf.task_time_limit < visibility
    assert visibility > BACKOFF_BASE.total_seconds()
    assert conf.result_backend is None
    assert conf.task_ignore_result is True

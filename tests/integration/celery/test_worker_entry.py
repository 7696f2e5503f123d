"""The worker entry module: what `celery -A webapp.worker` finds and what it reads (no broker).

Delivery through Redis, a worker running tasks and beat's schedule are exercised in
test_worker_redis.py.
"""

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


@pytest.mark.parametrize("bad", ["soon", "0", "-5", "inf"])
def test_an_unusable_interval_stops_start_up_naming_the_variable(
    make_app: MakeApp, bad: str
) -> None:
    with pytest.raises(ConfigError, match="DISCONNECT_CLEANUP_INTERVAL_SECONDS"):
        make_app(DISCONNECT_CLEANUP_INTERVAL_SECONDS=bad)

"""Flask extensions, created bare and bound in ``create_app`` with ``init_app``."""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from celery import Celery, Task
from flask import Flask, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from webapp.config import ConfigError, env_defaults
from webapp.database import Base

log = logging.getLogger(__name__)

db = SQLAlchemy(model_class=Base)
migrate = Migrate(render_as_batch=True, compare_type=True)
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def push_channel_key() -> str:
    """Rate-limit key of a push delivery: its channel's URL token (hashed), not the sender's
    address, since Cronofy sends every instructor's notifications from a few addresses."""
    token = str((request.view_args or {}).get("token", ""))
    return f"push-channel:{hashlib.sha256(token.encode()).hexdigest()[:32]}"


def login_account_key() -> str:
    """Rate-limit key of a login attempt: the e-mail tried, normalised."""
    email = request.form.get("email", "").strip().lower()
    return f"login-account:{email}"


CLEANUP_TASK = "webapp.tasks.finish_disconnects"
BOOKING_SYNC_TASK = "webapp.tasks.deliver_bookings"
BOOKING_SYNC_INTERVAL = timedelta(seconds=30)
CALENDAR_SYNC_TASK = "webapp.tasks.sync_calendar"
CALENDAR_SWEEP_TASK = "webapp.tasks.sweep_calendar_syncs"
# The sweep runs whatever a lost or failed kick left pending (worker killed after the ack).
CALENDAR_SWEEP_INTERVAL = timedelta(seconds=60)
CLEANUP_INTERVAL_VAR = "DISCONNECT_CLEANUP_INTERVAL_SECONDS"
BOOKLY_POLL_TASK = "webapp.tasks.poll_bookly"
BOOKLY_MIRROR_TASK = "webapp.tasks.mirror_bookly"
# Mirror jobs that failed are retried by this sweep (a poll that queues jobs kicks it too).
BOOKLY_MIRROR_INTERVAL = timedelta(seconds=30)
CALENDAR_RECONCILE_TASK = "webapp.tasks.reconcile_calendar"
CALENDARS_RECONCILE_TASK = "webapp.tasks.reconcile_calendars"
RETENTION_TASK = "webapp.tasks.purge_expired"
# Connection upkeep (webapp/services/upkeep.py): tokens renewed ahead, channels checked.
TOKENS_RENEW_TASK = "webapp.tasks.renew_tokens"
TOKENS_RENEW_INTERVAL = timedelta(minutes=10)
CHANNELS_CHECK_TASK = "webapp.tasks.check_channels"
CHANNELS_CHECK_INTERVAL = timedelta(hours=1)
RETENTION_INTERVAL = timedelta(hours=1)
# Redis redelivers an unacked message after this long. It must exceed the longest task run
# and the longest countdown/ETA we send (the disconnect clean-up waits at most 30 s), or a
# message runs twice (reliability §4.3). Redis' own default is 1 hour.
BROKER_VISIBILITY_TIMEOUT = timedelta(hours=2)
# A finish_disconnects run claims each job for 2 minutes; a run is cut off well before
# the visibility timeout. Both limits need the prefork pool (the default).
TASK_SOFT_TIME_LIMIT = timedelta(minutes=4)
TASK_TIME_LIMIT = timedelta(minutes=5)


def cleanup_interval(config: Mapping[str, Any]) -> timedelta:
    """Seconds between two beat runs of finish_disconnects (ConfigError when not positive)."""
    raw = config.get(CLEANUP_INTERVAL_VAR) or env_defaults()[CLEANUP_INTERVAL_VAR]
    try:
        seconds = float(raw or "")
    except (TypeError, ValueError):
        raise ConfigError(f"{CLEANUP_INTERVAL_VAR} must be a number of seconds") from None
    if not (seconds > 0 and math.isfinite(seconds)):
        raise ConfigError(f"{CLEANUP_INTERVAL_VAR} must be more than 0 seconds")
    return timedelta(seconds=seconds)


def bookly_poll_interval(config: Mapping[str, Any]) -> timedelta:
    """How often Bookly's log is read (BOOKLY_POLL_SECONDS, already validated by the config)."""
    return timedelta(seconds=float(config.get("BOOKLY_POLL_SECONDS") or 15))


def beat_schedule(config: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The periodic tasks beat sends; a wake-up older than one period is dropped."""
    every = cleanup_interval(config)
    poll = bookly_poll_interval(config)
    reconcile = timedelta(minutes=float(config.get("RECONCILE_MINUTES") or 15))
    return {
        "reconcile-calendars": {
            "task": CALENDARS_RECONCILE_TASK,
            "schedule": reconcile,
            "options": {"expires": reconcile.total_seconds()},
        },
        "poll-bookly": {
            "task": BOOKLY_POLL_TASK,
            "schedule": poll,
            "options": {"expires": poll.total_seconds()},
        },
        "mirror-bookly": {
            "task": BOOKLY_MIRROR_TASK,
            "schedule": BOOKLY_MIRROR_INTERVAL,
            "options": {"expires": BOOKLY_MIRROR_INTERVAL.total_seconds()},
        },
        "deliver-bookings": {
            "task": BOOKING_SYNC_TASK,
            "schedule": BOOKING_SYNC_INTERVAL,
            "options": {"expires": BOOKING_SYNC_INTERVAL.total_seconds()},
        },
        "sweep-calendar-syncs": {
            "task": CALENDAR_SWEEP_TASK,
            "schedule": CALENDAR_SWEEP_INTERVAL,
            "options": {"expires": CALENDAR_SWEEP_INTERVAL.total_seconds()},
        },
        "renew-tokens": {
            "task": TOKENS_RENEW_TASK,
            "schedule": TOKENS_RENEW_INTERVAL,
            "options": {"expires": TOKENS_RENEW_INTERVAL.total_seconds()},
        },
        "check-channels": {
            "task": CHANNELS_CHECK_TASK,
            "schedule": CHANNELS_CHECK_INTERVAL,
            "options": {"expires": CHANNELS_CHECK_INTERVAL.total_seconds()},
        },
        "purge-expired": {
            "task": RETENTION_TASK,
            "schedule": RETENTION_INTERVAL,
            "options": {"expires": RETENTION_INTERVAL.total_seconds()},
        },
        "finish-disconnects": {
            "task": CLEANUP_TASK,
            "schedule": every,
            # The outbox is the source of truth: a stale wake-up adds nothing.
            "options": {"expires": every.total_seconds()},
        },
    }


def celery_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """Celery settings from our config: eager without a broker, Redis otherwise."""
    broker = config.get("CELERY_BROKER_URL")
    # Results are only kept when a backend is configured (tests); the outbox holds the truth.
    results = config.get("CELERY_RESULT_BACKEND")
    return {
        "broker_url": broker or "memory://",
        "broker_connection_retry_on_startup": True,
        "broker_transport_options": {
            "visibility_timeout": int(BROKER_VISIBILITY_TIMEOUT.total_seconds())
        },
        "result_backend": results,
        "task_ignore_result": not results,
        "task_always_eager": not broker,
        "task_eager_propagates": True,
        # Tasks are idempotent: redeliver a task whose worker died instead of losing it.
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_cancel_long_running_tasks_on_connection_loss": True,
        "worker_prefetch_multiplier": 1,
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "result_accept_content": ["json"],
        "task_soft_time_limit": int(TASK_SOFT_TIME_LIMIT.total_seconds()),
        "task_time_limit": int(TASK_TIME_LIMIT.total_seconds()),
        # Keep our logging set-up (it redacts secrets); Celery would replace the root handlers.
        "worker_hijack_root_logger": False,
        "beat_schedule": beat_schedule(config),
        "timezone": "UTC",
        "enable_utc": True,
    }


def init_celery(app: Flask) -> Celery:
    """Create the app's Celery instance; its tasks run inside ``app.app_context()``."""

    class FlaskTask(Task):  # type: ignore[misc]
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.import_name, task_cls=FlaskTask, set_as_current=False)
    celery_app.conf.update(celery_settings(app.config))
    app.extensions["celery"] = celery_app
    log.debug("celery configured (eager=%s)", celery_app.conf.task_always_eager)
    return celery_app


def worker_celery(app: Flask) -> Celery:
    """The Celery instance a worker or beat runs: our tasks registered, made the default."""
    import webapp.tasks  # noqa: F401 - shared_task registers finish_disconnects on finalize

    celery_app: Celery = app.extensions["celery"]
    celery_app.set_default()  # module-level task proxies (tasks.finish_disconnects) use it
    celery_app.finalize(auto=True)
    return celery_app

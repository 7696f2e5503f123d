"""Flask extensions, created bare and bound in ``create_app`` with ``init_app``."""

from __future__ import annotations

import logging
from typing import Any

from celery import Celery, Task
from flask import Flask, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from webapp.database import Base

log = logging.getLogger(__name__)

db = SQLAlchemy(model_class=Base)
migrate = Migrate(render_as_batch=True, compare_type=True)
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def login_account_key() -> str:
    """Rate-limit key of a login attempt: the e-mail tried, normalised."""
    email = request.form.get("email", "").strip().lower()
    return f"login-account:{email}"


def init_celery(app: Flask) -> Any:
    """Configure the Celery app from our config: eager without a broker, Redis otherwise."""
    broker = app.config.get("CELERY_BROKER_URL")

    class FlaskTask(Task):  # type: ignore[misc]
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.import_name, task_cls=FlaskTask, set_as_current=False)
    celery_app.conf.update(
        broker_url=broker or "memory://",
        result_backend=None,
        task_always_eager=not broker,
        task_eager_propagates=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
        timezone="UTC",
    )
    app.extensions["celery"] = celery_app
    log.debug("celery configured (eager=%s)", not broker)
    return celery_app

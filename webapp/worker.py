"""The Celery entry point: ``celery -A webapp.worker worker --beat`` (or ``worker`` + ``beat``).

Builds the Flask app once from the environment (production settings, ``CELERY_BROKER_URL``
pointing at Redis) and exposes its Celery instance as ``celery``; every task runs inside
``flask_app.app_context()``. The Flask app is deliberately not called ``app``: Celery's
``-A`` lookup tries a module's ``app`` attribute first and would pick the Flask object.
"""

from __future__ import annotations

import logging
import sys

from webapp import create_app
from webapp.config import ConfigError
from webapp.extensions import worker_celery

log = logging.getLogger(__name__)

try:
    flask_app = create_app()
except ConfigError as exc:  # a missing secret: say which, without a traceback
    sys.exit(f"Cannot start the calendar bridge worker: {exc}")
celery = worker_celery(flask_app)
if celery.conf.task_always_eager:
    log.warning("CELERY_BROKER_URL is not set: a worker has nothing to consume")

__all__ = ["celery", "flask_app"]

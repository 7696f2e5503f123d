"""Celery tasks of the web app (bound to the app's Celery instance through shared_task)."""

from __future__ import annotations

import logging

from celery import shared_task

from webapp.clients import get_clients
from webapp.extensions import CLEANUP_TASK
from webapp.services import revocation

log = logging.getLogger(__name__)


@shared_task(name=CLEANUP_TASK)  # type: ignore[untyped-decorator]  # celery is untyped
def finish_disconnects() -> int:
    """Retry due revocations and Bookly block deletions of past disconnects; return done."""
    run = revocation.process_due_jobs(get_clients().cronofy)
    if run.retried or run.dead:
        log.info(
            "disconnect clean-up: %d done, %d retried, %d dead", run.done, run.retried, run.dead
        )
    return run.done

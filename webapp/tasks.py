"""Celery tasks of the web app (bound to the app's Celery instance through shared_task)."""

from __future__ import annotations

import logging

from celery import shared_task
from flask import current_app

from webapp.clients import get_clients
from webapp.extensions import BOOKING_SYNC_TASK, CLEANUP_TASK
from webapp.services import revocation
from webapp.services.bookings.delivery import DeliveryContext
from webapp.services.bookings.links import ManageLinks
from webapp.services.bookings.sync_jobs import run_due

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


def delivery_context() -> DeliveryContext:
    """What booking delivery needs, from the current app."""
    clients, links = get_clients(), ManageLinks.from_config(current_app.config)
    return DeliveryContext(
        cronofy=clients.cronofy,
        bookly=clients.bookly,
        mailer=clients.mailer,
        links=links,
        smart_invite_callback_url=f"{links.base_url}/webhooks/cronofy/smart-invites",
    )


@shared_task(name=BOOKING_SYNC_TASK)  # type: ignore[untyped-decorator]  # celery is untyped
def deliver_bookings() -> int:
    """Deliver due booking changes to calendars and customers; return how many were done."""
    run = run_due(delivery_context())
    if run.retried or run.dead:
        log.info("booking sync: %d done, %d retried, %d dead", run.done, run.retried, run.dead)
    return run.done


def kick_booking_delivery() -> None:
    """Ask a worker (or, eager, this process) to deliver now; beat sweeps up if this fails."""
    try:
        current_app.extensions["celery"].tasks[BOOKING_SYNC_TASK].delay()
    except Exception:  # the booking is committed; delivery is retried by the next sweep
        log.warning("could not start booking delivery now; the periodic sweep will", exc_info=True)

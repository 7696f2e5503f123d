"""Celery tasks of the web app (bound to the app's Celery instance through shared_task)."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from flask import current_app

from webapp.availability_cache import get_availability_cache
from webapp.clients import get_clients
from webapp.extensions import (
    BOOKING_SYNC_TASK,
    BOOKLY_MIRROR_TASK,
    BOOKLY_POLL_TASK,
    CALENDAR_RECONCILE_TASK,
    CALENDAR_SWEEP_TASK,
    CALENDAR_SYNC_TASK,
    CALENDARS_RECONCILE_TASK,
    CHANNELS_CHECK_TASK,
    CLEANUP_TASK,
    RETENTION_TASK,
    TOKENS_RENEW_TASK,
)
from webapp.services import (
    bookly_sync,
    calendar_repair,
    customer_erasure,
    retention,
    revocation,
    sync,
    upkeep,
)
from webapp.services.bookings.delivery import DeliveryContext
from webapp.services.bookings.links import ManageLinks
from webapp.services.bookings.sync_jobs import run_due
from webapp.sync_queue import get_sync_queue

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


@shared_task(name=RETENTION_TASK)  # type: ignore[untyped-decorator]  # celery is untyped
def purge_expired() -> int:
    """Delete history past RETENTION_DAYS (processed notifications, finished jobs)."""
    purged = retention.purge_expired(days=int(current_app.config["RETENTION_DAYS"]))
    return purged.notifications + purged.jobs


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
    context = delivery_context()
    run = run_due(context)
    if run.retried or run.dead:
        log.info("booking sync: %d done, %d retried, %d dead", run.done, run.retried, run.dead)
    # Customer erasures wait for their cancellations, delivered just above.
    customer_erasure.run_due(context.cronofy, context.bookly)
    return run.done


def kick_booking_delivery() -> None:
    """Ask a worker (or, eager, this process) to deliver now; beat sweeps up if this fails."""
    try:
        current_app.extensions["celery"].tasks[BOOKING_SYNC_TASK].delay()
    except Exception:  # the booking is committed; delivery is retried by the next sweep
        log.warning("could not start booking delivery now; the periodic sweep will", exc_info=True)


@shared_task(name=CALENDAR_SYNC_TASK)  # type: ignore[untyped-decorator]  # celery is untyped
def sync_calendar(connection_id: int, full: bool = False) -> int:
    """Mirror one connection's calendar busy time into Bookly; return the blocks changed."""
    # Before anything reads the pending notifications: one stored from now on queues its
    # own run, one stored before is read by this run (webapp/sync_queue.py).
    queue = get_sync_queue()
    queue.clear(connection_id)
    clients = get_clients()
    if clients.bookly is None:
        return 0
    celery = current_app.extensions["celery"]
    eager = bool(celery.conf.task_always_eager)
    run = sync.sync_connection(
        clients.cronofy,
        clients.bookly,
        connection_id,
        horizon_days=int(current_app.config.get("SYNC_HORIZON_DAYS") or sync.DEFAULT_HORIZON_DAYS),
        availability_cache=get_availability_cache(),
        force=full,
        # Inline (eager) runs cannot be delayed: they read every time.
        min_gap=None if eager else sync.BURST_GAP,
    )
    if run.read and run.failed is None:  # a booking's event may have been moved or deleted
        calendar_repair.check_booking_events(
            clients.cronofy, clients.bookly, clients.mailer, connection_id,
            horizon_days=_horizon(), cache=get_availability_cache(),
        )  # fmt: skip
    if run.retry_in is not None:
        # The rest of the burst, in one read once the gap has passed; notifications stored
        # meanwhile find that run marked and queue nothing more.
        queue.mark(connection_id, run.retry_in)
        try:
            celery.tasks[CALENDAR_SYNC_TASK].apply_async(
                (connection_id, False), countdown=run.retry_in
            )
        except Exception:  # stored notifications wait for the sweep
            queue.clear(connection_id)
            log.warning("could not queue the delayed calendar sync; the sweep will", exc_info=True)
    return run.created + run.moved + run.deleted


@shared_task(name=CALENDAR_SWEEP_TASK)  # type: ignore[untyped-decorator]  # celery is untyped
def sweep_calendar_syncs() -> int:
    """Queue a sync for every connection with pending notifications; return how many."""
    ids = sync.connections_to_sync()
    for connection_id in ids:
        kick_calendar_sync(connection_id)
    return len(ids)


def kick_calendar_sync(connection_id: int, *, full: bool = False) -> None:
    """Queue a calendar sync of one connection (``full``: even with nothing pending); the
    sweep picks pending notifications up if this fails."""
    _publish_sync(connection_id, full=full)


def queue_sync_for_change(connection_id: int) -> None:
    """Queue a sync for a change just stored, unless one is queued and not started yet
    (it will read this change too): a burst queues one run, not one per notification."""
    queue = get_sync_queue()
    if queue.claim(connection_id) and not _publish_sync(connection_id, full=False):
        queue.clear(connection_id)


def _publish_sync(connection_id: int, *, full: bool) -> bool:
    try:
        current_app.extensions["celery"].tasks[CALENDAR_SYNC_TASK].delay(connection_id, full)
    except Exception:  # the notification is stored; the sweep runs it
        log.warning("could not queue a calendar sync now; the sweep will", exc_info=True)
        return False
    return True


@shared_task(name=BOOKLY_POLL_TASK)  # type: ignore[untyped-decorator]  # celery is untyped
def poll_bookly() -> int:
    """Queue a mirror job for each appointment changed in Bookly; return how many."""
    clients = get_clients()
    if clients.bookly is None:
        return 0
    run = bookly_sync.poll(
        clients.bookly,
        reconcile_every=timedelta(minutes=float(current_app.config.get("RECONCILE_MINUTES") or 15)),
        horizon_days=int(current_app.config.get("SYNC_HORIZON_DAYS") or sync.DEFAULT_HORIZON_DAYS),
    )
    if run.queued:
        kick_bookly_mirror()
    if run.repairs:
        log.info("Bookly reconciliation queued %d repair(s)", run.repairs)
    return run.queued


@shared_task(name=BOOKLY_MIRROR_TASK)  # type: ignore[untyped-decorator]  # celery is untyped
def mirror_bookly() -> int:
    """Bring calendars in line with due Bookly changes; return how many were done."""
    clients = get_clients()
    if clients.bookly is None:
        return 0
    run = bookly_sync.run_due(clients.cronofy, clients.bookly)
    if run.retried or run.dead:
        log.info("Bookly mirror: %d done, %d retried, %d dead", run.done, run.retried, run.dead)
    return run.done


def kick_bookly_mirror() -> None:
    """Run the mirror jobs now (a worker, or this process when eager); the sweep retries."""
    try:
        current_app.extensions["celery"].tasks[BOOKLY_MIRROR_TASK].delay()
    except Exception:  # the jobs are committed; the periodic sweep runs them
        log.warning("could not start the Bookly mirror now; the periodic sweep will", exc_info=True)


def _horizon() -> int:
    return int(current_app.config.get("SYNC_HORIZON_DAYS") or sync.DEFAULT_HORIZON_DAYS)


@shared_task(name=TOKENS_RENEW_TASK)  # type: ignore[untyped-decorator]  # celery is untyped
def renew_tokens() -> int:
    """Refresh access tokens that expire before the next run; return how many."""
    run = upkeep.renew_tokens(get_clients().cronofy)
    if run.failed:
        log.info("token upkeep: %d renewed, %d failed (retried next run)", run.renewed, run.failed)
    return run.renewed


@shared_task(name=CHANNELS_CHECK_TASK)  # type: ignore[untyped-decorator]  # celery is untyped
def check_channels() -> int:
    """Make the push channels Cronofy no longer has; return how many were made."""
    run = upkeep.check_channels(
        get_clients().cronofy, webhook_base_url=str(current_app.config["PUBLIC_BASE_URL"])
    )
    for connection_id in run.recreated:  # changes made without a channel were never announced
        kick_calendar_sync(connection_id, full=True)
    if run.failed:
        log.info("channel check: %d checked, %d failed (retried next run)", run.checked,
                 run.failed)  # fmt: skip
    return len(run.recreated)


@shared_task(name=CALENDARS_RECONCILE_TASK)  # type: ignore[untyped-decorator]  # celery is untyped
def reconcile_calendars() -> int:
    """Queue a reconciliation of every usable connection; return how many."""
    ids = calendar_repair.connections_to_reconcile()
    for connection_id in ids:
        try:
            current_app.extensions["celery"].tasks[CALENDAR_RECONCILE_TASK].delay(connection_id)
        except Exception:  # the next period tries again
            log.warning("could not queue a reconciliation now", exc_info=True)
    return len(ids)


@shared_task(name=CALENDAR_RECONCILE_TASK)  # type: ignore[untyped-decorator]  # celery is untyped
def reconcile_calendar(connection_id: int) -> int:
    """Repair drift between one calendar and Bookly; return what was repaired."""
    clients = get_clients()
    if clients.bookly is None:
        return 0
    done = calendar_repair.reconcile_connection(
        clients.cronofy, clients.bookly, clients.mailer, connection_id,
        horizon_days=_horizon(), cache=get_availability_cache(),
    )  # fmt: skip
    return done.repairs

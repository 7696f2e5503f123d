"""Prometheus metrics, served at /metrics (DESIGN: operations).

Counters live in prometheus_client's registry. Under gunicorn with several workers, set
``PROMETHEUS_MULTIPROC_DIR`` to an empty directory shared by the workers (created before
they start, emptied at each deploy): every worker then writes its counts there and a scrape
of any worker adds them up. Values that our database knows (outbox depth, dead jobs, pending
calendar notifications and their age) are read at scrape time, so every worker answers the
same.

Who may scrape: callers on the loopback interface, and anyone presenting
``Authorization: Bearer $METRICS_TOKEN``; everyone else gets a plain 404. The metrics hold
counts and ages only: no e-mail address, token, URL or identifier of a person.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
from datetime import datetime
from typing import Any

import requests
import sqlalchemy as sa
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from sqlalchemy.exc import SQLAlchemyError

from webapp.database import utcnow
from webapp.extensions import db
from webapp.models import InboundNotification, OutboxJob, OutboxStatus

disable_created_metrics()  # type: ignore[no-untyped-call]  # no *_created series

WEBHOOKS = Counter(
    "bridge_webhooks_total",
    "Cronofy callbacks received, by receiver and how they were answered",
    ["receiver", "outcome"],
)
CRONOFY_RESPONSES = Counter(
    "bridge_cronofy_responses_total",
    "HTTP answers from Cronofy, by status class (2xx, 4xx, 429, 5xx)",
    ["status"],
)
CRONOFY_NOT_REACHED = Counter(
    "bridge_cronofy_not_reached_total",
    "Calls to Cronofy that got no answer (timeout, connection refused)",
)
BOOKING_CONFLICTS = Counter(
    "bridge_booking_conflicts_total",
    "Bookings refused because the slot was taken (409 slot_taken)",
)

CONTENT_TYPE = CONTENT_TYPE_LATEST


def count_webhook(receiver: str, outcome: str) -> None:
    """One Cronofy callback answered (``receiver``: push, enterprise, smart_invite)."""
    WEBHOOKS.labels(receiver=receiver, outcome=outcome).inc()


def _count_cronofy_response(status: int) -> None:
    label = "429" if status == 429 else f"{status // 100}xx"
    CRONOFY_RESPONSES.labels(status=label).inc()


class CountingSession(requests.Session):
    """The HTTP session of the app's Cronofy client: counts answers and calls unanswered."""

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        try:
            response = super().request(*args, **kwargs)
        except (requests.Timeout, requests.ConnectionError):
            CRONOFY_NOT_REACHED.inc()
            raise
        _count_cronofy_response(response.status_code)
        return response


def count_booking_conflict() -> None:
    """A booking refused because its slot was taken."""
    BOOKING_CONFLICTS.inc()


def may_scrape(
    remote_addr: str | None,
    authorization: str | None,
    token: str | None,
    *,
    untrusted_proxy: bool = False,
) -> bool:
    """Loopback callers, or the configured bearer token (compared in constant time).

    ``untrusted_proxy``: the request came through a proxy the app was not told to trust
    (X-Forwarded-For with TRUSTED_PROXY_HOPS=0); a proxy on this host makes every caller look
    like loopback, so only the token counts then.
    """
    if token and authorization and authorization.startswith("Bearer "):
        presented = authorization.removeprefix("Bearer ").strip().encode()
        if hmac.compare_digest(presented, token.encode()):
            return True
    if untrusted_proxy:
        return False
    try:
        return ipaddress.ip_address(remote_addr or "").is_loopback
    except ValueError:
        return False


def exposition() -> bytes:
    """Everything, in the Prometheus text format."""
    return _counters() + generate_latest(_database_gauges())


def _counters() -> bytes:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest(REGISTRY)


def _database_gauges() -> CollectorRegistry:
    """Read from our database now (the same answer from every worker); when it cannot be
    read, only ``bridge_database_up 0`` (the counters are still served)."""
    registry, up = CollectorRegistry(), 1
    try:
        _fill_from_database(registry)
    except SQLAlchemyError:
        db.session.rollback()
        registry, up = CollectorRegistry(), 0
    Gauge("bridge_database_up", "Whether our database answered this scrape",
          registry=registry).set(up)  # fmt: skip
    return registry


def _fill_from_database(registry: CollectorRegistry) -> None:
    jobs = Gauge("bridge_outbox_jobs", "Background jobs not finished, by kind and state",
                 ["kind", "status"], registry=registry)  # fmt: skip
    rows = db.session.execute(
        sa.select(OutboxJob.kind, OutboxJob.status, sa.func.count())
        .where(OutboxJob.status != OutboxStatus.DONE)
        .group_by(OutboxJob.kind, OutboxJob.status)
    )
    for kind, status, jobs_count in rows:
        jobs.labels(kind=kind, status=status.value).set(jobs_count)
    pending = Gauge("bridge_calendar_notifications_pending",
                    "Calendar change notifications waiting for the sync (calendar -> Bookly)",
                    registry=registry)  # fmt: skip
    lag = Gauge("bridge_calendar_sync_lag_seconds",
                "Age of the oldest calendar notification not yet synced into Bookly (0: none)",
                registry=registry)  # fmt: skip
    waiting = sa.and_(
        InboundNotification.processed_at.is_(None), InboundNotification.connection_id.is_not(None)
    )
    count = db.session.scalar(
        sa.select(sa.func.count()).select_from(InboundNotification).where(waiting)
    )
    oldest = db.session.scalar(
        sa.select(InboundNotification.received_at)
        .where(waiting)
        .order_by(InboundNotification.received_at)
        .limit(1)
    )
    pending.set(count or 0)
    lag.set(_age(oldest))
    db.session.rollback()


def _age(since: datetime | None) -> float:
    if since is None:
        return 0.0
    return max(0.0, (utcnow() - since).total_seconds())

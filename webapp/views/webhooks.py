"""Cronofy's callbacks (CSRF-exempt; the HMAC replaces it): push notifications at
POST /webhooks/cronofy/<token>, Smart Invite replies at POST /webhooks/cronofy/smart-invites."""

from __future__ import annotations

import logging
import math
import time

from flask import Blueprint, Response, abort, request
from flask.typing import ResponseReturnValue
from limits import parse as parse_limit
from werkzeug.exceptions import TooManyRequests

from cronofy_client import HMAC_HEADER
from webapp import metrics
from webapp.availability_cache import get_availability_cache
from webapp.clients import get_clients
from webapp.extensions import csrf, limiter, push_channel_key
from webapp.services.bookings.invite_replies import ReplyOutcome, receive_reply
from webapp.services.push_inbox import PushOutcome, receive_push
from webapp.tasks import queue_sync_for_change

log = logging.getLogger(__name__)

bp = Blueprint("webhooks", __name__)
csrf.exempt(bp)

MAX_BODY_BYTES = 64 * 1024
_STATUS = {
    PushOutcome.ACCEPTED: 202,
    PushOutcome.IGNORED: 202,
    PushOutcome.REJECTED: 401,
    PushOutcome.MALFORMED: 400,
}


def _raw_body() -> bytes:
    """The exact bytes Cronofy signed (413 past MAX_BODY_BYTES, declared or not)."""
    if (request.content_length or 0) > MAX_BODY_BYTES:
        abort(413)
    raw_body = request.get_data(cache=False)
    if len(raw_body) > MAX_BODY_BYTES:
        abort(413)
    return raw_body


# Per channel (its URL token), not per sender address: Cronofy sends every instructor's
# notifications from a few addresses.
PUSH_LIMIT = parse_limit("1200 per minute")


def _push_limit_wait() -> int | None:
    """Seconds to wait when this channel is over PUSH_LIMIT, else None.

    One counter hit in the limiter's shared storage, and no X-RateLimit headers (Cronofy does
    not read them, and they cost the storage two more round trips per acknowledgement). A
    storage that does not answer lets the notification through: storing it matters more than
    counting it, and the signature still guards the inbox."""
    if not limiter.enabled:
        return None
    key = push_channel_key()
    try:
        if limiter.limiter.hit(PUSH_LIMIT, key):
            return None
        reset_at, _remaining = limiter.limiter.get_window_stats(PUSH_LIMIT, key)
    except Exception:  # noqa: BLE001 - any storage failure: count nothing, store the push
        log.warning("push limit storage unavailable; notification not counted")
        return None
    return max(1, math.ceil(reset_at - time.time()))


@bp.post("/webhooks/cronofy/<token>")
def cronofy_push(token: str) -> ResponseReturnValue:
    """Verify the raw body's HMAC, store the notification once, answer fast."""
    wait = _push_limit_wait()
    if wait is not None:
        metrics.count_webhook("push", "limited")
        raise TooManyRequests(retry_after=wait)
    outcome = receive_push(
        get_clients().cronofy_in_request,
        path_token=token,
        raw_body=_raw_body(),
        signature=request.headers.get(HMAC_HEADER),
        availability_cache=get_availability_cache(),
        queue_sync=queue_sync_for_change,
    )
    metrics.count_webhook("push", outcome.value)
    return Response(b"", status=_STATUS[outcome])


_REPLY_STATUS = {
    ReplyOutcome.RECORDED: 202,
    ReplyOutcome.IGNORED: 202,
    ReplyOutcome.REJECTED: 401,
    ReplyOutcome.MALFORMED: 400,
}


@bp.post("/webhooks/cronofy/smart-invites")
def smart_invite_reply() -> ResponseReturnValue:
    """A customer answered a booking's Smart Invite: verify, record, answer fast."""
    outcome = receive_reply(
        get_clients().cronofy_in_request,
        raw_body=_raw_body(),
        signature=request.headers.get(HMAC_HEADER),
    )
    metrics.count_webhook("smart_invite", outcome.value)
    return Response(b"", status=_REPLY_STATUS[outcome])

"""The customer's answer to a booking's Smart Invite, as Cronofy calls it back.

Cronofy signs the callback with the client secret (the same HMAC as push notifications). The
reply is kept on the booking when it names the booking's invite and the customer it went to;
anything else is acknowledged and ignored. The customer's comment is not stored.
"""

from __future__ import annotations

import logging
from enum import StrEnum

from cronofy_client import CronofyClient, MalformedCallback, SmartInviteCallback, parse_callback
from webapp.database import utcnow
from webapp.extensions import db
from webapp.models import User
from webapp.services import audit
from webapp.services.bookings import store
from webapp.services.bookings.delivery import ID_PREFIX

log = logging.getLogger(__name__)

REPLIES = frozenset({"pending", "accepted", "tentative", "declined"})


class ReplyOutcome(StrEnum):
    """How the receiver answers."""

    RECORDED = "recorded"  # 202
    IGNORED = "ignored"  # 202: not one of our invites, or not its recipient
    REJECTED = "rejected"  # 401: bad signature
    MALFORMED = "malformed"  # 400: signed but unreadable


def receive_reply(
    cronofy: CronofyClient, *, raw_body: bytes, signature: str | None
) -> ReplyOutcome:
    """Verify, then record the customer's reply on the booking; commits at most once."""
    if not cronofy.webhook_verifier().verify(raw_body, signature):
        log.warning("smart invite callback with a bad signature rejected")
        return ReplyOutcome.REJECTED
    try:
        callback = parse_callback(raw_body)
    except MalformedCallback:
        log.warning("signed smart invite callback could not be read")
        return ReplyOutcome.MALFORMED
    if not isinstance(callback, SmartInviteCallback):
        return ReplyOutcome.IGNORED
    if not callback.smart_invite_id.startswith(ID_PREFIX) or callback.status not in REPLIES:
        return ReplyOutcome.IGNORED
    booking = store.by_public_id(callback.smart_invite_id.removeprefix(ID_PREFIX))
    if booking is None or booking.customer_email.lower() != callback.recipient_email.lower():
        log.info("smart invite reply for no invite of ours ignored")
        return ReplyOutcome.IGNORED
    if booking.customer_reply != callback.status:
        booking.customer_reply = callback.status
        booking.customer_replied_at = utcnow()
        instructor = db.session.get(User, booking.instructor_id)
        audit.record(
            "booking.invite_reply",
            target=booking.public_id,
            details={"reply": callback.status},
            organisation_id=instructor.organisation_id if instructor else None,
        )
        db.session.commit()
    log.info("booking id=%s: customer replied %s", booking.id, callback.status)
    return ReplyOutcome.RECORDED

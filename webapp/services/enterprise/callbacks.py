"""Cronofy's signed Enterprise Connect callbacks: one per authorized (or refused) e-mail.

Unknown tokens (superseded by a retry, or the organisation disconnected since) are
acknowledged and ignored after the signature check: Cronofy would otherwise keep redelivering
something we can never use. Redelivery of a finished authorization is ignored too.

A success is not exchanged inside the webhook request (three Cronofy calls): the request
checks what our database can tell (the instructor, their own connection), then claims the
authorization with one outbox job per callback state (a redelivery finds it claimed and is
ignored, instead of spending the code twice and recording a false invalid_grant) holding the
code and the path token as ciphertext, and answers. The worker exchanges the code and
connects the instructor, retrying while Cronofy is unreachable.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from cronofy_client import (
    CronofyClient,
    CronofyError,
    CronofyInvalidGrant,
    CronofyUnavailable,
    EnterpriseConnectCallback,
    MalformedCallback,
    parse_callback,
)
from webapp.clients import get_clients
from webapp.database import utcnow
from webapp.extensions import db
from webapp.mail import Mailer, MailError, OutgoingMail
from webapp.models import (
    AuthorizationStatus,
    CalendarConnection,
    ConnectMethod,
    OutboxJob,
    Role,
    ServiceAccount,
    ServiceAccountAuthorization,
    User,
)
from webapp.security import TokenDecryptError, token_digest
from webapp.services import audit, connections
from webapp.services.connection_errors import CalendarConnectionError
from webapp.services.enterprise.authorizations import callback_url
from webapp.services.enterprise.errors import (
    CronofyUnreachable,
    InvalidSignature,
    MalformedEnterpriseCallback,
)
from webapp.services.revocation import EXCHANGE_JOB

log = logging.getLogger(__name__)

MAX_ERROR_LENGTH = 500
CONNECTED_INDIVIDUALLY = (
    "connected_individually: the instructor connected their own calendar, which was kept"
)


class CallbackOutcome(StrEnum):
    """What a callback did."""

    AUTHORIZED = "authorized"
    QUEUED = "queued"  # the worker exchanges the code (at once in the demo)
    FAILED = "failed"
    IGNORED = "ignored"


def receive_callback(
    cronofy: CronofyClient,
    *,
    token: str,
    raw_body: bytes,
    signature: str | None,
    webhook_base_url: str,
) -> CallbackOutcome:
    """Verify, match by path token, then queue the connection or record Cronofy's error.

    An instructor's own (individual) connection is replaced only when the admin asked for
    exactly that; the instructor is then told by e-mail.
    """
    if not cronofy.webhook_verifier().verify(raw_body, signature):
        raise InvalidSignature("Cronofy-HMAC-SHA256 does not match the body")
    row = db.session.scalar(
        sa.select(ServiceAccountAuthorization).where(
            ServiceAccountAuthorization.state_hash == token_digest(token)
        )
    )
    if row is None:
        log.warning("signed enterprise callback for an unknown token ignored")
        return CallbackOutcome.IGNORED
    result = _parse(raw_body)
    if row.status is not AuthorizationStatus.PENDING:
        log.info("enterprise callback redelivered for authorization %s; ignored", row.id)
        return CallbackOutcome.IGNORED
    if not result.succeeded or not result.code:
        return _record_failure(row, _cronofy_error(result))
    if (refused := _refusal(row)) is not None:
        return _record_failure(row, refused)
    return _queue_exchange(row, result.code, webhook_base_url, token)


def _refusal(row: ServiceAccountAuthorization) -> str | None:
    """Why this authorization cannot connect anyone (database checks only), or None."""
    user = _instructor(row)
    if user is None:
        return "instructor_gone: the instructor no longer exists here"
    if _has_own_connection(user) and not row.replace_individual:
        return CONNECTED_INDIVIDUALLY
    return None


def _queue_exchange(
    row: ServiceAccountAuthorization, code: str, webhook_base_url: str, token: str
) -> CallbackOutcome:
    from webapp.services.disconnection import schedule_cleanup
    from webapp.services.tokens import token_cipher

    cipher = token_cipher()
    db.session.add(
        OutboxJob(
            kind=EXCHANGE_JOB,
            dedupe_key=f"{EXCHANGE_JOB}:{row.state_hash}",
            payload={
                "authorization_id": row.id,
                "code_encrypted": cipher.encrypt(code),
                "token_encrypted": cipher.encrypt(token),
                "base_url": webhook_base_url,
            },
            next_attempt_at=utcnow(),
        )
    )
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        log.info("enterprise callback redelivered while its code is exchanged; ignored")
        return CallbackOutcome.IGNORED
    schedule_cleanup(timedelta(0))
    return CallbackOutcome.QUEUED


def exchange_queued(cronofy: CronofyClient, payload: dict[str, Any]) -> bool:
    """The worker's part: exchange the code and connect; False to retry (Cronofy unreachable)."""
    from webapp.services.tokens import token_cipher

    row = db.session.get(ServiceAccountAuthorization, int(payload["authorization_id"]))
    if row is None or row.status is not AuthorizationStatus.PENDING:
        return True  # retried by the admin, or the organisation disconnected since
    cipher = token_cipher()
    try:
        code = cipher.decrypt(str(payload["code_encrypted"]))
        token = cipher.decrypt(str(payload["token_encrypted"]))
    except TokenDecryptError:
        _record_failure(row, "key_lost: the stored code can no longer be read; retry")
        return True
    try:
        _connect(cronofy, get_clients().mailer, row, code, str(payload["base_url"]), token)
    except CronofyUnreachable:
        db.session.rollback()
        return False
    return True


def _parse(raw_body: bytes) -> EnterpriseConnectCallback:
    try:
        parsed = parse_callback(raw_body)
    except MalformedCallback:
        raise MalformedEnterpriseCallback("the callback body cannot be read") from None
    if not isinstance(parsed, EnterpriseConnectCallback):
        raise MalformedEnterpriseCallback("not an Enterprise Connect authorization result")
    return parsed


def _cronofy_error(result: EnterpriseConnectCallback) -> str:
    key = result.error_key or result.error or "unknown_error"
    if result.error_description:
        return f"{key}: {result.error_description}"
    return key


def _connect(
    cronofy: CronofyClient,
    mailer: Mailer,
    row: ServiceAccountAuthorization,
    code: str,
    webhook_base_url: str,
    token: str,
) -> CallbackOutcome:
    user = _instructor(row)
    if (refused := _refusal(row)) is not None or user is None:  # again: things moved since
        return _record_failure(row, refused or "instructor_gone")
    replacing = _has_own_connection(user)
    account = db.session.get(ServiceAccount, row.service_account_id)
    data_center = account.data_center if account else str(cronofy.data_center)
    try:
        grant = cronofy.exchange_code(code, redirect_uri=callback_url(webhook_base_url, token))
    except CronofyInvalidGrant:
        return _code_rejected(row)
    except CronofyUnavailable:
        raise CronofyUnreachable("Cronofy could not be reached; redeliver later") from None
    except CronofyError as exc:
        return _record_failure(row, f"exchange_failed: Cronofy answered {exc.status}")
    _mark(row, AuthorizationStatus.AUTHORIZED, None)
    audit.record("enterprise.instructor_connected", target=row.email)
    try:
        # store_grant commits once: the connection and this authorization's status together.
        connections.store_grant(
            cronofy,
            user=user,
            grant=grant,
            method=ConnectMethod.ENTERPRISE,
            data_center=data_center,
            webhook_base_url=webhook_base_url,
        )
    except (CalendarConnectionError, CronofyError) as exc:
        db.session.rollback()
        fresh = db.session.get(ServiceAccountAuthorization, row.id)
        if fresh is None:
            return CallbackOutcome.IGNORED
        return _record_failure(fresh, f"connect_failed: {exc}")
    log.info("authorization %s connected instructor %s", row.id, user.id)
    if replacing:
        _tell_instructor_replaced(mailer, user.email, webhook_base_url)
    return CallbackOutcome.AUTHORIZED


def _instructor(row: ServiceAccountAuthorization) -> User | None:
    user = db.session.get(User, row.user_id) if row.user_id is not None else None
    account = db.session.get(ServiceAccount, row.service_account_id)
    if user is None or account is None or user.role is not Role.INSTRUCTOR:
        return None
    return user if user.organisation_id == account.organisation_id else None


def _has_own_connection(user: User) -> bool:
    method = db.session.scalar(
        sa.select(CalendarConnection.method).where(CalendarConnection.user_id == user.id)
    )
    return method is ConnectMethod.INDIVIDUAL


def _tell_instructor_replaced(mailer: Mailer, email: str, base_url: str) -> None:
    """E-mail the instructor whose own connection the organisation replaced; never raises."""
    body = (
        "Your organisation's administrator connected your calendar through the organisation's "
        "Enterprise Connect. It replaces the calendar connection you had set up yourself.\n\n"
        "Bookings and availability now use the organisation's connection. If the organisation "
        "disconnects, your calendar is disconnected too.\n\n"
        "See the details, or connect your own calendar again, at "
        f"{base_url.rstrip('/')}/calendars\n"
    )
    message = OutgoingMail(
        to=email, subject="Your organisation now manages your calendar connection", body=body
    )
    try:
        mailer.send(message)
    except MailError:
        log.exception("could not e-mail the replacement notice to an instructor")


def _code_rejected(row: ServiceAccountAuthorization) -> CallbackOutcome:
    """A concurrent redelivery may have used the code first: then this one is a no-op."""
    db.session.refresh(row)
    if row.status is AuthorizationStatus.AUTHORIZED:
        return CallbackOutcome.IGNORED
    return _record_failure(row, "invalid_grant: Cronofy did not accept the authorization code")


def _mark(row: ServiceAccountAuthorization, status: AuthorizationStatus, error: str | None) -> None:
    row.status = status
    row.error = error[:MAX_ERROR_LENGTH] if error else None
    row.completed_at = datetime.now(UTC)


def _record_failure(row: ServiceAccountAuthorization, error: str) -> CallbackOutcome:
    _mark(row, AuthorizationStatus.FAILED, error)
    audit.record("enterprise.instructor_failed", target=row.email, details={"error": error[:200]})
    db.session.commit()
    log.info("authorization %s failed", row.id)
    return CallbackOutcome.FAILED

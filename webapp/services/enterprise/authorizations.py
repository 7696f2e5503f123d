"""Asking Cronofy to authorize instructors through the organisation's service account."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

import sqlalchemy as sa

from cronofy_client import CronofyClient, CronofyError, ServiceAccountAuthorizationRequest
from webapp.extensions import db
from webapp.models import (
    AuthorizationStatus,
    CalendarConnection,
    ConnectionStatus,
    ConnectMethod,
    Role,
    ServiceAccount,
    ServiceAccountAuthorization,
    User,
)
from webapp.security import TokenCipher, new_state_token, token_digest
from webapp.services import audit
from webapp.services.enterprise.errors import (
    AuthorizationNotFound,
    ConnectedIndividually,
    EnterpriseError,
    OrganisationNotConnected,
    ServiceAccountReconnectRequired,
)
from webapp.services.enterprise.recipients import Recipients
from webapp.services.enterprise.service_tokens import call_with_service_token
from webapp.services.enterprise.submissions import SubmissionOutcome, record_submission

log = logging.getLogger(__name__)

BATCH_SIZE = 50
# Per person we ask for what delegated free_busy_write allows; the mode follows the account.
USER_SCOPE = "free_busy_write"
CALLBACK_PATH = "/webhooks/cronofy/enterprise/"


@dataclass(frozen=True, slots=True)
class AuthorizationReport:
    """What happened to each submitted address."""

    requested: tuple[str, ...]
    invalid: tuple[str, ...]
    duplicates: tuple[str, ...]
    unknown: tuple[str, ...]
    already_connected: tuple[str, ...]
    connected_individually: tuple[str, ...]
    not_sent: tuple[str, ...]


def callback_url(base_url: str, token: str) -> str:
    """The exact callback URL of one authorization (also its code's redirect_uri)."""
    return f"{base_url.rstrip('/')}{CALLBACK_PATH}{token}"


def organisation_account(organisation_id: int) -> ServiceAccount:
    """The organisation's service account; OrganisationNotConnected when there is none."""
    account = db.session.scalar(
        sa.select(ServiceAccount).where(ServiceAccount.organisation_id == organisation_id)
    )
    if account is None:
        raise OrganisationNotConnected("Connect the organisation with Enterprise Connect first.")
    if account.status is not ConnectionStatus.CONNECTED:
        raise ServiceAccountReconnectRequired("Connect the organisation again first.")
    return account


def authorize_instructors(
    cronofy: CronofyClient,
    cipher: TokenCipher,
    *,
    admin: User,
    recipients: Recipients,
    callback_base_url: str,
) -> AuthorizationReport:
    """Authorize this organisation's instructors by e-mail, in batches of at most 50.

    Instructors who connected their own calendar are skipped and listed: only
    ``replace_individual_connection`` (the admin's explicit choice) replaces such a connection.
    """
    account = organisation_account(admin.organisation_id)
    instructors = _instructors_by_email(admin.organisation_id, recipients.valid)
    own = individually_connected({user.id for user in instructors.values()})
    existing = _existing(account.id, recipients.valid)
    unknown: list[str] = []
    connected: list[str] = []
    individual: list[str] = []
    to_send: list[ServiceAccountAuthorization] = []
    for email in recipients.valid:
        if email not in instructors:
            unknown.append(email)
        elif instructors[email].id in own:
            individual.append(email)
        elif email in existing and is_connected(existing[email]):
            connected.append(email)
        else:
            row = existing.get(email) or _new_row(account, instructors[email])
            to_send.append(row)
    not_sent = _send(cronofy, cipher, account, to_send, callback_base_url, replace=False)
    sent = [r.email for r in to_send if r.email not in not_sent]
    record_submission(
        account.id, admin, _results(recipients, sent, not_sent, unknown, connected, individual)
    )
    audit.record(
        "enterprise.authorizations_requested",
        actor=admin,
        details={
            "sent": len(to_send) - len(not_sent),
            "unknown": len(unknown),
            "connected_individually": len(individual),
        },
    )
    db.session.commit()
    return AuthorizationReport(
        requested=tuple(sent),
        invalid=recipients.invalid,
        duplicates=recipients.duplicates,
        unknown=tuple(unknown),
        already_connected=tuple(connected),
        connected_individually=tuple(individual),
        not_sent=tuple(not_sent),
    )


def _results(
    recipients: Recipients,
    sent: list[str],
    not_sent: list[str],
    unknown: list[str],
    connected: list[str],
    individual: list[str],
) -> list[tuple[str, SubmissionOutcome]]:
    groups = (
        (SubmissionOutcome.SENT, sent),
        (SubmissionOutcome.NOT_SENT, not_sent),
        (SubmissionOutcome.INVALID, recipients.invalid),
        (SubmissionOutcome.UNKNOWN, unknown),
        (SubmissionOutcome.CONNECTED_INDIVIDUALLY, individual),
        (SubmissionOutcome.ALREADY_CONNECTED, connected),
        (SubmissionOutcome.DUPLICATE, recipients.duplicates),
    )
    return [(email, outcome) for outcome, emails in groups for email in emails]


def retry_authorization(
    cronofy: CronofyClient,
    cipher: TokenCipher,
    *,
    admin: User,
    authorization_id: int,
    callback_base_url: str,
) -> ServiceAccountAuthorization:
    """Send one failed authorization again, with a fresh callback token.

    An instructor who has meanwhile connected their own calendar is not sent again unless
    this authorization was an explicit replacement (ConnectedIndividually).
    """
    row = db.session.scalar(
        sa.select(ServiceAccountAuthorization)
        .join(ServiceAccount, ServiceAccount.id == ServiceAccountAuthorization.service_account_id)
        .where(
            ServiceAccountAuthorization.id == authorization_id,
            ServiceAccount.organisation_id == admin.organisation_id,
        )
    )
    if row is None:
        raise AuthorizationNotFound("There is no such authorization in your organisation.")
    account = organisation_account(admin.organisation_id)
    if is_connected(row):
        return row
    own = individually_connected({row.user_id} if row.user_id is not None else set())
    if own and not row.replace_individual:
        raise ConnectedIndividually(
            f"{row.email} connected their own calendar. Replace it explicitly if you must."
        )
    _send(cronofy, cipher, account, [row], callback_base_url, replace=row.replace_individual)
    audit.record("enterprise.authorization_retried", actor=admin, target=row.email)
    db.session.commit()
    return row


def replace_individual_connection(
    cronofy: CronofyClient,
    cipher: TokenCipher,
    *,
    admin: User,
    instructor_id: int,
    callback_base_url: str,
) -> ServiceAccountAuthorization:
    """The admin's explicit choice: authorize an instructor even over their own connection.

    When Cronofy's callback arrives the instructor's connection becomes the organisation's,
    and the instructor is told by e-mail and on their calendar page.
    """
    account = organisation_account(admin.organisation_id)
    user = db.session.scalar(
        sa.select(User).where(
            User.id == instructor_id,
            User.organisation_id == admin.organisation_id,
            User.role == Role.INSTRUCTOR,
        )
    )
    if user is None:
        raise AuthorizationNotFound("There is no such instructor in your organisation.")
    row = _existing(account.id, [user.email]).get(user.email) or _new_row(account, user)
    not_sent = _send(cronofy, cipher, account, [row], callback_base_url, replace=True)
    audit.record(
        "enterprise.replace_individual_requested",
        actor=admin,
        target=user.email,
        details={"sent": not not_sent},
    )
    db.session.commit()
    return row


def individually_connected(user_ids: set[int]) -> set[int]:
    """Which of these users hold a connection they made themselves (Individual Connect)."""
    if not user_ids:
        return set()
    return set(
        db.session.scalars(
            sa.select(CalendarConnection.user_id).where(
                CalendarConnection.user_id.in_(sorted(user_ids)),
                CalendarConnection.method == ConnectMethod.INDIVIDUAL,
            )
        )
    )


def is_connected(row: ServiceAccountAuthorization) -> bool:
    """Authorized and the instructor's calendar connection is still live."""
    if row.status is not AuthorizationStatus.AUTHORIZED or row.user_id is None:
        return False
    status = db.session.scalar(
        sa.select(CalendarConnection.status).where(CalendarConnection.user_id == row.user_id)
    )
    return status is ConnectionStatus.CONNECTED


def _instructors_by_email(organisation_id: int, emails: Sequence[str]) -> dict[str, User]:
    if not emails:
        return {}
    users = db.session.scalars(
        sa.select(User).where(
            User.organisation_id == organisation_id,
            User.role == Role.INSTRUCTOR,
            User.active.is_(True),
            User.email.in_(list(emails)),
        )
    )
    return {user.email: user for user in users}


def _existing(account_id: int, emails: Sequence[str]) -> dict[str, ServiceAccountAuthorization]:
    if not emails:
        return {}
    rows = db.session.scalars(
        sa.select(ServiceAccountAuthorization).where(
            ServiceAccountAuthorization.service_account_id == account_id,
            ServiceAccountAuthorization.email.in_(list(emails)),
        )
    )
    return {row.email: row for row in rows}


def _new_row(account: ServiceAccount, user: User) -> ServiceAccountAuthorization:
    row = ServiceAccountAuthorization(
        service_account_id=account.id, email=user.email, user_id=user.id, attempts=0
    )
    db.session.add(row)
    return row


def _send(
    cronofy: CronofyClient,
    cipher: TokenCipher,
    account: ServiceAccount,
    rows: list[ServiceAccountAuthorization],
    base_url: str,
    *,
    replace: bool,
) -> list[str]:
    """Give each row a fresh callback token, commit, then send; return e-mails not sent."""
    tokens = _prepare(rows, replace=replace)
    # Committed before sending: Cronofy may call back before this request finishes.
    db.session.commit()
    not_sent: list[str] = []
    account_id = account.id
    for start in range(0, len(rows), BATCH_SIZE):
        chunk = rows[start : start + BATCH_SIZE]
        requests = [
            ServiceAccountAuthorizationRequest(
                email=row.email,
                callback_url=callback_url(base_url, tokens[row.id]),
                scope=USER_SCOPE,
                state=str(row.id),
            )
            for row in chunk
        ]
        send = partial(cronofy.authorize_service_account_users, requests=requests)
        try:
            call_with_service_token(cronofy, cipher, account_id, send)
        except (CronofyError, EnterpriseError) as exc:
            log.warning("service-account authorization batch failed: %s", type(exc).__name__)
            _mark_unsent(chunk, exc)
            not_sent.extend(row.email for row in chunk)
    return not_sent


def _prepare(rows: list[ServiceAccountAuthorization], *, replace: bool) -> dict[int, str]:
    now = datetime.now(UTC)
    tokens: list[str] = []
    for row in rows:
        token = new_state_token()
        tokens.append(token)
        row.state_hash = token_digest(token)
        row.status = AuthorizationStatus.PENDING
        row.replace_individual = replace
        row.error = None
        row.attempts = (row.attempts or 0) + 1
        row.requested_at = now
        row.completed_at = None
    db.session.flush()
    return {row.id: token for row, token in zip(rows, tokens, strict=True)}


def _mark_unsent(rows: list[ServiceAccountAuthorization], exc: Exception) -> None:
    if isinstance(exc, CronofyError):
        reason = f"Cronofy did not accept the request ({exc.status or 'no answer'})."
    else:
        reason = str(exc)
    now = datetime.now(UTC)
    for row in rows:
        row.status = AuthorizationStatus.FAILED
        row.error = f"not sent: {reason}"[:500]
        row.completed_at = now
    db.session.commit()

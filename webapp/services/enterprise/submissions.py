"""Per-submission results of bulk authorization: kept, grouped and coloured by severity."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import AuthorizationSubmission, User


class Severity(StrEnum):
    """How much an outcome needs the admin's attention (the page colours by it)."""

    SUCCESS = "success"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class SubmissionOutcome(StrEnum):
    """What became of one submitted address."""

    SENT = "sent"
    DUPLICATE = "duplicate"
    ALREADY_CONNECTED = "already_connected"
    CONNECTED_INDIVIDUALLY = "connected_individually"
    UNKNOWN = "unknown"
    INVALID = "invalid"
    NOT_SENT = "not_sent"

    @property
    def heading(self) -> str:
        """The group heading the admin reads."""
        return _TITLES[self]

    @property
    def severity(self) -> Severity:
        """Harmless outcomes are information; only what failed is an error."""
        return _SEVERITIES[self]


_TITLES = {
    SubmissionOutcome.SENT: "Sent to Cronofy",
    SubmissionOutcome.DUPLICATE: "Listed more than once (sent once)",
    SubmissionOutcome.ALREADY_CONNECTED: "Already connected (not sent again)",
    SubmissionOutcome.CONNECTED_INDIVIDUALLY: (
        "Connected individually (not sent; their own connection is kept)"
    ),
    SubmissionOutcome.UNKNOWN: "Not instructors of this organisation (not sent)",
    SubmissionOutcome.INVALID: "Not valid e-mail addresses",
    SubmissionOutcome.NOT_SENT: "Could not be sent (see the table; retry later)",
}
_SEVERITIES = {
    SubmissionOutcome.SENT: Severity.SUCCESS,
    SubmissionOutcome.DUPLICATE: Severity.INFO,
    SubmissionOutcome.ALREADY_CONNECTED: Severity.INFO,
    SubmissionOutcome.CONNECTED_INDIVIDUALLY: Severity.INFO,
    SubmissionOutcome.UNKNOWN: Severity.WARNING,
    SubmissionOutcome.INVALID: Severity.ERROR,
    SubmissionOutcome.NOT_SENT: Severity.ERROR,
}


@dataclass(frozen=True, slots=True)
class ResultGroup:
    """The addresses of one submission that had the same outcome."""

    outcome: SubmissionOutcome
    emails: tuple[str, ...]

    @property
    def severity(self) -> Severity:
        """The group's colour."""
        return self.outcome.severity


@dataclass(frozen=True, slots=True)
class SubmissionSummary:
    """One submission as the page shows it: when, and each outcome group (worst first)."""

    submitted_at: datetime
    groups: tuple[ResultGroup, ...]

    @property
    def total(self) -> int:
        """How many addresses were submitted."""
        return sum(len(group.emails) for group in self.groups)

    @property
    def needs_attention(self) -> int:
        """Addresses whose outcome is a warning or an error."""
        serious = (Severity.WARNING, Severity.ERROR)
        return sum(len(g.emails) for g in self.groups if g.severity in serious)


def record_submission(
    account_id: int, admin: User, results: list[tuple[str, SubmissionOutcome]]
) -> AuthorizationSubmission:
    """Add the submission's results to the session (the caller commits)."""
    row = AuthorizationSubmission(
        service_account_id=account_id,
        submitted_by_id=admin.id,
        results=[{"email": email, "outcome": outcome.value} for email, outcome in results],
    )
    db.session.add(row)
    return row


def last_submission(account_id: int) -> SubmissionSummary | None:
    """The newest submission of the organisation's service account, grouped."""
    row = db.session.scalar(
        sa.select(AuthorizationSubmission)
        .where(AuthorizationSubmission.service_account_id == account_id)
        .order_by(AuthorizationSubmission.id.desc())
        .limit(1)
    )
    if row is None:
        return None
    grouped: dict[SubmissionOutcome, list[str]] = {}
    for item in row.results:
        try:
            outcome = SubmissionOutcome(item.get("outcome", ""))
        except ValueError:
            continue
        grouped.setdefault(outcome, []).append(item.get("email", ""))
    order = list(Severity)[::-1]  # errors first, then warnings, information, successes
    groups = sorted(
        (ResultGroup(outcome, tuple(emails)) for outcome, emails in grouped.items()),
        key=lambda g: order.index(g.severity),
    )
    return SubmissionSummary(submitted_at=row.created_at, groups=tuple(groups))

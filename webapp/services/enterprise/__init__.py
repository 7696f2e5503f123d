"""Enterprise Connect: an admin connects the organisation, then authorizes its instructors.

Modules: ``organisation`` (the admin's OAuth flow), ``service_tokens`` (the service account's
access token), ``recipients`` (pasted / CSV e-mails), ``authorizations`` (batches of at most
50 to Cronofy), ``callbacks`` (Cronofy's signed results), ``status`` (the page's data) and
``disconnect``. Errors are in ``errors``; every public name is re-exported here.
"""

from __future__ import annotations

from webapp.services.enterprise.authorizations import (
    BATCH_SIZE,
    USER_SCOPE,
    AuthorizationReport,
    authorize_instructors,
    callback_url,
    individually_connected,
    replace_individual_connection,
    retry_authorization,
)
from webapp.services.enterprise.callbacks import CallbackOutcome, receive_callback
from webapp.services.enterprise.disconnect import DisconnectResult, disconnect_organisation
from webapp.services.enterprise.errors import (
    AuthorizationNotFound,
    ConnectedIndividually,
    CronofyUnreachable,
    EnterpriseConnectFailed,
    EnterpriseDataCenterMismatch,
    EnterpriseError,
    InvalidEnterpriseState,
    InvalidRecipients,
    InvalidSignature,
    MalformedEnterpriseCallback,
    OrganisationNotConnected,
    ServiceAccountReconnectRequired,
)
from webapp.services.enterprise.organisation import (
    DELEGATED_SCOPE,
    SERVICE_SCOPE,
    complete_connect,
    start_connect,
)
from webapp.services.enterprise.recipients import (
    MAX_CSV_BYTES,
    Recipients,
    parse_recipients,
)
from webapp.services.enterprise.service_tokens import (
    call_with_service_token,
    service_access_token,
)
from webapp.services.enterprise.status import (
    AuthorizationRow,
    EnterpriseStatus,
    IndividualConnection,
    InstructorCalendar,
    ServiceAccountSummary,
    organisation_status,
)
from webapp.services.enterprise.submissions import (
    Severity,
    SubmissionOutcome,
    SubmissionSummary,
)

__all__ = [
    "BATCH_SIZE",
    "DELEGATED_SCOPE",
    "MAX_CSV_BYTES",
    "SERVICE_SCOPE",
    "USER_SCOPE",
    "AuthorizationNotFound",
    "AuthorizationReport",
    "AuthorizationRow",
    "CallbackOutcome",
    "ConnectedIndividually",
    "CronofyUnreachable",
    "DisconnectResult",
    "EnterpriseConnectFailed",
    "EnterpriseDataCenterMismatch",
    "EnterpriseError",
    "EnterpriseStatus",
    "IndividualConnection",
    "InstructorCalendar",
    "InvalidEnterpriseState",
    "InvalidRecipients",
    "InvalidSignature",
    "MalformedEnterpriseCallback",
    "OrganisationNotConnected",
    "Recipients",
    "ServiceAccountReconnectRequired",
    "ServiceAccountSummary",
    "Severity",
    "SubmissionOutcome",
    "SubmissionSummary",
    "authorize_instructors",
    "call_with_service_token",
    "callback_url",
    "complete_connect",
    "disconnect_organisation",
    "individually_connected",
    "organisation_status",
    "parse_recipients",
    "receive_callback",
    "replace_individual_connection",
    "retry_authorization",
    "service_access_token",
    "start_connect",
]

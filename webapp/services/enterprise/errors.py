"""Domain errors of Enterprise Connect; every message is safe to show an admin.

EnterpriseError
 ├── InvalidEnterpriseState   missing, unknown, expired, reused or foreign OAuth state
 ├── EnterpriseDataCenterMismatch   the flow was started against another data center
 ├── EnterpriseConnectFailed  Cronofy refused the code or could not be asked
 ├── OrganisationNotConnected the organisation has no service account
 ├── ServiceAccountReconnectRequired  the service account's grant is dead
 ├── CronofyUnreachable       Cronofy could not be asked right now; nothing was changed
 ├── AuthorizationNotFound    no such authorization (or instructor) in this organisation
 ├── ConnectedIndividually    the instructor connected their own calendar; replace it explicitly
 ├── InvalidRecipients        the pasted list or CSV cannot be read
 ├── InvalidSignature         a callback's Cronofy-HMAC-SHA256 does not verify
 └── MalformedEnterpriseCallback  a verified callback is not an Enterprise Connect result
"""

from __future__ import annotations


class EnterpriseError(Exception):
    """Base of every Enterprise Connect error."""


class InvalidEnterpriseState(EnterpriseError):
    """The OAuth state is missing, unknown, expired, already used or someone else's."""


class EnterpriseDataCenterMismatch(EnterpriseError):
    """The callback belongs to a flow started against another Cronofy data center."""


class EnterpriseConnectFailed(EnterpriseError):
    """Cronofy did not complete the organisation connection."""


class OrganisationNotConnected(EnterpriseError):
    """The organisation has no Enterprise Connect service account."""


class ServiceAccountReconnectRequired(EnterpriseError):
    """The service account's grant no longer works: connect the organisation again."""


class CronofyUnreachable(EnterpriseError):
    """Cronofy could not be asked right now; nothing was changed."""


class AuthorizationNotFound(EnterpriseError):
    """No such authorization in the admin's organisation."""


class ConnectedIndividually(EnterpriseError):
    """The instructor connected their own calendar; only an explicit replacement touches it."""


class InvalidRecipients(EnterpriseError):
    """The e-mail list or CSV upload cannot be used as sent."""


class InvalidSignature(EnterpriseError):
    """The callback's Cronofy-HMAC-SHA256 header does not match its body."""


class MalformedEnterpriseCallback(EnterpriseError):
    """A verified callback that is not an Enterprise Connect authorization result."""

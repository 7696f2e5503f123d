"""The customer's cancel and reschedule links: a signed, expiring token naming one booking.

The token carries the booking's public id and the purpose, signed with a key derived from
SECRET_KEY (itsdangerous, the same library as Flask's session); it expires after ``max_age``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from webapp.services.bookings.errors import BookingError

SALT = "booking-manage-link"
DEFAULT_MAX_AGE = timedelta(days=60)


class InvalidLink(BookingError):
    """The link was altered, belongs to nothing, or has expired."""


@dataclass(frozen=True, slots=True)
class ManageLinks:
    """Builds and reads the customer's links for one app (base URL and key)."""

    base_url: str
    secret_key: str
    max_age: timedelta = DEFAULT_MAX_AGE

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ManageLinks:
        """Links of the app with this config (PUBLIC_BASE_URL, SECRET_KEY)."""
        return cls(str(config["PUBLIC_BASE_URL"]).rstrip("/"), str(config["SECRET_KEY"]))

    def _serializer(self) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(self.secret_key, salt=SALT)

    def token(self, public_id: str) -> str:
        """A signed token for managing one booking."""
        return str(self._serializer().dumps(public_id))

    def url(self, public_id: str, action: str) -> str:
        """The customer's page for ``action`` ("cancel" or "reschedule")."""
        return f"{self.base_url.rstrip('/')}/bookings/manage/{self.token(public_id)}/{action}"

    def public_id(self, token: str) -> str:
        """The booking a token names, or InvalidLink (tampered, foreign or expired)."""
        try:
            value = self._serializer().loads(token, max_age=int(self.max_age.total_seconds()))
        except SignatureExpired:
            raise InvalidLink("This link has expired.") from None
        except BadSignature:
            raise InvalidLink("This link is not valid.") from None
        if not isinstance(value, str):
            raise InvalidLink("This link is not valid.")
        return value

"""The one check of an e-mail address typed into the service (accounts, authorization lists).

``email-validator`` does the checking (syntax, length limits, internationalised domains); we
store and compare addresses in lower case. ``bookly_client`` checks customer addresses with
the same library at its own boundary, since it cannot import the web app.
"""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email


class InvalidEmail(ValueError):
    """Not a usable e-mail address; the message says why."""


def email_address(raw: str) -> str:
    """The address in the form we store and compare, or InvalidEmail."""
    value = raw.strip()
    try:
        # test_environment: accept the reserved .test domain the demo and tests use; never
        # look the domain up (no network call inside a request).
        checked = validate_email(value, check_deliverability=False, test_environment=True)
    except EmailNotValidError as exc:
        raise InvalidEmail(f"{value[:254]!r} is not an e-mail address: {exc}") from None
    return checked.normalized.lower()

"""Input checks done before any transaction starts (lengths follow the column sizes)."""

from __future__ import annotations

from dataclasses import replace

from email_validator import EmailNotValidError, validate_email

from bookly_client.errors import InvalidCustomer, ValidationError
from bookly_client.models import CustomerDetails
from bookly_client.timezone import LocalZone

BOOKING_STATUSES = ("approved", "pending")
MAX_REFERENCE = 200


def clean_customer(customer: CustomerDetails) -> CustomerDetails:
    """Validated customer details with a normalised e-mail; raises InvalidCustomer."""
    try:
        email = validate_email(
            customer.email.strip(), check_deliverability=False, test_environment=True
        ).normalized
    except EmailNotValidError as exc:
        raise InvalidCustomer(f"not an e-mail address: {customer.email!r} ({exc})") from exc
    name = customer.full_name.strip()
    phone = customer.phone.strip()
    if len(email) > 128:
        raise InvalidCustomer("e-mail address longer than 128 characters")
    if not name or len(name) > 128:
        raise InvalidCustomer("full name must have 1 to 128 characters")
    if len(phone) > 32:
        raise InvalidCustomer("phone number longer than 32 characters")
    if customer.time_zone is not None:
        try:
            LocalZone.named(customer.time_zone)
        except Exception as exc:
            raise InvalidCustomer(f"unknown time zone {customer.time_zone!r}") from exc
    return replace(customer, email=email, full_name=name, phone=phone)


def split_name(full_name: str) -> tuple[str, str]:
    """First and last name the way Bookly fills them (first word, rest), cut to 64 chars."""
    first, _, last = full_name.partition(" ")
    return first[:64], last.strip()[:64]


def check_reference(reference: str) -> str:
    """A non-empty booking reference of sane length."""
    if not isinstance(reference, str) or not reference.strip():
        raise ValidationError("booking reference must be a non-empty string")
    if len(reference) > MAX_REFERENCE:
        raise ValidationError(f"booking reference longer than {MAX_REFERENCE} characters")
    return reference


def check_status(status: str) -> str:
    """A status our bookings may be created with."""
    if status not in BOOKING_STATUSES:
        raise ValidationError(f"status must be one of {BOOKING_STATUSES}, got {status!r}")
    return status


def check_label(label: str) -> str:
    """A busy-block label that fits custom_service_name."""
    label = label.strip()
    if not label or len(label) > 255:
        raise ValidationError("block label must have 1 to 255 characters")
    return label

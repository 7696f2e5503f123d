"""What a booking request is, how it is checked, and its idempotency fingerprint."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from webapp.services.bookings.errors import InvalidBooking
from webapp.services.email_addresses import InvalidEmail, email_address

# Bookly's customers columns: full_name 128 (its own validation), phone 32.
MAX_NAME = 128
MAX_PHONE = 32
MAX_NOTE = 1000
MAX_KEY = 200
# Booking references (our public ids) are UUIDv5 of the scoped idempotency key.
REFERENCE_NAMESPACE = uuid.UUID("6f1c2a8e-3d4b-5a6c-9e7f-0b1c2d3e4f50")


@dataclass(frozen=True, slots=True)
class Customer:
    """Who books: name and e-mail required, phone and IANA time zone optional."""

    name: str
    email: str
    phone: str = ""
    time_zone: str | None = None


@dataclass(frozen=True, slots=True)
class BookingRequest:
    """One booking as asked for (times aware; ``start`` is an instant)."""

    instructor_id: int
    service_id: int
    start: datetime
    customer: Customer
    note: str | None = None

    def fingerprint(self) -> str:
        """SHA-256 of the request's meaning: same key + same fingerprint = the same request."""
        who = self.customer
        start = self.start.astimezone(UTC) if self.start.tzinfo is not None else self.start
        body = {
            "instructor": self.instructor_id,
            "service": self.service_id,
            "start": start.isoformat(),
            "customer": [who.name.strip(), who.email.strip().lower(), who.phone.strip(),
                         who.time_zone],
            "note": (self.note or "").strip(),
        }  # fmt: skip
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def checked(request: BookingRequest, now: datetime) -> BookingRequest:
    """The request with a normalised customer, or InvalidBooking listing every bad field."""
    problems: dict[str, str] = {}
    if request.start.tzinfo is None or request.start.utcoffset() is None:
        problems["start"] = "Give the start with a time zone offset (e.g. 2030-05-06T09:00:00Z)."
    elif request.start <= now:
        problems["start"] = "This start is in the past."
    customer, customer_problems = _checked_customer(request.customer)
    problems.update(customer_problems)
    note = (request.note or "").strip() or None
    if note is not None and len(note) > MAX_NOTE:
        problems["note"] = f"Keep the note under {MAX_NOTE} characters."
    if problems:
        raise InvalidBooking(problems)
    return replace(request, customer=customer, note=note)


def _checked_customer(customer: Customer) -> tuple[Customer, dict[str, str]]:
    problems: dict[str, str] = {}
    name, phone = customer.name.strip(), customer.phone.strip()
    if not name:
        problems["customer.name"] = "Enter a name."
    elif len(name) > MAX_NAME:
        problems["customer.name"] = f"Keep the name under {MAX_NAME} characters."
    email = customer.email
    try:
        email = email_address(customer.email)
    except InvalidEmail:
        problems["customer.email"] = "Enter a valid e-mail address."
    if len(phone) > MAX_PHONE:
        problems["customer.phone"] = f"Keep the phone number under {MAX_PHONE} characters."
    if customer.time_zone is not None:
        try:
            ZoneInfo(customer.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            problems["customer.time_zone"] = "Unknown time zone."
    return Customer(name, email, phone, customer.time_zone), problems


def checked_key(idempotency_key: str) -> str:
    """A usable idempotency key (already scoped by the caller), or InvalidBooking."""
    key = idempotency_key.strip()
    if not key or len(key) > MAX_KEY or not key.isprintable():
        raise InvalidBooking(
            {"idempotency_key": f"Send a printable Idempotency-Key of 1 to {MAX_KEY} characters."}
        )
    return key


def booking_reference(idempotency_key: str) -> str:
    """Our booking's public id, derived from its key: a retried request finds its Bookly rows."""
    return str(uuid.uuid5(REFERENCE_NAMESPACE, idempotency_key))

"""Bad input: a typed error and nothing written (row counts unchanged)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bookly_client import (
    BooklyError,
    CustomerDetails,
    InvalidCustomer,
    NaiveDatetime,
    OutsideWorkingHours,
    ServiceNotOffered,
    UnknownService,
    UnknownStaff,
    ValidationError,
)

from .conftest import KIM, School, utc

TUE_10 = utc("2026-11-24 09:00")


def attempt(school: School, **changes) -> None:
    args = {
        "reference": "bad",
        "staff_id": school.ada,
        "service_id": school.lesson,
        "start": TUE_10,
        "customer": KIM,
    }
    args.update(changes)
    school.gateway.create_booking(**args)


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        pytest.param({"staff_id": 999}, UnknownStaff, id="unknown-staff"),
        pytest.param({"service_id": 999}, UnknownService, id="unknown-service"),
        pytest.param({"service_id": "exam"}, ServiceNotOffered, id="service-not-offered"),
        pytest.param({"start": utc("2026-11-24 05:00")}, OutsideWorkingHours, id="before-hours"),
        pytest.param({"start": utc("2026-11-24 16:30")}, OutsideWorkingHours, id="past-end"),
        pytest.param({"start": utc("2026-11-24 11:30")}, OutsideWorkingHours, id="in-break"),
        pytest.param({"start": utc("2026-11-22 09:00")}, OutsideWorkingHours, id="sunday"),
        pytest.param({"start": datetime(2026, 11, 24, 10)}, NaiveDatetime, id="naive"),  # noqa: DTZ001
        pytest.param(
            {"customer": CustomerDetails("not-an-email", "Kim")}, InvalidCustomer, id="email"
        ),
        pytest.param(
            {"customer": CustomerDetails("kim@", "Kim")}, InvalidCustomer, id="email-no-domain"
        ),
        pytest.param(
            {"customer": CustomerDetails("a" * 120 + "@example.com", "Kim")},
            InvalidCustomer,
            id="email-too-long",
        ),
        pytest.param(
            {"customer": CustomerDetails("k@example.com", " ")}, InvalidCustomer, id="name"
        ),
        pytest.param(
            {"customer": CustomerDetails("k@example.com", "Kim", phone="1" * 40)},
            InvalidCustomer,
            id="phone",
        ),
        pytest.param({"status": "cancelled"}, ValidationError, id="status"),
        pytest.param({"reference": ""}, ValidationError, id="reference"),
    ],
)
def test_bad_booking_is_refused_and_writes_nothing(school: School, changes, error) -> None:
    changes = dict(changes)  # parametrize shares the dict between back ends
    if changes.get("service_id") == "exam":
        changes["service_id"] = school.exam
    before = school.db.counts()
    with pytest.raises(error):
        attempt(school, **changes)
    assert school.db.counts() == before


def test_errors_share_one_base_class() -> None:
    for error in (UnknownStaff, ServiceNotOffered, OutsideWorkingHours, NaiveDatetime):
        assert issubclass(error, BooklyError)


def test_naive_datetimes_rejected_by_reads(school: School) -> None:
    with pytest.raises(NaiveDatetime):
        school.gateway.list_appointments(datetime(2026, 11, 24), TUE_10)  # noqa: DTZ001


def test_failure_after_inserts_rolls_everything_back(school: School, monkeypatch) -> None:
    """A crash after the customer and appointment rows were inserted leaves nothing behind."""
    import bookly_client.gateway.bookings as bookings

    calls = []

    def crash_on_second_log(*args, **kwargs) -> None:
        calls.append(kwargs["table"].name)
        if len(calls) == 2:
            raise RuntimeError("simulated crash mid-transaction")

    monkeypatch.setattr(bookings, "write_log", crash_on_second_log)
    before = school.db.counts()
    with pytest.raises(RuntimeError):
        attempt(school, customer=CustomerDetails("new@example.com", "New Person"))
    assert calls == [school.db.tables.customers.name, school.db.tables.appointments.name]
    assert school.db.counts() == before


def test_break_edges_are_bookable(school: School) -> None:
    attempt(school, reference="before-lunch", start=utc("2026-11-24 10:00"))  # 11:00-12:00
    attempt(school, reference="after-lunch", start=utc("2026-11-24 12:00"))  # 13:00-14:00
    attempt(school, reference="last", start=utc("2026-11-24 16:00"))  # 17:00-18:00
    assert len(school.gateway.list_appointments(TUE_10, TUE_10 + timedelta(hours=9))) == 3

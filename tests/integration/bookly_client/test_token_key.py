"""Without a token secret the gateway writes nothing (Bookly's cancel-link tokens stay secret).

Bookly shows the customer-appointment token in public cancel links; it is derived from our
booking reference with the configured secret. A gateway without one must not write at all.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from bookly_client import BooklyGateway, MissingTokenKey

from .conftest import KIM, School, utc

TUE_10 = utc("2026-11-24 09:00")

Write = Callable[[BooklyGateway, School, int], Any]

WRITES: dict[str, Write] = {
    "create_booking": lambda g, s, _: g.create_booking(
        reference="bk-new", staff_id=s.ada, service_id=s.lesson, start=TUE_10, customer=KIM
    ),
    "cancel_booking": lambda g, s, _: g.cancel_booking("bk-1"),
    "reschedule_booking": lambda g, s, _: g.reschedule_booking("bk-1", TUE_10 + timedelta(hours=4)),
    "cancel_appointment": lambda g, s, booked: g.cancel_appointment(booked),
    "reschedule_appointment": lambda g, s, booked: g.reschedule_appointment(
        booked, TUE_10 + timedelta(hours=4)
    ),
    "create_busy_block": lambda g, s, _: g.create_busy_block(
        s.ada, TUE_10 + timedelta(hours=5), TUE_10 + timedelta(hours=6)
    ),
    "move_busy_block": lambda g, s, _: g.move_busy_block(
        _block(s), TUE_10 + timedelta(hours=7), TUE_10 + timedelta(hours=8)
    ),
    "delete_busy_block": lambda g, s, _: g.delete_busy_block(_block(s)),
}


def _block(school: School) -> int:
    [block] = school.gateway.list_busy_blocks(TUE_10, TUE_10 + timedelta(days=1))
    return block.id


@pytest.mark.parametrize("secret", [None, "", b""])
@pytest.mark.parametrize("write", WRITES)
def test_every_write_without_a_token_secret_is_refused_and_writes_nothing(
    school: School, write: str, secret: str | bytes | None
) -> None:
    booked = school.gateway.create_booking(
        reference="bk-1", staff_id=school.ada, service_id=school.lesson, start=TUE_10, customer=KIM
    ).appointment_id
    school.gateway.create_busy_block(
        school.ada, TUE_10 + timedelta(hours=2), TUE_10 + timedelta(hours=3)
    )
    before = school.db.counts()
    keyless = school.db.gateway(token_secret=secret)
    with pytest.raises(MissingTokenKey, match="no token_secret: configure one"):
        WRITES[write](keyless, school, booked)
    assert school.db.counts() == before
    [appointment] = [
        a for a in school.gateway.list_appointments(TUE_10, TUE_10 + timedelta(days=1))
        if a.id == booked
    ]  # fmt: skip
    assert appointment.start == TUE_10  # neither moved nor cancelled
    assert appointment.is_busy


def test_a_keyless_gateway_cannot_find_bookings_by_reference_either(school: School) -> None:
    school.gateway.create_booking(
        reference="bk-1", staff_id=school.ada, service_id=school.lesson, start=TUE_10, customer=KIM
    )
    with pytest.raises(MissingTokenKey):
        school.db.gateway(token_secret=None).find_booking_by_reference("bk-1")


def test_a_keyless_gateway_still_reads(school: School) -> None:
    keyless = school.db.gateway(token_secret=None)
    assert {member.id for member in keyless.list_staff()} == {school.ada, school.grace}
    assert keyless.list_appointments(TUE_10, TUE_10 + timedelta(days=1)) == []

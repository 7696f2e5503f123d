"""The sandbox demo site on SQLite and MariaDB."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bookly_client import BooklyGateway
from bookly_client.demo import create_demo_site

from .conftest import utc

NOW = utc("2026-11-22 12:00")


@pytest.fixture(
    params=[pytest.param("sqlite", id="sqlite"), pytest.param("mariadb", marks=pytest.mark.mariadb)]
)
def empty_url(request: pytest.FixtureRequest, tmp_path) -> str:
    if request.param == "mariadb":
        return request.getfixturevalue("mariadb_url")
    return f"sqlite:///{tmp_path / 'demo.db'}"


def test_demo_site_is_seeded_once(empty_url: str) -> None:
    create_demo_site(empty_url, now=NOW)
    create_demo_site(empty_url, now=NOW)
    gateway = BooklyGateway(empty_url, clock=lambda: NOW, token_secret="s")
    try:
        assert gateway.check_compatibility().db_version == "27.4"
        staff = gateway.list_staff()
        assert [(s.email, s.full_name) for s in staff] == [
            ("ada@demo.test", "Ada Lovelace"),
            ("grace@demo.test", "Grace Hopper"),
            ("alan@demo.test", "Alan Turing"),
        ]
        assert len({s.time_zone for s in staff}) == 3
        hours = {gateway.get_schedule(s.id).days for s in staff}
        assert len(hours) == 3
        services = gateway.list_services()
        assert sorted(s.duration for s in services) == [timedelta(minutes=m) for m in (30, 60, 90)]
        assert all(s.padding_left or s.padding_right for s in services)
        appointments = gateway.list_appointments(NOW, NOW + timedelta(days=21))
        assert len(appointments) == 8
        assert sum(not a.is_busy for a in appointments) == 2
        assert any(a.is_block for a in appointments)
        assert any(d.repeats_yearly for d in gateway.get_schedule(staff[0].id).days_off)
    finally:
        gateway.engine.dispose()


def test_demo_site_takes_bookings(empty_url: str) -> None:
    from bookly_client import CustomerDetails

    create_demo_site(empty_url, table_prefix="wp_2_", now=NOW)
    gateway = BooklyGateway(empty_url, table_prefix="wp_2_", clock=lambda: NOW, token_secret="s")
    try:
        ada = gateway.list_staff()[0]
        lesson = next(s for s in gateway.list_services() if s.duration == timedelta(minutes=30))
        periods = gateway.working_periods(ada.id, NOW + timedelta(days=7), NOW + timedelta(days=8))
        start = periods[0].start  # Monday 30 Nov, 08:00 Berlin: nothing seeded there
        booking = gateway.create_booking(
            reference="demo", staff_id=ada.id, service_id=lesson.id, start=start,
            customer=CustomerDetails("visitor@demo.test", "Visiting Student"),
        )  # fmt: skip
        found = gateway.find_booking_by_reference("demo")
        assert found is not None
        assert (found.appointment_id, found.start) == (booking.appointment_id, start)
    finally:
        gateway.engine.dispose()

"""Availability against the served sandbox: Bookly periods, one Cronofy query, the cache."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from tests.integration.availability.conftest import (
    BASELINE,
    BERLIN,
    GRACE_EMAIL,
    School,
    availability_calls,
    berlin,
    connect_as,
    connection_of,
    find,
    hhmm,
    quarter_hours,
    update_connection,
)
from tests.integration.connect.conftest import Wiring
from tests.webapp_fixtures import People
from webapp.availability_cache import get_availability_cache
from webapp.models import ConnectionStatus
from webapp.services.availability.results import ScheduleOnlyReason

MODES = [
    pytest.param("read_write", "google", id="read_write"),
    pytest.param("free_busy", "ms_graph", id="free_busy"),
    pytest.param("no_calendar", "google", id="no_calendar"),
]


def _conflict_calendar(app: Flask, school: School) -> str:
    conn = connection_of(app, school.ada_id)
    return conn.write_calendar_id or conn.conflict_calendar_ids[0]


@pytest.mark.parametrize(("mode", "provider"), MODES)
def test_an_event_in_a_conflict_calendar_removes_exactly_the_overlapping_starts(
    app: Flask, people: People, school: School, wiring: Wiring, mode: str, provider: str
) -> None:
    connect_as(app, people.instructor_email, people.password, mode, "ada@demo.test", provider)
    calendar = _conflict_calendar(app, school)
    assert calendar in connection_of(app, school.ada_id).conflict_calendar_ids
    wiring.sandbox.control.add_event(
        calendar, "Dentist", berlin("2026-11-24 10:00"), berlin("2026-11-24 10:30")
    )
    view = find(app, [school.ada_id], school.lesson)
    # A 60-minute lesson starting 09:15 .. 10:15 would overlap 10:00-10:30.
    assert hhmm(view) == [t for t in BASELINE if t not in quarter_hours("09:15", "10:15")]
    assert view.schedule_only == ()


def test_an_event_in_a_calendar_not_chosen_for_conflicts_changes_nothing(
    app: Flask, people: People, school: School, wiring: Wiring
) -> None:
    connect_as(app, people.instructor_email, people.password, "read_write", "ada@demo.test")
    primary = wiring.sandbox.control.calendar_id("ada@demo.test")
    other = wiring.sandbox.control.calendar_id("ada@demo.test", primary=False)
    update_connection(app, school.ada_id, conflict_calendar_ids=[primary])
    wiring.sandbox.control.add_event(
        other, "Colleague's shift", berlin("2026-11-24 10:00"), berlin("2026-11-24 12:00")
    )
    assert hhmm(find(app, [school.ada_id], school.lesson)) == BASELINE
    update_connection(app, school.ada_id, conflict_calendar_ids=[primary, other])
    assert hhmm(find(app, [school.ada_id], school.lesson)) == [
        "09:00", *quarter_hours("12:00", "16:00"),
    ]  # fmt: skip


def test_padding_becomes_the_buffer_and_the_grid_the_start_interval(
    app: Flask, people: People, school: School, wiring: Wiring, monkeypatch: pytest.MonkeyPatch
) -> None:
    school.bookly.set_option("bookly_gen_time_slot_length", "20")
    padded = school.bookly.add_service(
        "Padded", 60, staff=(school.ada_staff,), padding_left=900, padding_right=900
    )
    connect_as(app, people.instructor_email, people.password, "read_write", "ada@demo.test")
    wiring.sandbox.control.add_event(
        _conflict_calendar(app, school),
        "Call",
        berlin("2026-11-24 12:00"),
        berlin("2026-11-24 12:30"),
    )
    bodies: list[dict[str, Any]] = []
    original = wiring.session.request

    def recording(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        if str(url).endswith("/v1/availability"):
            bodies.append(kwargs.get("json") or {})
        return original(method, url, *args, **kwargs)

    monkeypatch.setattr(wiring.session, "request", recording)
    view = find(app, [school.ada_id], padded)
    grid = [f"{h:02d}:{m:02d}" for h in range(9, 17) for m in (0, 20, 40) if (h, m) <= (16, 0)]
    # With 15 minutes of buffer each side, [s - 15, s + 75) must miss 12:00-12:30.
    blocked = {"11:00", "11:20", "11:40", "12:00", "12:20", "12:40"}
    assert hhmm(view) == [t for t in grid if t not in blocked]
    assert bodies[0]["buffer"] == {"before": {"minutes": 15}, "after": {"minutes": 15}}
    assert bodies[0]["start_interval"] == {"minutes": 20}
    assert bodies[0]["required_duration"] == {"minutes": 60}


def test_any_instructor_is_the_union_with_who_is_free(
    app: Flask, people: People, school: School, wiring: Wiring
) -> None:
    connect_as(app, people.instructor_email, people.password, "read_write", "ada@demo.test")
    connect_as(app, GRACE_EMAIL, people.password, "free_busy", "grace@demo.test", "ms_graph")
    control = wiring.sandbox.control
    control.add_event(
        _conflict_calendar(app, school), "Ada busy",
        berlin("2026-11-24 09:00"), berlin("2026-11-24 12:00"),
    )  # fmt: skip
    grace = connection_of(app, school.grace_id)
    control.add_event(
        grace.write_calendar_id or grace.conflict_calendar_ids[0], "Grace busy",
        berlin("2026-11-24 13:00"), berlin("2026-11-24 17:00"),
    )  # fmt: skip
    wiring.sandbox.control.clear_requests()
    view = find(app, [school.ada_id, school.grace_id], school.lesson, any_instructor=True)
    assert len(availability_calls(wiring)) == 1
    who = {s.start.astimezone(BERLIN).strftime("%H:%M"): s.instructor_ids for s in view.slots}
    assert set(who) == set(BASELINE)
    for time, ids in who.items():
        ada_free = time >= "12:00"
        grace_free = time <= "12:00"
        expected = tuple(sorted(i for i, ok in ((school.ada_id, ada_free),
                                                 (school.grace_id, grace_free)) if ok))  # fmt: skip
        assert ids == expected, time


def test_any_instructor_merges_schedule_only_instructors(
    app: Flask, people: People, school: School, wiring: Wiring
) -> None:
    connect_as(app, people.instructor_email, people.password, "read_write", "ada@demo.test")
    wiring.sandbox.control.add_event(
        _conflict_calendar(app, school), "Ada busy",
        berlin("2026-11-24 09:00"), berlin("2026-11-24 17:00"),
    )  # fmt: skip
    view = find(app, [school.ada_id, school.grace_id], school.lesson, any_instructor=True)
    assert hhmm(view) == BASELINE
    assert all(s.instructor_ids == (school.grace_id,) for s in view.slots)
    assert [(s.instructor_id, s.reason) for s in view.schedule_only] == [
        (school.grace_id, ScheduleOnlyReason.NOT_CONNECTED)
    ]


def test_needs_reconnect_falls_back_to_the_schedule_and_says_why(
    app: Flask, people: People, school: School, wiring: Wiring
) -> None:
    connect_as(app, people.instructor_email, people.password, "read_write", "ada@demo.test")
    wiring.sandbox.control.add_event(
        _conflict_calendar(app, school), "Busy",
        berlin("2026-11-24 09:00"), berlin("2026-11-24 17:00"),
    )  # fmt: skip
    update_connection(app, school.ada_id, status=ConnectionStatus.NEEDS_RECONNECT)
    wiring.sandbox.control.clear_requests()
    view = find(app, [school.ada_id], school.lesson)
    assert hhmm(view) == BASELINE
    assert [s.message for s in view.schedule_only] == [
        "schedule only: calendar not checked (the calendar connection needs to be reconnected)"
    ]
    assert availability_calls(wiring) == []


def test_one_cronofy_call_per_uncached_view_and_none_when_cached(
    app: Flask, people: People, school: School, wiring: Wiring
) -> None:
    connect_as(app, people.instructor_email, people.password, "read_write", "ada@demo.test")
    wiring.sandbox.control.clear_requests()
    first = find(app, [school.ada_id], school.lesson)
    assert len(availability_calls(wiring)) == 1
    again = find(app, [school.ada_id], school.lesson)
    assert len(availability_calls(wiring)) == 1
    assert again.from_cache
    assert not first.from_cache
    assert again.slots == first.slots
    with app.app_context():
        get_availability_cache().drop([school.ada_id])
    find(app, [school.ada_id], school.lesson)
    assert len(availability_calls(wiring)) == 2

"""GET /api/v1/availability: slots in the asked zone, who is free, and bad input refused."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.integration.api.conftest import api_get, assert_error, issue_key
from tests.integration.availability.conftest import (
    BASELINE,
    School,
    berlin,
    connect_as,
)
from tests.integration.connect.conftest import Wiring
from tests.webapp_fixtures import People
from webapp.availability_cache import get_availability_cache
from webapp.services.availability.cache import InProcessStore

TUESDAY = "from=2026-11-24T00:00:00%2B01:00&to=2026-11-25T00:00:00%2B01:00"


@pytest.fixture
def key(app: Flask, people: People, school: School) -> str:
    return issue_key(app, people.admin_id)


@pytest.fixture
def api(app: Flask) -> FlaskClient:
    return app.test_client()


def _get(api: FlaskClient, key: str, query: str) -> Any:
    return api_get(api, f"/api/v1/availability?{query}", key)


def test_slots_come_in_the_asked_zone_with_who_is_free(
    api: FlaskClient, key: str, school: School
) -> None:
    query = f"service={school.lesson}&instructor={school.ada_id}&{TUESDAY}&tz=America/New_York"
    response = _get(api, key, query)
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.json
    assert body["slots"][0] == {
        "start": "2026-11-24T03:00:00-05:00",
        "end": "2026-11-24T04:00:00-05:00",
        "instructors": [school.ada_id],
    }
    assert len(body["slots"]) == len(BASELINE)
    assert body["schedule_only"] == [school.ada_id]
    assert body["notices"][0]["message"] == (
        "schedule only: calendar not checked (no calendar is connected)"
    )


def test_any_instructor_lists_everyone_free_and_the_calendar_counts(
    app: Flask, api: FlaskClient, key: str, people: People, school: School, wiring: Wiring
) -> None:
    connect_as(app, people.instructor_email, people.password, "read_write", "ada@demo.test")
    wiring.sandbox.control.add_event(
        wiring.sandbox.control.calendar_id("ada@demo.test"), "Busy",
        berlin("2026-11-24 09:00"), berlin("2026-11-24 12:00"),
    )  # fmt: skip
    body = _get(api, key, f"service={school.lesson}&instructor=any&{TUESDAY}&tz=Europe/Berlin").json
    who = {slot["start"][11:16]: slot["instructors"] for slot in body["slots"]}
    assert who["09:00"] == [school.grace_id]
    assert who["12:00"] == sorted([school.ada_id, school.grace_id])
    assert body["schedule_only"] == [school.grace_id]


def _cache_entries(app: Flask) -> int:
    with app.app_context():
        store = get_availability_cache().store
        assert isinstance(store, InProcessStore)
        return len(store._entries)  # noqa: SLF001 - the test looks inside the cache


@pytest.mark.parametrize(
    ("query", "status", "code", "field"),
    [
        ("service=999&instructor={ada}&{tuesday}", 404, "not_found", "service"),
        ("service={lesson}&instructor=4242&{tuesday}", 404, "unknown_instructor", "instructor"),
        ("service={lesson}&instructor={ada}&from=2026-11-25T00:00:00Z&to=2026-11-24T00:00:00Z",
         422, "validation_failed", "to"),
        ("service={lesson}&instructor={ada}&from=2027-12-01T00:00:00Z&to=2027-12-02T00:00:00Z",
         422, "validation_failed", "from"),
        ("service={lesson}&instructor={ada}&{tuesday}&tz=Mars/Olympus", 422,
         "validation_failed", "tz"),
        ("service={lesson}&instructor={ada}&from=2026-11-24T00:00:00&to=2026-11-25T00:00:00Z",
         422, "validation_failed", "from"),
    ],
)  # fmt: skip
def test_bad_input_is_a_4xx_with_field_messages_and_nothing_cached(
    app: Flask, api: FlaskClient, key: str, school: School,
    query: str, status: int, code: str, field: str,
) -> None:  # fmt: skip
    filled = query.format(lesson=school.lesson, ada=school.ada_id, tuesday=TUESDAY)
    error = assert_error(_get(api, key, filled), status, code)
    assert field in error["fields"], error
    assert _cache_entries(app) == 0


@pytest.mark.parametrize("header", [None, "Bearer not-a-key"])
def test_no_or_a_wrong_key_is_a_401(
    app: Flask, api: FlaskClient, school: School, header: str | None
) -> None:
    headers = {"Authorization": header} if header else {}
    query = f"service={school.lesson}&instructor={school.ada_id}&{TUESDAY}"
    response = api.get(f"/api/v1/availability?{query}", headers=headers)
    assert response.status_code == 401
    assert response.json["error"]["code"] in ("unauthorized", "invalid_api_key")
    assert _cache_entries(app) == 0


def test_an_instructor_of_another_organisation_is_unknown(
    app: Flask, api: FlaskClient, key: str, school: School
) -> None:
    from tests.integration.api.conftest import _user
    from webapp.models import Role

    with app.app_context():
        other = _user("bob@b.test", Role.INSTRUCTOR, "Beta School", "Bob")
        other_id = other.id
    query = f"service={school.lesson}&instructor={other_id}&{TUESDAY}"
    assert_error(_get(api, key, query), 404, "unknown_instructor")

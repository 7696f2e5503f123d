"""``/api/v1/bookings`` through the Flask test client: shapes, statuses, nothing written on
bad input, tenant isolation. Real HTTP races are in test_api_concurrency.py."""

from __future__ import annotations

import json as jsonlib
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.sandbox_fixtures import RunningSandbox
from tests.webapp_fixtures import People
from webapp.extensions import db
from webapp.models import AuditEvent, Role, User
from webapp.services import accounts, api_keys

from .conftest import School, api_body, at, connect_instructor, counts


def post(client: FlaskClient, key: str, path: str, payload: Any, idem: str | None = "k1",
         raw: bytes | None = None) -> TestResponse:  # fmt: skip
    headers = {"Authorization": f"Bearer {key}"}
    if idem is not None:
        headers["Idempotency-Key"] = idem
    data = raw if raw is not None else jsonlib.dumps(payload).encode()
    return client.post(path, data=data, headers=headers, content_type="application/json")


def error_of(response: TestResponse, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    error: dict[str, Any] = response.json["error"]  # type: ignore[index]
    assert error["code"] == code
    assert error["message"]
    return error


def test_a_booking_is_created_read_and_listed(
    app: Flask, client: FlaskClient, school: School, key: str
) -> None:
    made = post(client, key, "/api/v1/bookings", api_body(school))
    assert made.status_code == 201, made.get_data(as_text=True)
    booking = made.json
    assert booking is not None
    assert (booking["status"], booking["service"], booking["instructor"]) == (
        "confirmed", school.lesson, school.instructor_id
    )  # fmt: skip
    assert booking["start"].startswith("2030-01-07T09:00:00")
    assert booking["delivery"] == "emailed_invite"
    assert booking["schedule_only"] is True
    auth = {"Authorization": f"Bearer {key}"}
    again = client.get(f"/api/v1/bookings/{booking['id']}", headers=auth).json
    assert again is not None
    assert again["delivery_state"] == "delivered"  # delivered eagerly in the embedded default
    assert {**again, "delivery_state": "pending"} == booking
    listed = client.get(
        "/api/v1/bookings", headers=auth,
        query_string={"from": at(0).isoformat(), "to": at(23).isoformat(),
                      "instructor": school.instructor_id},
    )  # fmt: skip
    assert [b["id"] for b in listed.json["bookings"]] == [booking["id"]]  # type: ignore[index]
    with app.app_context():  # audited in the booking's transaction, by the key that asked
        entry = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "booking.created")
        ).one()
        assert entry.target == booking["id"]
        assert entry.actor_label.startswith("API key Website (")
        assert "kim@example.com" not in str(entry.details)


@pytest.mark.requirement(13)
def test_the_same_key_and_body_answer_the_first_response_again(
    app: Flask, client: FlaskClient, school: School, key: str
) -> None:
    first = post(client, key, "/api/v1/bookings", api_body(school))
    second = post(client, key, "/api/v1/bookings", api_body(school))
    assert second.status_code == 201
    # The same booking again; only its delivery may have moved on since.
    assert {**second.json, "delivery_state": "-"} == {**first.json, "delivery_state": "-"}  # type: ignore[dict-item]
    assert second.headers.get("Idempotent-Replayed") == "true"
    other = post(client, key, "/api/v1/bookings", api_body(school, start=at(11).isoformat()))
    error = error_of(other, 422, "idempotency_key_reused")
    assert "Idempotency-Key" in error["fields"]
    assert counts(app, school.site)["bookings"] == 1


def test_a_taken_slot_is_409_with_the_next_free_slots(
    app: Flask, client: FlaskClient, school: School, key: str
) -> None:
    post(client, key, "/api/v1/bookings", api_body(school))
    taken = post(
        client, key, "/api/v1/bookings", api_body(school, start=at(9, 30).isoformat()), "k2"
    )
    error = error_of(taken, 409, "slot_taken")
    starts = [s["start"] for s in error["next_slots"]]
    assert starts[:2] == [at(10).isoformat(), at(10, 15).isoformat()]


def test_cancel_frees_the_slot_and_reschedule_moves_it(
    app: Flask, client: FlaskClient, school: School, key: str
) -> None:
    made = post(client, key, "/api/v1/bookings", api_body(school)).json
    assert made is not None
    moved = post(client, key, f"/api/v1/bookings/{made['id']}/reschedule",
                 {"start": at(13).isoformat()}, None)  # fmt: skip
    assert moved.status_code == 200, moved.get_data(as_text=True)
    assert moved.json["start"].startswith("2030-01-07T13:00:00")  # type: ignore[index]
    cancelled = post(client, key, f"/api/v1/bookings/{made['id']}/cancel", {}, None)
    assert cancelled.json["status"] == "cancelled"  # type: ignore[index]
    again = post(client, key, "/api/v1/bookings", api_body(school, start=at(13).isoformat()), "k2")
    assert again.status_code == 201


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"start": "2030-01-07T09:00:00"}, 422, "start"),  # naive
        ({"start": "2020-01-06T09:00:00Z"}, 422, "start"),  # past
        ({"start": at(9, 10).isoformat()}, 422, "start"),  # off the grid
        ({"customer": {"name": "Kim", "email": "not-an-address"}}, 422, "customer.email"),
        ({"customer": {"name": "K" * 129, "email": "kim@example.com"}}, 422, "customer.name"),
        ({"note": "n" * 1001}, 422, "note"),
        ({"service": 999}, 422, "service"),
        ({"instructor": 999}, 404, "instructor"),
    ],
)
def test_bad_input_is_refused_with_field_messages_and_writes_nothing(
    app: Flask, client: FlaskClient, school: School, key: str, sandbox: RunningSandbox,
    change: dict[str, Any], status: int, field: str,
) -> None:  # fmt: skip
    before = counts(app, school.site)
    sandbox.control.clear_requests()
    response = post(client, key, "/api/v1/bookings", api_body(school, **change))
    assert response.status_code == status, response.get_data(as_text=True)
    assert field in response.json["error"]["fields"]  # type: ignore[index]
    assert counts(app, school.site) == before
    writes = [r for r in sandbox.control.requests() if r["method"] != "GET"]
    assert writes == []


def test_a_missing_key_and_an_oversized_body_are_refused(
    app: Flask, client: FlaskClient, school: School, key: str
) -> None:
    before = counts(app, school.site)
    error_of(post(client, key, "/api/v1/bookings", api_body(school), idem=None), 400, "bad_request")
    huge = jsonlib.dumps(api_body(school, note="x" * 17_000)).encode()
    assert post(client, key, "/api/v1/bookings", None, raw=huge).status_code == 413
    assert counts(app, school.site) == before


@pytest.mark.requirement(21)
def test_another_organisation_sees_none_of_it(
    app: Flask, client: FlaskClient, school: School, key: str
) -> None:
    made = post(client, key, "/api/v1/bookings", api_body(school)).json
    assert made is not None
    with app.app_context():
        other = accounts.create_user(
            email="boss@other.test", password="correct horse battery", role=Role.ADMIN,
            organisation=accounts.get_or_create_organisation("Other school"), name="Boss",
        )  # fmt: skip
        other_key = api_keys.create_key(admin=other, name="Theirs").key
    auth = {"Authorization": f"Bearer {other_key}"}
    assert client.get(f"/api/v1/bookings/{made['id']}", headers=auth).status_code == 404
    assert (
        post(client, other_key, f"/api/v1/bookings/{made['id']}/cancel", {}, None).status_code
        == 404
    )
    error_of(post(client, other_key, "/api/v1/bookings", api_body(school), "x"), 404,
             "unknown_instructor")  # fmt: skip


def test_a_calendar_event_after_viewing_makes_the_post_409(
    app: Flask, client: FlaskClient, people: People, school: School, key: str,
    sandbox: RunningSandbox,
) -> None:  # fmt: skip
    connect_instructor(app, people, "free_busy")
    with app.app_context():
        ada = db.session.get(User, people.instructor_id)
        assert ada is not None
        assert ada.connection is not None
        calendar = str(ada.connection.write_calendar_id)
    sandbox.control.add_event(calendar, "Dentist", at(9), at(9, 30))
    error_of(post(client, key, "/api/v1/bookings", api_body(school)), 409, "slot_taken")
    assert counts(app, school.site)["bookings"] == 0

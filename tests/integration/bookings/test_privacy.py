"""An instructor's export and erasure (reliability requirement 25), on both stacks.

Ada is connected (read_write), has busy blocks mirrored into Bookly, a pending inbox row and
a booking. Her export holds all of it and no credential; after erasure a dump of every
table of ours holds nothing of her, her grant no longer works at the sandbox, her blocks
are gone from Bookly, and the booking stays in Bookly and with the school.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import requests
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from bookly_client import BooklyGateway
from cronofy_client import CronofyClient
from tests.sandbox_fixtures import RunningSandbox
from tests.webapp_fixtures import People, csrf_token, log_in
from webapp.extensions import db
from webapp.models import BusyBlock, CalendarConnection, InboundNotification, User
from webapp.services import bookings, sync, tokens
from webapp.services.bookings import BookingRequest, Customer

from .conftest import NOW, School, at, connect_instructor

pytestmark = pytest.mark.requirement(25)

ADA_NAME = "Ada Lovelace"


@pytest.fixture
def ada(
    app: Flask,
    people: People,
    school: School,
    gateway: BooklyGateway,
    cronofy: CronofyClient,
) -> dict[str, object]:
    """Ada with a connection, mirrored blocks, a pending notification and a booking."""
    connect_instructor(app, people, "read_write")
    with app.app_context():
        user = db.session.get(User, people.instructor_id)
        assert user is not None
        user.name = ADA_NAME
        connection = db.session.scalars(sa.select(CalendarConnection)).one()
        connection_id = connection.id
        access = tokens.access_token(cronofy, connection_id)
        ciphertexts = [connection.access_token_encrypted, connection.refresh_token_encrypted]
        db.session.commit()
        sync.sync_connection(cronofy, gateway, connection_id, horizon_days=30, force=True)
        blocks = db.session.scalar(sa.select(sa.func.count()).select_from(BusyBlock))
        assert blocks  # the sandbox's demo events became Bookly blocks
        db.session.add(
            InboundNotification(body_hash=uuid.uuid4().hex * 2, notification_type="change",
                                connection_id=connection_id, body="{}")
        )  # fmt: skip
        db.session.commit()
        kim = Customer("Kim Doe", "kim@example.com")
        request = BookingRequest(instructor_id=school.instructor_id, service_id=school.lesson,
                                 start=at(9), customer=kim)  # fmt: skip
        booking = bookings.book(gateway, cronofy, request, idempotency_key="k1", now=NOW).booking
        public_id = booking.public_id
    return {"access": access, "ciphertexts": ciphertexts, "blocks": blocks,
            "booking": public_id}  # fmt: skip


def logged_in(app: Flask, people: People, email: str | None = None) -> FlaskClient:
    client = app.test_client()
    assert log_in(client, email or people.instructor_email, people.password).status_code == 302
    return client


def dump(app: Flask) -> str:
    """Every row of every table of ours, as text."""
    with app.app_context():
        parts = []
        for table in db.metadata.sorted_tables:
            for row in db.session.execute(sa.select(table)):
                parts.append(f"{table.name}: {tuple(row)!r}")
        return "\n".join(parts)


def bookly_blocks(gateway: BooklyGateway, staff_id: int) -> int:
    now = datetime.now(UTC)  # the sandbox's demo events are around today
    return len(gateway.list_busy_blocks(now - timedelta(days=40), now + timedelta(days=400),
                                        staff_ids=[staff_id]))  # fmt: skip


def test_the_export_holds_everything_about_ada_and_no_credential(
    app: Flask, people: People, ada: dict[str, object]
) -> None:
    client = logged_in(app, people)
    response = client.get("/me/export")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    text = response.get_data(as_text=True)
    data = json.loads(text)
    assert data["account"]["email"] == people.instructor_email
    assert data["account"]["name"] == ADA_NAME
    assert data["calendar_connection"]["access_mode"] == "read_write"
    assert len(data["busy_blocks"]) == ada["blocks"]
    assert [b["id"] for b in data["bookings"]] == [ada["booking"]]
    assert any(e["action"] == "connection.connected" or e["target"] == people.instructor_email
               for e in data["audit_events"])  # fmt: skip
    assert str(ada["access"]) not in text
    for ciphertext in ada["ciphertexts"]:  # type: ignore[attr-defined]
        assert ciphertext not in text
    assert "kim@example.com" not in text  # the customer's own data
    assert "password" not in json.dumps(data["account"])
    assert client.get("/logout").status_code in (302, 405)


def test_export_needs_a_login(client: FlaskClient) -> None:
    assert client.get("/me/export").status_code == 302


def test_a_wrong_confirmation_erases_nothing(
    app: Flask, people: People, ada: dict[str, object]
) -> None:
    client = logged_in(app, people)
    token = csrf_token(client, "/me/erase")
    refused = client.post("/me/erase", data={"csrf_token": token, "confirm_email": "x@y.z"})
    assert refused.status_code == 400
    assert "Type your e-mail address exactly" in refused.get_data(as_text=True)
    no_csrf = client.post("/me/erase", data={"confirm_email": people.instructor_email})
    assert no_csrf.status_code == 400
    with app.app_context():
        user = db.session.get(User, people.instructor_id)
        assert user is not None
        assert (user.email, user.name, user.active) == (people.instructor_email, ADA_NAME, True)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CalendarConnection)) == 1
        blocks = db.session.scalar(sa.select(sa.func.count()).select_from(BusyBlock))
        assert blocks == ada["blocks"]
    assert client.get("/me/export").status_code == 200  # still logged in


def test_erasure_leaves_nothing_of_ada_here_at_cronofy_or_in_bookly_blocks(
    app: Flask,
    people: People,
    school: School,
    gateway: BooklyGateway,
    sandbox: RunningSandbox,
    ada: dict[str, object],
) -> None:
    assert bookly_blocks(gateway, school.staff_id) == ada["blocks"]
    client = logged_in(app, people)
    token = csrf_token(client, "/me/erase")
    erased = client.post(
        "/me/erase", data={"csrf_token": token, "confirm_email": people.instructor_email.upper()}
    )
    assert erased.status_code == 303
    assert erased.headers["Location"].endswith("/login")

    text = dump(app)
    assert people.instructor_email not in text.lower()
    assert ADA_NAME not in text
    for ciphertext in ada["ciphertexts"]:  # type: ignore[attr-defined]
        assert ciphertext not in text
    with app.app_context():
        for model in (CalendarConnection, BusyBlock, InboundNotification):
            assert db.session.scalar(sa.select(sa.func.count()).select_from(model)) == 0
        user = db.session.get(User, people.instructor_id)
        assert user is not None
        assert (user.active, user.password_hash, user.bookly_staff_id) == (False, None, None)
    assert bookly_blocks(gateway, school.staff_id) == 0
    found = gateway.find_booking_by_reference(str(ada["booking"]))
    assert found is not None  # customers' bookings stay in Bookly
    answer = requests.get(
        f"{sandbox.base_url}/v1/calendars",
        headers={"Authorization": f"Bearer {ada['access']}"},
        timeout=5,
    )
    assert answer.status_code == 401  # the grant is revoked
    assert log_in(app.test_client(), people.instructor_email, people.password).status_code != 302
    assert client.get("/me/export").status_code == 302  # logged out


def test_delete_me_needs_the_csrf_header_and_the_address(
    app: Flask, people: People, ada: dict[str, object]
) -> None:
    client = logged_in(app, people)
    token = csrf_token(client, "/profile")
    assert client.delete("/me", json={"confirm_email": people.instructor_email}).status_code == 400
    wrong = client.delete("/me", json={"confirm_email": "no@x.y"}, headers={"X-CSRFToken": token})
    assert wrong.status_code == 400
    assert wrong.json["error"]["code"] == "erasure_refused"  # type: ignore[index]
    missing = client.delete("/me", json={}, headers={"X-CSRFToken": token})
    assert missing.status_code == 400
    assert "confirm_email" in missing.json["error"]["fields"]  # type: ignore[index]
    done = client.delete("/me", json={"confirm_email": people.instructor_email},
                         headers={"X-CSRFToken": token})  # fmt: skip
    assert done.status_code == 200
    assert done.json == {"erased": True, "bookings_kept": 1, "audit_events_pseudonymised":
                         done.json["audit_events_pseudonymised"]}  # type: ignore[index]  # fmt: skip
    assert people.instructor_email not in dump(app).lower()


def test_an_admin_is_not_erased_from_their_own_page(app: Flask, people: People) -> None:
    client = logged_in(app, people, people.admin_email)
    page = client.get("/me/erase").get_data(as_text=True)
    assert "erased by another administrator" in page
    token = csrf_token(client, "/profile")
    refused = client.post("/me/erase", data={"csrf_token": token,
                                             "confirm_email": people.admin_email})  # fmt: skip
    assert refused.status_code == 400
    with app.app_context():
        admin = db.session.get(User, people.admin_id)
        assert admin is not None
        assert admin.active

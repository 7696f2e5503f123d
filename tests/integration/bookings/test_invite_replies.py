"""The customer's answer to their Smart Invite reaches the booking: the sandbox calls our
receiver back, signed, as Cronofy does when the customer replies from their calendar."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from cronofy_client import HMAC_HEADER, sign_body
from tests.sandbox_fixtures import RunningSandbox
from tests.webapp_fixtures import People, free_port, log_in, serving, wait_for
from webapp.extensions import db
from webapp.models import AuditEvent, Booking

from .conftest import School, api_body

KIM = "kim@example.com"


@pytest.fixture
def port() -> int:
    """The port our app is served on."""
    return free_port()


@pytest.fixture
def app_overrides(port: int) -> dict[str, Any]:
    """Invite callback URLs point at our served app."""
    return {"PUBLIC_BASE_URL": f"http://127.0.0.1:{port}"}


@pytest.fixture
def served(app: Flask, port: int) -> Iterator[str]:
    """Our app answering HTTP (the sandbox calls it back)."""
    with serving(app, port) as url:
        yield url


def booked(client: FlaskClient, school: School, key: str) -> str:
    """A booking through the API; its Smart Invite goes out at once (eager delivery)."""
    payload = api_body(school, customer={"name": "Kim Doe", "email": KIM})
    headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": "k1"}
    made = client.post("/api/v1/bookings", json=payload, headers=headers)
    assert made.status_code == 201, made.get_data(as_text=True)
    return str(made.json["id"])  # type: ignore[index]


def reply_of(app: Flask, public_id: str) -> str | None:
    with app.app_context():
        return db.session.scalar(
            sa.select(Booking.customer_reply).where(Booking.public_id == public_id)
        )


def invite_id_of(app: Flask, public_id: str) -> str:
    with app.app_context():
        invite = db.session.scalar(
            sa.select(Booking.smart_invite_id).where(Booking.public_id == public_id)
        )
    assert invite
    return invite


def test_the_customer_s_reply_reaches_the_booking(
    app: Flask, client: FlaskClient, served: str, school: School, key: str,
    sandbox: RunningSandbox, people: People,
) -> None:  # fmt: skip
    public_id = booked(client, school, key)
    invite = invite_id_of(app, public_id)
    assert reply_of(app, public_id) is None

    sandbox.control.reply_to_smart_invite(invite, KIM, "accepted", comment="See you then")
    wait_for(lambda: reply_of(app, public_id) == "accepted")
    sandbox.control.reply_to_smart_invite(invite, KIM, "declined")
    wait_for(lambda: reply_of(app, public_id) == "declined")
    with app.app_context():
        replies = db.session.scalars(
            sa.select(AuditEvent.details).where(AuditEvent.action == "booking.invite_reply")
        ).all()
        assert [r["reply"] for r in replies] == ["accepted", "declined"]
        assert "See you then" not in json.dumps(replies)  # the comment is not kept
    instructor = app.test_client()
    assert log_in(instructor, people.instructor_email, people.password).status_code == 302
    page = instructor.get("/bookings").get_data(as_text=True)
    assert "customer declined" in page


def _callback(invite: str, email: str, status: str) -> bytes:
    answer = {"email": email, "status": status}
    invite_part = {"smart_invite_id": invite, "recipient": answer, "reply": answer}
    body = {"notification": {"type": "smart_invite"}, "smart_invite": invite_part}
    return json.dumps(body).encode()


def test_unsigned_foreign_or_unreadable_replies_change_nothing(
    app: Flask, client: FlaskClient, school: School, key: str, sandbox: RunningSandbox
) -> None:
    public_id = booked(client, school, key)
    invite = invite_id_of(app, public_id)
    path = "/webhooks/cronofy/smart-invites"

    def post(body: bytes, secret: str | None) -> int:
        headers = {HMAC_HEADER: sign_body(body, secret)} if secret else {}
        return client.post(path, data=body, headers=headers,
                           content_type="application/json").status_code  # fmt: skip

    accepted = _callback(invite, KIM, "accepted")
    assert post(accepted, None) == 401
    assert post(accepted, "CRN_not_the_secret") == 401
    assert post(_callback(invite, "someone@else.example", "accepted"), sandbox.client_secret) == 202
    assert post(_callback("other-app-invite", KIM, "accepted"), sandbox.client_secret) == 202
    assert post(_callback(invite, KIM, "maybe-later"), sandbox.client_secret) == 202
    assert post(b"{not json", sandbox.client_secret) == 400
    assert reply_of(app, public_id) is None
    assert post(accepted, sandbox.client_secret) == 202
    assert reply_of(app, public_id) == "accepted"

"""Every bad callback gets a clear 400, stores nothing and never calls the token endpoint."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from tests.integration.connect.conftest import (
    Wiring,
    consent,
    local_path,
    start_connect,
    token_calls,
)
from tests.webapp_fixtures import People, log_in
from webapp.database import utcnow
from webapp.extensions import db
from webapp.models import CalendarConnection, OAuthState, Role
from webapp.services import accounts


def _state(url: str) -> str:
    return dict(parse_qsl(urlsplit(url).query))["state"]


def _assert_refused(app: Flask, wiring: Wiring, response: object, text: str) -> None:
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert text in response.get_data(as_text=True)  # type: ignore[attr-defined]
    assert response.headers["Referrer-Policy"] == "no-referrer"  # type: ignore[attr-defined]
    assert token_calls(wiring.sandbox) == 0
    with app.app_context():
        count = db.session.scalar(sa.select(sa.func.count()).select_from(CalendarConnection))
    assert count == 0


def test_denied_consent_shows_you_cancelled(
    app: Flask, instructor: FlaskClient, wiring: Wiring
) -> None:
    url = start_connect(instructor, "read_write")
    response = instructor.get(local_path(consent(url, allow=False)))
    _assert_refused(app, wiring, response, "You cancelled")


@pytest.mark.requirement(6)
def test_missing_state_is_refused(app: Flask, instructor: FlaskClient, wiring: Wiring) -> None:
    response = instructor.get("/connect/callback?code=abc")
    _assert_refused(app, wiring, response, "had no state")


@pytest.mark.requirement(6)
def test_unknown_state_is_refused(app: Flask, instructor: FlaskClient, wiring: Wiring) -> None:
    url = start_connect(instructor, "read_write")
    callback = consent(url)
    response = instructor.get(local_path(callback).replace(_state(callback), "forged-state"))
    _assert_refused(app, wiring, response, "not valid any more")


def test_missing_code_is_refused(app: Flask, instructor: FlaskClient, wiring: Wiring) -> None:
    url = start_connect(instructor, "read_write")
    response = instructor.get(f"/connect/callback?state={_state(url)}")
    _assert_refused(app, wiring, response, "had no code")


@pytest.mark.requirement(6)
def test_expired_state_is_refused(app: Flask, instructor: FlaskClient, wiring: Wiring) -> None:
    url = start_connect(instructor, "read_write")
    callback = consent(url)
    with app.app_context():
        row = db.session.scalars(sa.select(OAuthState)).one()
        row.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    response = instructor.get(local_path(callback))
    _assert_refused(app, wiring, response, "expired after 10 minutes")


@pytest.mark.requirement(6)
def test_reused_state_is_refused(
    app: Flask, instructor: FlaskClient, wiring: Wiring, people: People
) -> None:
    url = start_connect(instructor, "read_write")
    callback = local_path(consent(url))
    assert instructor.get(callback).status_code == 302
    with app.app_context():
        db.session.execute(sa.delete(CalendarConnection))
        db.session.commit()
    wiring.sandbox.control.clear_requests()
    response = instructor.get(callback)
    _assert_refused(app, wiring, response, "already used")


@pytest.mark.requirement(6)
def test_state_of_another_user_is_refused(
    app: Flask, instructor: FlaskClient, wiring: Wiring, people: People
) -> None:
    url = start_connect(instructor, "read_write")
    callback = local_path(consent(url))
    with app.app_context():
        org = accounts.get_or_create_organisation("Lightkeepers")
        accounts.create_user(
            email="mallory@school.test",
            password=people.password,
            role=Role.INSTRUCTOR,
            organisation=org,
        )
    mallory = app.test_client()
    log_in(mallory, "mallory@school.test", people.password)
    _assert_refused(app, wiring, mallory.get(callback), "started by someone else")
    # The rightful owner can still finish: a foreign attempt does not burn the state.
    assert instructor.get(callback).status_code == 302


@pytest.mark.requirement(7)
def test_state_from_another_data_center_is_refused(
    app: Flask, instructor: FlaskClient, wiring: Wiring
) -> None:
    url = start_connect(instructor, "read_write")
    callback = consent(url)
    with app.app_context():
        db.session.execute(sa.update(OAuthState).values(data_center="de"))
        db.session.commit()
    response = instructor.get(local_path(callback))
    _assert_refused(app, wiring, response, "another Cronofy region")


@pytest.mark.parametrize("error", ["server_error", "invalid_scope"])
def test_other_cronofy_errors_are_explained(
    app: Flask, instructor: FlaskClient, wiring: Wiring, error: str
) -> None:
    url = start_connect(instructor, "read_write")
    response = instructor.get(f"/connect/callback?error={error}&state={_state(url)}")
    _assert_refused(app, wiring, response, f"answered “{error}”")


def test_callback_needs_a_login(app: Flask, wiring: Wiring) -> None:
    response = app.test_client().get("/connect/callback?code=a&state=b")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    assert token_calls(wiring.sandbox) == 0

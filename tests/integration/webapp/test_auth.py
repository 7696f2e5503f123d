"""Login, logout, sessions, CSRF and login rate limits (on SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from tests.webapp_fixtures import MakeApp, People, csrf_token, log_in
from webapp.extensions import db
from webapp.models import AuditEvent


def _audit(app: Flask, action: str) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


def test_login_with_the_right_password_opens_the_dashboard(
    client: FlaskClient, people: People
) -> None:
    response = log_in(client, people.instructor_email, people.password)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    page = client.get("/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Ada Lovelace" in text
    assert "Calendar: not connected" in text
    assert 'href="/connect"' in text


def test_admin_dashboard_lists_the_organisation_instructors(
    client: FlaskClient, people: People
) -> None:
    log_in(client, people.admin_email, people.password)
    text = client.get("/").get_data(as_text=True)
    assert "Lightkeepers" in text
    assert people.instructor_email in text


@pytest.mark.requirement(23)
def test_wrong_password_is_refused_and_audited_without_the_password(
    app: Flask, client: FlaskClient, people: People
) -> None:
    response = log_in(client, people.instructor_email, "not-the-password")
    assert response.status_code == 401
    assert "Wrong e-mail or password" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302  # still anonymous
    failures = _audit(app, "login.failed")
    assert len(failures) == 1
    assert failures[0].target == people.instructor_email
    assert failures[0].details == {"reason": "wrong_password"}
    assert "not-the-password" not in repr(failures[0].details)


def test_unknown_email_fails_like_a_wrong_password(app: Flask, client: FlaskClient) -> None:
    response = log_in(client, "nobody@school.test", "whatever-password")
    assert response.status_code == 401
    assert _audit(app, "login.failed")[0].details == {"reason": "unknown_email"}


@pytest.mark.requirement(23)
def test_sixth_failed_login_for_one_account_within_a_minute_gets_429(
    client: FlaskClient, people: People
) -> None:
    token = csrf_token(client)
    form = {"email": people.instructor_email, "password": "wrong-password", "csrf_token": token}
    statuses = [client.post("/login", data=form).status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429]
    # Even the right password is refused while the account is throttled.
    form["password"] = people.password
    blocked = client.post("/login", data=form)
    assert blocked.status_code == 429
    assert "Too many failed logins" in blocked.get_data(as_text=True)
    assert "Retry-After" in blocked.headers


def test_successful_logins_do_not_count_against_the_limit(
    client: FlaskClient, people: People
) -> None:
    for _ in range(7):
        assert log_in(client, people.instructor_email, people.password).status_code == 302
        client.post("/logout", data={"csrf_token": csrf_token(client, "/")})


@pytest.mark.requirement(23)
def test_twenty_one_failures_from_one_address_get_429(client: FlaskClient) -> None:
    token = csrf_token(client)
    statuses = [
        client.post(
            "/login",
            data={"email": f"p{i}@school.test", "password": "wrong-pass", "csrf_token": token},
        ).status_code
        for i in range(21)
    ]
    assert statuses == [401] * 20 + [429]


def _failures_from(make_app: MakeApp, hops: int, forwarded_for: list[str]) -> list[int]:
    """Statuses of failed logins sent with these X-Forwarded-For values (limit: 2 per address)."""
    app = make_app(TRUSTED_PROXY_HOPS=hops, LOGIN_FAILURES_PER_IP="2 per minute")
    with app.app_context():
        db.create_all()
    client = app.test_client()
    token = csrf_token(client)
    return [
        client.post(
            "/login",
            data={"email": f"p{i}@school.test", "password": "wrong-pass", "csrf_token": token},
            headers={"X-Forwarded-For": chain},
        ).status_code
        for i, chain in enumerate(forwarded_for)
    ]


def test_behind_a_trusted_proxy_each_client_address_has_its_own_login_limit(
    make_app: MakeApp,
) -> None:
    # The proxy appends the address it saw; what a client put before it is not believed.
    chains = ["203.0.113.1", "203.0.113.1", "203.0.113.2", "198.51.100.7, 203.0.113.1"]
    assert _failures_from(make_app, 1, chains) == [401, 401, 401, 429]


def test_without_trusted_proxies_forwarded_addresses_are_ignored(make_app: MakeApp) -> None:
    # Anyone can send X-Forwarded-For: inventing addresses must not escape the limit.
    chains = ["203.0.113.1", "203.0.113.2", "203.0.113.3"]
    assert _failures_from(make_app, 0, chains) == [401, 401, 429]


@pytest.mark.requirement(22)
def test_login_form_post_without_csrf_token_gets_400(client: FlaskClient, people: People) -> None:
    response = client.post(
        "/login", data={"email": people.instructor_email, "password": people.password}
    )
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert "did not come from this site" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_logout_without_csrf_token_gets_400_and_keeps_the_session(
    client: FlaskClient, people: People
) -> None:
    log_in(client, people.instructor_email, people.password)
    assert client.post("/logout").status_code == 400
    assert client.get("/").status_code == 200


def test_logout_ends_the_session(app: Flask, client: FlaskClient, people: People) -> None:
    log_in(client, people.instructor_email, people.password)
    response = client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    follow = client.get("/")
    assert follow.status_code == 302
    assert follow.headers["Location"].startswith("/login")
    assert len(_audit(app, "logout")) == 1


def test_login_replaces_the_previous_session(client: FlaskClient, people: People) -> None:
    with client.session_transaction() as session:
        session["planted"] = "by-an-attacker"
    log_in(client, people.instructor_email, people.password)
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"] == str(people.instructor_id)


def test_malformed_login_form_gets_a_clean_400_page(client: FlaskClient) -> None:
    token = csrf_token(client)
    response = client.post("/login", data={"email": "not-an-email", "csrf_token": token})
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "Enter an e-mail address." in text
    assert "This field is required." in text
    assert "Traceback" not in text


@pytest.mark.requirement(22)
def test_session_cookie_is_httponly_lax_and_not_secure_on_plain_http(
    client: FlaskClient,
) -> None:
    cookie = client.get("/login").headers["Set-Cookie"]
    assert cookie.startswith("bridge_session=")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie


def test_inactive_user_cannot_log_in(app: Flask, client: FlaskClient, people: People) -> None:
    with app.app_context():
        db.session.execute(sa.text("UPDATE users SET active = :no"), {"no": False})
        db.session.commit()
    assert log_in(client, people.instructor_email, people.password).status_code == 401
    assert _audit(app, "login.failed")[0].details == {"reason": "inactive"}

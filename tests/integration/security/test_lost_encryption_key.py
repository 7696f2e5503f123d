"""§8 item 8 (last point): with no valid Fernet key, grants become needs_reconnect, nothing crashes.

The instructor and the organisation connect through the sandbox; then the app is restarted on
the same database with TOKEN_ENCRYPTION_KEYS holding only a new key, so no stored token can be
decrypted. Using the connection must mark it needs_reconnect (reason token_unreadable), tell the
person (banner, one e-mail), never call Cronofy with a token we cannot read, and answer every
request without a 500. The same holds for the organisation's service account.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from flask import Flask
from flask.testing import FlaskClient

from tests.integration.connect.conftest import Wiring, connect, the_connection, token_calls
from tests.integration.enterprise.conftest import ADMIN, PASSWORD, authorize, connect_organisation
from tests.webapp_fixtures import MakeApp, People, csrf_token, log_in
from webapp.clients import Clients
from webapp.database import utcnow
from webapp.extensions import db
from webapp.models import CalendarConnection, ConnectionStatus, ServiceAccount
from webapp.services import connections

pytestmark = pytest.mark.requirement(8)

BANNER = "Your calendar connection needs attention"


Restart = Callable[[bool], Flask]
EXPIRED = pytest.mark.parametrize("expired", [False, True], ids=["fresh", "expired"])


@pytest.fixture
def restart(
    app: Flask, make_app: MakeApp, app_clients: Clients, app_overrides: dict[str, Any]
) -> Restart:
    """Restart the app with only a new key: the key that encrypted the stored tokens is gone.

    With ``expired`` the stored access tokens are past their expiry first, so using them means
    reading the refresh token too.
    """

    def restarted(expired: bool) -> Flask:
        if expired:
            with app.app_context():
                past = utcnow() - timedelta(hours=1)
                for model in (CalendarConnection, ServiceAccount):
                    db.session.execute(sa.update(model).values(access_token_expires_at=past))
                db.session.commit()
        new_key = Fernet.generate_key().decode("ascii")
        assert new_key not in app.config["TOKEN_ENCRYPTION_KEYS"]
        return make_app(clients=app_clients, TOKEN_ENCRYPTION_KEYS=new_key, **app_overrides)

    return restarted


def _logged_in(app: Flask, email: str, password: str) -> FlaskClient:
    client = app.test_client()
    assert log_in(client, email, password).status_code == 302
    return client


def _ok(response: Any) -> str:
    assert response.status_code < 500, response.status_code
    return str(response.get_data(as_text=True))


@EXPIRED
def test_instructor_connection_needs_reconnect_without_crashing(
    instructor: FlaskClient, people: People, wiring: Wiring, restart: Restart, expired: bool
) -> None:
    assert connect(instructor, "read_write").status_code == 302
    restarted = restart(expired)
    wiring.sandbox.control.clear_requests()
    client = _logged_in(restarted, people.instructor_email, people.password)

    page = _ok(client.get("/calendars"))
    assert BANNER in page
    assert "Reconnect" in page
    conn = the_connection(restarted, people.instructor_id)
    assert conn is not None
    assert conn.status is ConnectionStatus.NEEDS_RECONNECT
    assert conn.status_reason == "token_unreadable"
    for path in ("/", "/connect", "/calendars", "/calendars/disconnect"):
        assert BANNER in _ok(client.get(path))
    with restarted.app_context(), pytest.raises(connections.ReconnectRequired):
        connections.access_token(wiring.cronofy, conn.id)
    assert token_calls(wiring.sandbox) == 0  # nothing unreadable was sent to Cronofy
    assert [m.to for m in wiring.mailer.outbox] == [people.instructor_email]

    # Disconnecting still works: revocation falls back to the account's sub.
    token = csrf_token(client, "/calendars/disconnect")
    response = client.post("/calendars/disconnect", data={"csrf_token": token})
    assert response.status_code == 303
    assert the_connection(restarted, people.instructor_id) is None


@EXPIRED
@pytest.mark.usefixtures("tenants")
def test_service_account_needs_reconnect_without_crashing(
    admin_client: FlaskClient, wiring: Wiring, restart: Restart, expired: bool
) -> None:
    assert connect_organisation(admin_client).status_code == 302
    restarted = restart(expired)
    wiring.sandbox.control.clear_requests()
    client = _logged_in(restarted, ADMIN, PASSWORD)
    assert 'id="org-status">connected' in _ok(client.get("/enterprise"))

    page = _ok(authorize(client, "grace@demo.test"))  # uses the service account's token
    assert 'id="org-status">needs reconnect' in page
    assert "Connect it again below" in page
    with restarted.app_context():
        account = db.session.scalars(sa.select(ServiceAccount)).one()
        assert account.status is ConnectionStatus.NEEDS_RECONNECT
    assert token_calls(wiring.sandbox) == 0
    assert "Connect again" in _ok(client.get("/enterprise"))
    assert _ok(authorize(client, "grace@demo.test"))  # a second use: still no crash

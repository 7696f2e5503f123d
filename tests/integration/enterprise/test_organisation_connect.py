"""The admin's Enterprise Connect OAuth flow: success, and every error path (no token call)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from cronofy_sandbox.testing import click_through_consent
from tests.integration.enterprise.conftest import (
    ADMIN,
    OTHER_ADMIN,
    PASSWORD,
    Tenants,
    connect_organisation,
    consent,
    local_path,
    start_connect,
    token_calls,
)
from tests.sandbox_fixtures import RunningSandbox
from tests.webapp_fixtures import log_in
from webapp.extensions import db
from webapp.models import AccessMode, OAuthPurpose, OAuthState, ServiceAccount
from webapp.security import token_digest


def _accounts(app: Flask) -> list[ServiceAccount]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(ServiceAccount)))
        db.session.expunge_all()
        return rows


def _state_of(authorize_url: str) -> str:
    return parse_qs(urlsplit(authorize_url).query)["state"][0]


def test_connect_sends_the_enterprise_deeplink(admin_client: FlaskClient) -> None:
    url = start_connect(admin_client, mode="free_busy", provider="ms_graph")
    query = parse_qs(urlsplit(url).query)
    assert urlsplit(url).path.endswith("/enterprise_connect/oauth/authorize")
    assert query["scope"] == ["service_account/accounts/manage"]
    assert query["delegated_scope"] == ["free_busy_write"]
    assert query["access_mode"] == ["free_busy"]
    assert query["provider_name"] == ["ms_graph"]
    assert query["redirect_uri"][0].endswith("/enterprise/callback")


def test_state_is_stored_as_a_digest_bound_to_the_admin(
    app: Flask, admin_client: FlaskClient, tenants: Tenants
) -> None:
    state = _state_of(start_connect(admin_client, mode="no_calendar", provider="google"))
    with app.app_context():
        stored = db.session.scalar(sa.select(OAuthState))
        assert stored is not None
        assert stored.state_hash == token_digest(state)
        assert stored.purpose is OAuthPurpose.ENTERPRISE
        assert stored.user_id == tenants.admin_id
        assert stored.data_center == "us"
        assert stored.provider_name is None  # no_calendar takes no provider
        lifetime = stored.expires_at - stored.created_at
        assert timedelta(minutes=9) < lifetime <= timedelta(minutes=10)


def test_connect_rejects_an_unknown_mode(admin_client: FlaskClient, app: Flask) -> None:
    from tests.integration.enterprise.conftest import page_token

    response = admin_client.post(
        "/enterprise/connect",
        data={
            "access_mode": "everything",
            "provider_name": "google",
            "csrf_token": page_token(admin_client),
        },
        follow_redirects=True,
    )
    assert "Choose an access mode" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OAuthState)) == 0


@pytest.mark.parametrize(
    ("mode", "provider"),
    [("read_write", "google"), ("free_busy", "ms_graph"), ("no_calendar", "")],
)
def test_admin_connects_the_organisation(
    app: Flask, admin_client: FlaskClient, sandbox: RunningSandbox, mode: str, provider: str
) -> None:
    response = connect_organisation(admin_client, mode=mode, provider=provider)
    assert response.status_code == 302
    page = admin_client.get("/enterprise").get_data(as_text=True)
    assert "Organisation connected" in page
    assert 'id="org-status">connected' in page
    (account,) = _accounts(app)
    assert account.access_mode is AccessMode(mode)
    assert account.provider_name == (provider or None)
    assert account.delegated_scope == "free_busy_write"
    assert account.cronofy_sub
    assert account.cronofy_sub.startswith("ser_")
    assert token_calls(sandbox) == 1


def test_provider_chosen_on_cronofys_screen_is_read_from_userinfo(
    app: Flask, admin_client: FlaskClient, sandbox: RunningSandbox
) -> None:
    url = start_connect(admin_client, mode="read_write", provider="")  # let the admin choose
    with requests.Session() as session:
        callback = click_through_consent(session, url, person=ADMIN, provider="ms_graph")
    sandbox.control.clear_requests()
    assert admin_client.get(local_path(callback)).status_code == 302
    (account,) = _accounts(app)
    assert account.provider_name == "ms_graph"  # not in the request: only userinfo knew it
    assert "<dt>Provider</dt><dd>Microsoft 365</dd>" in admin_client.get("/enterprise").get_data(
        as_text=True
    )
    assert account.delegated_scope == "free_busy_write"
    userinfo = [r for r in sandbox.control.requests() if r["path"] == "/v1/userinfo"]
    assert len(userinfo) == 1


def test_raw_table_holds_no_plaintext_token(app: Flask, admin_client: FlaskClient) -> None:
    connect_organisation(admin_client)
    cipher = app.extensions["token_cipher"]
    with app.app_context():
        account = db.session.scalar(sa.select(ServiceAccount))
        assert account is not None
        plain = [
            cipher.decrypt(account.access_token_encrypted or ""),
            cipher.decrypt(account.refresh_token_encrypted or ""),
        ]
        raw = db.session.execute(sa.text("SELECT * FROM service_accounts")).mappings().one()
    dump = " ".join(str(value) for value in raw.values())
    assert all(len(token) > 10 and token not in dump for token in plain)


def _callback_error(client: FlaskClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 400
    assert response.headers["Referrer-Policy"] == "no-referrer"
    return response.get_data(as_text=True)


def test_denied_consent_shows_a_page_and_stores_nothing(
    app: Flask, admin_client: FlaskClient, sandbox: RunningSandbox
) -> None:
    callback = consent(start_connect(admin_client), allow=False)
    assert "error=access_denied" in callback
    assert "Access was not granted" in _callback_error(admin_client, local_path(callback))
    assert _accounts(app) == []
    assert token_calls(sandbox) == 0


def test_expired_state_is_refused(
    app: Flask, admin_client: FlaskClient, sandbox: RunningSandbox
) -> None:
    callback = consent(start_connect(admin_client))
    with app.app_context():
        db.session.execute(
            sa.update(OAuthState).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        db.session.commit()
    assert "expired" in _callback_error(admin_client, local_path(callback))
    assert _accounts(app) == []
    assert token_calls(sandbox) == 0


def test_reused_state_is_refused(
    app: Flask, admin_client: FlaskClient, sandbox: RunningSandbox
) -> None:
    callback = consent(start_connect(admin_client))
    assert admin_client.get(local_path(callback)).status_code == 302
    assert "already used" in _callback_error(admin_client, local_path(callback))
    assert len(_accounts(app)) == 1
    assert token_calls(sandbox) == 1  # only the first, successful exchange


def test_foreign_state_is_refused(
    app: Flask, admin_client: FlaskClient, sandbox: RunningSandbox
) -> None:
    other = app.test_client()
    assert log_in(other, OTHER_ADMIN, PASSWORD).status_code == 302
    callback = consent(start_connect(other))
    assert "not valid for you" in _callback_error(admin_client, local_path(callback))
    assert _accounts(app) == []
    assert token_calls(sandbox) == 0


def test_unknown_state_is_refused(
    app: Flask, admin_client: FlaskClient, sandbox: RunningSandbox
) -> None:
    callback = consent(start_connect(admin_client))
    forged = local_path(callback).replace("state=", "state=x")
    assert "not valid for you" in _callback_error(admin_client, forged)
    assert _accounts(app) == []
    assert token_calls(sandbox) == 0


def test_missing_code_is_refused(
    app: Flask, admin_client: FlaskClient, sandbox: RunningSandbox
) -> None:
    state = _state_of(start_connect(admin_client))
    assert "no authorization code" in _callback_error(
        admin_client, f"/enterprise/callback?state={state}"
    )
    assert _accounts(app) == []
    assert token_calls(sandbox) == 0


def test_missing_state_is_refused(
    app: Flask, admin_client: FlaskClient, sandbox: RunningSandbox
) -> None:
    assert "no state" in _callback_error(admin_client, "/enterprise/callback?code=abc")
    assert token_calls(sandbox) == 0


@pytest.mark.requirement(7)
def test_code_for_another_data_center_is_refused(
    app: Flask, admin_client: FlaskClient, sandbox: RunningSandbox
) -> None:
    callback = consent(start_connect(admin_client))
    with app.app_context():
        db.session.execute(sa.update(OAuthState).values(data_center="de"))
        db.session.commit()
    assert "another Cronofy data center" in _callback_error(admin_client, local_path(callback))
    assert _accounts(app) == []
    assert token_calls(sandbox) == 0


def test_code_rejected_by_cronofy_shows_a_page(
    app: Flask, admin_client: FlaskClient, sandbox: RunningSandbox
) -> None:
    callback = consent(start_connect(admin_client))
    forged = local_path(callback).replace("code=", "code=x")
    assert "did not accept" in _callback_error(admin_client, forged)
    assert _accounts(app) == []


def test_the_page_says_what_the_granted_scope_means_not_its_name(
    app: Flask, admin_client: FlaskClient, sandbox: RunningSandbox, served: str
) -> None:
    connect_organisation(admin_client)
    page = admin_client.get("/enterprise").get_data(as_text=True)
    meaning = page.split('<dd id="org-scope">', 1)[1].split("</dd>", 1)[0]
    assert "see when they are busy" in meaning
    assert "free_busy_write" not in page
    assert "service_account/accounts/manage" not in page

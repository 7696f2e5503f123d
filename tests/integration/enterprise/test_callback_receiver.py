"""POST /webhooks/cronofy/enterprise/<token>: signature, matching, idempotency."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from cronofy_client import sign_body
from tests.integration.enterprise.conftest import Tenants
from tests.sandbox_fixtures import RunningSandbox
from webapp.extensions import db
from webapp.models import (
    AccessMode,
    AuditEvent,
    Organisation,
    ServiceAccount,
    ServiceAccountAuthorization,
    User,
)
from webapp.security import token_digest

TOKEN = "opaque-path-token-for-tests"
ERROR_BODY = json.dumps(
    {
        "authorization": {
            "error": "unable_to_grant_scope",
            "error_key": "unable_to_grant_scope",
            "error_description": "Cannot grant",
            "state": "1",
        }
    }
).encode()


@pytest.fixture
def pending(app: Flask, tenants: Tenants) -> int:
    """A service account (fake tokens) with one pending authorization for Ada."""
    cipher = app.extensions["token_cipher"]
    with app.app_context():
        admin = db.session.get(User, tenants.admin_id)
        assert admin is not None
        account = ServiceAccount(
            organisation_id=admin.organisation_id,
            cronofy_sub="ser_test",
            data_center="us",
            access_token_encrypted=cipher.encrypt("fake-access"),
            refresh_token_encrypted=cipher.encrypt("fake-refresh"),
            access_token_expires_at=datetime.now(UTC) + timedelta(hours=1),
            access_mode=AccessMode.READ_WRITE,
        )
        db.session.add(account)
        db.session.flush()
        row = ServiceAccountAuthorization(
            service_account_id=account.id,
            email="ada@demo.test",
            user_id=tenants.instructor_ids["ada@demo.test"],
            state_hash=token_digest(TOKEN),
            attempts=1,
        )
        db.session.add(row)
        db.session.commit()
        return row.id


def _post(client: FlaskClient, body: bytes, signature: str | None, token: str = TOKEN) -> int:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["Cronofy-HMAC-SHA256"] = signature
    return client.post(
        f"/webhooks/cronofy/enterprise/{token}", data=body, headers=headers
    ).status_code


def _snapshot(app: Flask, row_id: int) -> tuple[str, str | None, int]:
    with app.app_context():
        row = db.session.get(ServiceAccountAuthorization, row_id)
        assert row is not None
        audits = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
        return row.status.value, row.error, int(audits or 0)


@pytest.mark.parametrize(
    "signature",
    [
        None,
        "",
        "bm90IHRoZSByaWdodCBkaWdlc3Q=",
        "sign-with-another-secret",
        "non-ascii-ü",
    ],
)
def test_bad_signature_gets_401_and_writes_nothing(
    app: Flask, client: FlaskClient, sandbox: RunningSandbox, pending: int, signature: str | None
) -> None:
    if signature == "sign-with-another-secret":
        signature = sign_body(ERROR_BODY, "CRN_someone_else")
    before = _snapshot(app, pending)
    assert _post(client, ERROR_BODY, signature) == 401
    assert _snapshot(app, pending) == before
    assert before[0] == "pending"


def test_signature_over_a_reformatted_body_is_rejected(
    app: Flask, client: FlaskClient, sandbox: RunningSandbox, pending: int
) -> None:
    signature = sign_body(ERROR_BODY, sandbox.client_secret)
    reformatted = json.dumps(json.loads(ERROR_BODY), indent=2).encode()
    assert _post(client, reformatted, signature) == 401
    assert _snapshot(app, pending)[0] == "pending"


def test_error_callback_records_cronofys_error(
    app: Flask, client: FlaskClient, sandbox: RunningSandbox, pending: int
) -> None:
    assert _post(client, ERROR_BODY, sign_body(ERROR_BODY, sandbox.client_secret)) == 200
    status, error, _ = _snapshot(app, pending)
    assert status == "failed"
    assert error == "unable_to_grant_scope: Cannot grant"


def test_redelivery_is_ignored(
    app: Flask, client: FlaskClient, sandbox: RunningSandbox, pending: int
) -> None:
    signature = sign_body(ERROR_BODY, sandbox.client_secret)
    first = client.post(
        f"/webhooks/cronofy/enterprise/{TOKEN}",
        data=ERROR_BODY,
        headers={"Cronofy-HMAC-SHA256": signature},
    )
    after_first = _snapshot(app, pending)
    second = client.post(
        f"/webhooks/cronofy/enterprise/{TOKEN}",
        data=ERROR_BODY,
        headers={"Cronofy-HMAC-SHA256": signature},
    )
    assert first.json == {"outcome": "failed"}
    assert second.json == {"outcome": "ignored"}
    assert _snapshot(app, pending) == after_first


def test_unknown_token_with_a_valid_signature_is_acknowledged_and_ignored(
    app: Flask, client: FlaskClient, sandbox: RunningSandbox, pending: int
) -> None:
    before = _snapshot(app, pending)
    signature = sign_body(ERROR_BODY, sandbox.client_secret)
    response = client.post(
        "/webhooks/cronofy/enterprise/not-ours",
        data=ERROR_BODY,
        headers={"Cronofy-HMAC-SHA256": signature},
    )
    assert response.status_code == 200
    assert response.json == {"outcome": "ignored"}
    assert _snapshot(app, pending) == before


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[]", json.dumps({"notification": {"type": "change"}}).encode()],
)
def test_signed_body_that_is_not_an_authorization_result_gets_400(
    app: Flask, client: FlaskClient, sandbox: RunningSandbox, pending: int, body: bytes
) -> None:
    before = _snapshot(app, pending)
    assert _post(client, body, sign_body(body, sandbox.client_secret)) == 400
    assert _snapshot(app, pending) == before


def test_rotated_secret_header_is_accepted(
    app: Flask, client: FlaskClient, sandbox: RunningSandbox, pending: int
) -> None:
    header = "wrongdigest=," + sign_body(ERROR_BODY, sandbox.client_secret)
    assert _post(client, ERROR_BODY, header) == 200
    assert _snapshot(app, pending)[0] == "failed"


def test_code_for_an_instructor_who_left_the_organisation_fails(
    app: Flask, client: FlaskClient, sandbox: RunningSandbox, pending: int, tenants: Tenants
) -> None:
    with app.app_context():
        other = db.session.scalar(
            sa.select(Organisation).where(Organisation.slug == "other-school")
        )
        ada = db.session.get(User, tenants.instructor_ids["ada@demo.test"])
        assert other is not None
        assert ada is not None
        ada.organisation_id = other.id
        db.session.commit()
    body = json.dumps({"authorization": {"code": "some-code", "state": "1"}}).encode()
    assert _post(client, body, sign_body(body, sandbox.client_secret)) == 200
    status, error, _ = _snapshot(app, pending)
    assert status == "failed"
    assert error is not None
    assert error.startswith("instructor_gone")
    tokens = [r for r in sandbox.control.requests() if r["path"].endswith("/oauth/token")]
    assert tokens == []

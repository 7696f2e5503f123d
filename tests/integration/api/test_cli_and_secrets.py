"""``flask api-keys`` and the key's secrecy: printed once, never logged, never stored."""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from tests.integration.api.conftest import PASSWORD, Tenants, api_get
from tests.webapp_fixtures import csrf_token, log_in
from webapp.extensions import db
from webapp.models import ApiKey, AuditEvent

KEY_PATTERN = r"bcb_[0-9a-f]{12}_[A-Za-z0-9_-]{43}"


def _create(runner: FlaskCliRunner, email: str, name: str = "Nightly sync") -> str:
    result = runner.invoke(args=["api-keys", "create", "--admin", email, "--name", name])
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()[-1]


def test_create_prints_the_key_on_the_last_line_and_it_works(
    app: Flask, runner: FlaskCliRunner, client: FlaskClient, tenants: Tenants
) -> None:
    key = _create(runner, tenants.admin_a_email)
    assert key.startswith("bcb_")
    assert len(key) == 60
    response = api_get(client, "/api/v1/instructors", key)
    assert response.status_code == 200
    assert response.json is not None
    assert {i["id"] for i in response.json["instructors"]} == {tenants.ada, tenants.grace}


def test_create_refuses_an_unknown_admin_or_an_instructor(
    app: Flask, runner: FlaskCliRunner, tenants: Tenants
) -> None:
    for email, words in (
        ("nobody@a.test", "no user with e-mail"),
        (tenants.instructor_email, "not an admin"),
    ):
        result = runner.invoke(args=["api-keys", "create", "--admin", email, "--name", "x"])
        assert result.exit_code != 0
        assert words in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiKey)) == 0


def test_list_shows_keys_without_the_secret_and_revoke_stops_a_key(
    app: Flask, runner: FlaskCliRunner, client: FlaskClient, tenants: Tenants
) -> None:
    key = _create(runner, tenants.admin_a_email, "Nightly sync")
    listing = runner.invoke(args=["api-keys", "list"]).output
    assert "Nightly sync" in listing
    assert "active" in listing
    assert "Alpha School" in listing
    assert key not in listing
    public_id = key[:16]
    assert public_id in listing
    result = runner.invoke(args=["api-keys", "revoke", f"{public_id}_…"])
    assert result.exit_code == 0, result.output
    assert "revoked" in runner.invoke(args=["api-keys", "list"]).output
    assert api_get(client, "/api/v1/instructors", key).status_code == 401
    with app.app_context():
        event = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "api_key.revoked")
        ).one()
        assert event.actor_label == "cli"
        assert event.organisation_id == tenants.org_a


def test_revoke_of_an_unknown_key_fails_clearly(runner: FlaskCliRunner, tenants: Tenants) -> None:
    result = runner.invoke(args=["api-keys", "revoke", "bcb_ffffffffffff"])
    assert result.exit_code != 0
    assert "no API key" in result.output


def _every_stored_value(app: Flask) -> str:
    with app.app_context():
        rows = [
            repr(tuple(row))
            for table in db.metadata.sorted_tables
            for row in db.session.execute(sa.select(table))
        ]
        db.session.remove()
    return "\n".join(rows)


def test_the_key_is_never_logged_nor_stored_in_plain_text(
    app: Flask,
    runner: FlaskCliRunner,
    client: FlaskClient,
    tenants: Tenants,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in list(logging.root.manager.loggerDict):
        caplog.set_level(logging.DEBUG, logger=name)
    cli_key = _create(runner, tenants.admin_a_email)
    assert log_in(client, tenants.admin_a_email, PASSWORD).status_code == 302
    token = csrf_token(client, "/api-keys")
    page = client.post("/api-keys", data={"name": "Web", "csrf_token": token})
    page_key = page.get_data(as_text=True).split('id="new-key-value">')[1].split("<")[0]
    presented = [cli_key, page_key]
    for key in (cli_key, page_key):
        assert api_get(client, "/api/v1/instructors", key).status_code == 200
        assert api_get(client, "/api/v1/nope", key).status_code == 404
        wrong = key[:-1] + ("A" if key[-1] != "A" else "B")
        assert api_get(client, "/api/v1/instructors", wrong).status_code == 401
        presented.append(wrong)
    runner.invoke(args=["api-keys", "revoke", cli_key[:16]])
    assert api_get(client, "/api/v1/instructors", cli_key).status_code == 401
    logged = "\n".join(record.getMessage() for record in caplog.records)
    stored = _every_stored_value(app)
    assert "api_key" in logged  # the key's life was logged, by key id
    for key in presented:
        secret = key[17:]
        assert secret not in logged
        assert secret not in stored
        assert key[4:16] in stored  # the public key id is stored, to find the key

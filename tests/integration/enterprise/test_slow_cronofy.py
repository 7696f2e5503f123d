"""Organisation disconnect with Cronofy answering after 20 s (issue 12): the admin's request
records everything in one transaction and answers at once (a broker, no worker in this
process, as in production); the revocations finish when the worker runs after recovery."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from cronofy_client import CronofyInvalidGrant, sign_body
from tests.integration.enterprise.conftest import (
    Tenants,
    authorization_states,
    authorize,
    connect_organisation,
    page_token,
    wait_settled,
    wait_until,
)
from tests.sandbox_fixtures import RunningSandbox
from webapp.clients import get_clients
from webapp.extensions import db
from webapp.models import CalendarConnection, OutboxJob, OutboxStatus, ServiceAccount
from webapp.services import revocation

SLOW_MS = 20_000
QUICK_ENOUGH = 5.0  # seconds: database work only (Cronofy takes 20 s)


@pytest.fixture
def app_overrides(idle_broker_url: str) -> dict[str, Any]:
    """Production's shape: tasks go to a broker instead of running inside the request."""
    return {"CELERY_BROKER_URL": idle_broker_url}


def exchange_jobs(app: Flask) -> list[OutboxJob]:
    with app.app_context():
        jobs = list(db.session.scalars(
            sa.select(OutboxJob).where(OutboxJob.kind == revocation.EXCHANGE_JOB)
        ))  # fmt: skip
        for job in jobs:
            db.session.expunge(job)
        return jobs


def run_worker(app: Flask) -> revocation.JobRun:
    with app.app_context():
        later = datetime.now(UTC) + timedelta(hours=1)
        return revocation.process_due_jobs(get_clients().cronofy, now=later)


def test_an_enterprise_callback_is_claimed_answered_and_exchanged_by_the_worker_once(
    app: Flask, admin_client: FlaskClient, sandbox: RunningSandbox, served: str, tenants: Tenants
) -> None:
    connect_organisation(admin_client)
    sandbox.control.clear_requests()
    authorize(admin_client, "ada@demo.test")
    wait_until(lambda: len(exchange_jobs(app)) == 1)
    [job] = exchange_jobs(app)
    assert job.status is OutboxStatus.PENDING
    cipher = app.extensions["token_cipher"]
    code = cipher.decrypt(job.payload["code_encrypted"])
    token = cipher.decrypt(job.payload["token_encrypted"])
    assert code not in json.dumps(job.payload)
    assert authorization_states(app)["ada@demo.test"][0] == "pending"
    # The callback was answered without spending the code: no token exchange yet.
    assert not [r for r in sandbox.control.requests() if r["path"] == "/oauth/token"]

    # Cronofy redelivers the same success: the claim makes it a no-op, not a second exchange.
    body = json.dumps({"authorization": {"code": code, "state": "x"}}).encode()
    again = app.test_client().post(
        f"/webhooks/cronofy/enterprise/{token}",
        data=body,
        headers={"Cronofy-HMAC-SHA256": sign_body(body, sandbox.client_secret)},
    )
    assert again.json == {"outcome": "ignored"}
    assert len(exchange_jobs(app)) == 1

    assert run_worker(app).done == 1
    assert authorization_states(app)["ada@demo.test"] == ("authorized", None)
    with app.app_context():
        connection = db.session.scalars(sa.select(CalendarConnection)).one()
        assert connection.user_id == tenants.instructor_ids["ada@demo.test"]
    [done] = exchange_jobs(app)
    assert (done.status, done.payload) == (OutboxStatus.DONE, {})  # code scrubbed


def test_organisation_disconnect_answers_at_once_and_revokes_every_grant_later(
    app: Flask, admin_client: FlaskClient, sandbox: RunningSandbox, served: str, tenants: Tenants
) -> None:
    connect_organisation(admin_client)
    authorize(admin_client, "ada@demo.test, grace@demo.test")
    wait_until(lambda: len(exchange_jobs(app)) == 2)  # both callbacks claimed and answered
    run_worker(app)  # the worker exchanges the codes
    assert set(wait_settled(app, 2).values()) == {("authorized", None)}
    cipher = app.extensions["token_cipher"]
    with app.app_context():
        grants = [cipher.decrypt(c.refresh_token_encrypted or "")
                  for c in db.session.scalars(sa.select(CalendarConnection))]  # fmt: skip
        account = db.session.scalars(sa.select(ServiceAccount)).one()
        grants.append(cipher.decrypt(account.refresh_token_encrypted or ""))
    assert len(grants) == 3
    token = page_token(admin_client)
    sandbox.control.fail_next(0, 100, latency_ms=SLOW_MS)
    started = time.monotonic()
    answer = admin_client.post("/enterprise/disconnect", data={"csrf_token": token})
    took = time.monotonic() - started
    assert answer.status_code == 303
    assert took < QUICK_ENOUGH
    with app.app_context():  # all of it recorded in one transaction
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CalendarConnection)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ServiceAccount)) == 0
        jobs = db.session.scalars(sa.select(OutboxJob).where(OutboxJob.kind == "cronofy.revoke"))
        assert [j.status for j in jobs] == [OutboxStatus.PENDING] * 3

    sandbox.control.clear_faults()
    assert run_worker(app).done == 3
    for refresh in grants:
        with pytest.raises(CronofyInvalidGrant):
            app.extensions["clients"].cronofy.refresh(refresh)

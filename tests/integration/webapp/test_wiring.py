"""How create_app wires the outside world: clients, the mounted sandbox, Celery, limits.

Celery over a real broker is tested in tests/integration/celery/test_worker_redis.py.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.webapp_fixtures import MakeApp, csrf_token
from webapp.clients import SANDBOX_MOUNT_PATH, Clients, get_clients
from webapp.database import utcnow
from webapp.extensions import db
from webapp.mail import CalendarAttachment, CapturingMailer, OutgoingMail
from webapp.models import OutboxJob, OutboxStatus
from webapp.services import revocation
from webapp.services.disconnection import schedule_cleanup


def test_clients_are_built_from_the_config_in_sandbox_mode(app: Flask) -> None:
    with app.app_context():
        clients = get_clients()
    assert clients.cronofy.api_base_url == f"http://127.0.0.1:5000{SANDBOX_MOUNT_PATH}"
    assert clients.cronofy.app_base_url == f"http://127.0.0.1:5000{SANDBOX_MOUNT_PATH}"
    assert clients.bookly is None
    assert isinstance(clients.mailer, CapturingMailer)
    with pytest.raises(dataclasses.FrozenInstanceError):
        clients.bookly = None  # type: ignore[misc]


def test_the_apps_bookly_gateway_writes_with_a_key_derived_from_secret_key(
    make_app: MakeApp, tmp_path: Path
) -> None:
    bookly_url = f"sqlite:///{tmp_path / 'bookly.sqlite3'}"
    app = make_app(BOOKLY_DATABASE_URL=bookly_url, SECRET_KEY="a" * 40)
    with app.app_context():
        db.create_all()
    assert app.test_cli_runner().invoke(args=["demo", "seed"]).exit_code == 0
    bookly = app.extensions["clients"].bookly
    staff = bookly.list_staff()[0].id
    start = utcnow().replace(microsecond=0) + timedelta(days=3)
    block = bookly.create_busy_block(staff, start, start + timedelta(hours=1))  # no MissingTokenKey
    assert [b.id for b in bookly.list_busy_blocks(start, start + timedelta(hours=1))] == [block.id]


def test_injected_clients_are_used_as_given(make_app: MakeApp) -> None:
    mailer = CapturingMailer("test@example.org")
    fake = Clients(cronofy=object(), bookly=None, mailer=mailer)  # type: ignore[arg-type]
    app = make_app(clients=fake)
    with app.app_context():
        assert get_clients() is fake


def test_sandbox_is_mounted_under_its_prefix(make_app: MakeApp) -> None:
    client = make_app(SANDBOX_MOUNT=True).test_client()
    assert client.get(f"{SANDBOX_MOUNT_PATH}/").status_code == 200
    assert client.get("/healthz").json == {"status": "ok"}


def test_demo_mail_is_readable_on_the_sandbox_mailbox_page(make_app: MakeApp) -> None:
    app = make_app(SANDBOX_MOUNT=True)
    invite = CalendarAttachment(b"BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n")
    with app.app_context():
        mailer = get_clients().mailer
        mailer.send(OutgoingMail("kim@example.com", "Your lesson", "See you on Tuesday."))
        mailer.send(OutgoingMail("ada@demo.test", "Booked", "Kim booked.", calendar=invite))
    page = app.test_client().get(f"{SANDBOX_MOUNT_PATH}/mailbox").get_data(as_text=True)
    assert page.index("Booked") < page.index("Your lesson")  # newest first
    for text in ("To kim@example.com", "See you on Tuesday.", "To ada@demo.test", "Kim booked."):
        assert text in page
    assert "METHOD:REQUEST" in page


def test_live_mode_mounts_no_sandbox(make_app: MakeApp) -> None:
    app = make_app(
        SANDBOX_MOUNT=True, CRONOFY_CLIENT_ID="live-id", CRONOFY_CLIENT_SECRET="live-secret"
    )
    assert "cronofy_sandbox" not in app.extensions
    assert app.test_client().get(f"{SANDBOX_MOUNT_PATH}/").status_code == 404
    with app.app_context():
        assert get_clients().cronofy.api_base_url == "https://api.cronofy.com"


def test_without_a_broker_scheduled_work_runs_at_once_in_process(app: Flask) -> None:
    # The demo has no broker: the clean-up a disconnect schedules runs inline, before the
    # countdown, instead of waiting in a queue nobody reads.
    with app.app_context():
        job = revocation.queue_block_deletion([])
        job.next_attempt_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        schedule_cleanup(timedelta(minutes=5))
        db.session.expire_all()
        assert db.session.get(OutboxJob, job.id).status is OutboxStatus.DONE


@pytest.mark.redis
def test_login_limit_counts_in_redis_when_configured(
    app: Flask, make_app: MakeApp, redis_url: str
) -> None:
    # A fresh account name per run: Redis keeps counters between runs for a minute.
    email = f"{uuid.uuid4().hex}@school.test"
    overrides = {"RATELIMIT_STORAGE_URL": redis_url}
    first, second = make_app(**overrides).test_client(), make_app(**overrides).test_client()

    def fail(client: FlaskClient) -> int:
        form = {
            "email": email,
            "password": "wrong-password",
            "csrf_token": csrf_token(client),
        }
        return client.post("/login", data=form).status_code

    # Two app instances (two processes in production) share the counter.
    statuses = [fail(first), fail(second), fail(first), fail(second), fail(first), fail(second)]
    assert statuses == [401] * 5 + [429]

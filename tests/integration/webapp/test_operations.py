"""Operations: /metrics (who may scrape it, what it counts, several workers) and /readyz
(our database, Bookly's and the broker)."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import requests
import responses
from flask import Flask
from flask.testing import FlaskClient

from tests.webapp_fixtures import MakeApp
from webapp import metrics
from webapp.database import utcnow
from webapp.extensions import db
from webapp.models import InboundNotification, OutboxJob, OutboxStatus

OUTSIDE = {"REMOTE_ADDR": "203.0.113.5"}


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in the exposition (0 when absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    pattern = rf"^{re.escape(name)}(\{{{re.escape(wanted)}\}})? (\S+)$" if labels else (
        rf"^{re.escape(name)} (\S+)$")  # fmt: skip
    for line in text.splitlines():
        found = re.match(pattern, line)
        if found:
            return float(found.groups()[-1])
    return 0.0


def scrape(client: FlaskClient) -> str:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    return response.get_data(as_text=True)


def test_loopback_scrapes_every_family(client: FlaskClient) -> None:
    text = scrape(client)
    assert sample(text, "bridge_database_up") == 1
    for family in ("bridge_webhooks_total", "bridge_cronofy_responses_total",
                   "bridge_cronofy_not_reached_total", "bridge_booking_conflicts_total",
                   "bridge_outbox_jobs", "bridge_calendar_notifications_pending",
                   "bridge_calendar_sync_lag_seconds"):  # fmt: skip
        assert f"# TYPE {family.removesuffix('_total')}" in text


def test_others_get_404_unless_they_bring_the_token(app: Flask, make_app: MakeApp) -> None:
    client = make_app(METRICS_TOKEN="s3cret-metrics-token-for-tests").test_client()
    assert client.get("/metrics", environ_base=OUTSIDE).status_code == 404
    wrong = {"Authorization": "Bearer not-it"}
    assert client.get("/metrics", environ_base=OUTSIDE, headers=wrong).status_code == 404
    right = {"Authorization": "Bearer s3cret-metrics-token-for-tests"}
    answer = client.get("/metrics", environ_base=OUTSIDE, headers=right)
    assert answer.status_code == 200
    assert "s3cret" not in answer.get_data(as_text=True)


def test_without_a_token_configured_outsiders_always_get_404(client: FlaskClient) -> None:
    assert client.get("/metrics", environ_base=OUTSIDE,
                      headers={"Authorization": "Bearer "}).status_code == 404  # fmt: skip


def test_a_webhook_counts_by_receiver_and_outcome(client: FlaskClient) -> None:
    before = sample(scrape(client), "bridge_webhooks_total", receiver="push", outcome="rejected")
    assert client.post("/webhooks/cronofy/some-token", data=b"{}").status_code == 401
    after = sample(scrape(client), "bridge_webhooks_total", receiver="push", outcome="rejected")
    assert after == before + 1


def test_outbox_depth_and_sync_lag_come_from_the_database(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        db.session.add(OutboxJob(kind="cronofy.revoke", payload={}, next_attempt_at=utcnow()))
        db.session.add(OutboxJob(kind="cronofy.revoke", payload={}, status=OutboxStatus.DEAD,
                                 next_attempt_at=utcnow()))  # fmt: skip
        db.session.add(OutboxJob(kind="cronofy.revoke", payload={}, status=OutboxStatus.DONE,
                                 next_attempt_at=utcnow()))  # fmt: skip
        two_hours_ago = utcnow() - timedelta(hours=2)
        db.session.add(InboundNotification(body_hash="a" * 64, notification_type="change",
                                           body="{}", received_at=two_hours_ago))  # fmt: skip
        db.session.commit()
    text = scrape(client)
    assert sample(text, "bridge_outbox_jobs", kind="cronofy.revoke", status="pending") == 1
    assert sample(text, "bridge_outbox_jobs", kind="cronofy.revoke", status="dead") == 1
    assert sample(text, "bridge_outbox_jobs", kind="cronofy.revoke", status="done") == 0
    # The notification has no connection (unknown channel): nothing for the sync to do.
    assert sample(text, "bridge_calendar_notifications_pending") == 0
    assert sample(text, "bridge_calendar_sync_lag_seconds") == 0


@responses.activate
def test_the_cronofy_session_counts_answers_and_calls_left_unanswered() -> None:
    def value(name: str, **labels: str) -> float:
        return sample(metrics._counters().decode(), name, **labels)

    responses.add(responses.GET, "https://api.cronofy.com/v1/calendars", status=503)
    responses.add(responses.GET, "https://api.cronofy.com/v1/userinfo", status=200, json={})
    responses.add(responses.GET, "https://api.cronofy.com/v1/profiles",
                  body=requests.ConnectionError("refused"))  # fmt: skip
    before = (value("bridge_cronofy_responses_total", status="5xx"),
              value("bridge_cronofy_responses_total", status="2xx"),
              value("bridge_cronofy_not_reached_total"))  # fmt: skip
    session = metrics.CountingSession()
    assert session.get("https://api.cronofy.com/v1/calendars", timeout=1).status_code == 503
    assert session.get("https://api.cronofy.com/v1/userinfo", timeout=1).status_code == 200
    with pytest.raises(requests.ConnectionError):
        session.get("https://api.cronofy.com/v1/profiles", timeout=1)
    after = (value("bridge_cronofy_responses_total", status="5xx"),
             value("bridge_cronofy_responses_total", status="2xx"),
             value("bridge_cronofy_not_reached_total"))  # fmt: skip
    assert [b - a for a, b in zip(before, after, strict=True)] == [1, 1, 1]


def test_several_worker_processes_add_up_in_multiprocess_mode(tmp_path: Path) -> None:
    env = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    count = "from webapp import metrics; metrics.count_webhook('push', 'accepted')"
    for _ in range(2):  # two "gunicorn workers"
        subprocess.run([sys.executable, "-c", count], env=env, check=True, timeout=60)
    show = "from webapp import metrics; print(metrics._counters().decode())"
    text = subprocess.run([sys.executable, "-c", show], env=env, check=True, timeout=60,
                          capture_output=True, text=True).stdout  # fmt: skip
    assert sample(text, "bridge_webhooks_total", receiver="push", outcome="accepted") == 2


def test_readyz_names_an_unreachable_bookly_database(make_app: MakeApp) -> None:
    client = make_app(BOOKLY_DATABASE_URL="mysql+pymysql://root@127.0.0.1:1/wp").test_client()
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json is not None
    assert (answer.json["bookly"], answer.json["database"]) == ("unreachable", "ok")
    assert "127.0.0.1:1" not in answer.get_data(as_text=True)


def test_readyz_names_an_unreachable_broker(make_app: MakeApp) -> None:
    client = make_app(CELERY_BROKER_URL="redis://127.0.0.1:1/0").test_client()
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json is not None
    assert answer.json["broker"] == "unreachable"


def test_readyz_with_a_live_broker_is_ready(make_app: MakeApp, idle_broker_url: str) -> None:
    answer = make_app(CELERY_BROKER_URL=idle_broker_url).test_client().get("/readyz")
    assert answer.status_code == 200
    assert answer.json is not None
    assert (answer.json["broker"], answer.json["bookly"]) == ("ok", "not configured")


def test_metrics_are_served_while_the_database_is_down(make_app: MakeApp, tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "dir" / "db.sqlite3"
    text = scrape(make_app(DATABASE_URL=f"sqlite:///{missing}").test_client())
    assert sample(text, "bridge_database_up") == 0
    assert "# TYPE bridge_webhooks" in text

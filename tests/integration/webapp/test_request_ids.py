"""A request id on every response and log line, carried into Celery tasks; JSON log lines."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import pytest
from celery import Celery
from celery.contrib.testing.worker import start_worker
from flask.testing import FlaskClient

from tests.webapp_fixtures import MakeApp
from webapp import request_ids
from webapp.config import ConfigError
from webapp.logging_config import JsonFormatter, RedactSecretsFilter


def test_every_response_carries_a_fresh_id(client: FlaskClient) -> None:
    first = client.get("/healthz").headers[request_ids.HEADER]
    second = client.get("/healthz").headers[request_ids.HEADER]
    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert first != second


def test_a_well_formed_incoming_id_is_kept(client: FlaskClient) -> None:
    sent = "lb-7f3a9c21-request"
    answer = client.get("/healthz", headers={request_ids.HEADER: sent})
    assert answer.headers[request_ids.HEADER] == sent


@pytest.mark.parametrize("sent", ["short", "has spaces in it", "x" * 65, 'quote"and<tag>'])
def test_a_malformed_incoming_id_is_replaced(client: FlaskClient, sent: str) -> None:
    answer = client.get("/healthz", headers={request_ids.HEADER: sent})
    assert re.fullmatch(r"[0-9a-f]{32}", answer.headers[request_ids.HEADER])


def test_log_lines_of_a_request_carry_its_id(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    answer = client.post("/webhooks/cronofy/some-token", data=b"{}")  # logs a rejection
    assert answer.status_code == 401
    wanted = answer.headers[request_ids.HEADER]
    lines = [r for r in caplog.records if "bad signature" in r.getMessage()]
    assert lines
    assert {getattr(r, "request_id", None) for r in lines} == {wanted}
    outside = logging.getLogger("tests").makeRecord("tests", logging.INFO, "f", 1, "x", (), None)
    assert outside.request_id == "-"  # type: ignore[attr-defined]


def test_json_lines_hold_the_fields_and_stay_redacted() -> None:
    token = request_ids.current.set("req-12345678")
    try:
        try:
            raise ValueError("boom refresh_token=abc123secret")
        except ValueError:
            record = logging.getLogger("webapp.test").makeRecord(
                "webapp.test", logging.ERROR, "f", 1,
                "refresh failed: access_token=%s", ("tok-very-secret",), None,
            )  # fmt: skip
            import sys

            record.exc_info = sys.exc_info()
    finally:
        request_ids.current.reset(token)
    RedactSecretsFilter().filter(record)
    entry = json.loads(JsonFormatter().format(record))
    assert entry["level"] == "ERROR"
    assert entry["logger"] == "webapp.test"
    assert entry["request_id"] == "req-12345678"
    assert entry["time"].endswith("+00:00")
    text = json.dumps(entry)
    assert "tok-very-secret" not in text
    assert "abc123secret" not in text
    assert "ValueError" in entry["exception"]


def test_log_format_is_checked(make_app: MakeApp) -> None:
    with pytest.raises(ConfigError, match="LOG_FORMAT must be json or plain"):
        make_app(LOG_FORMAT="yaml")
    assert make_app().config["LOG_FORMAT"] == "plain"  # tests and the demo: plain text


def test_a_task_sent_during_a_request_runs_with_its_id_in_a_worker() -> None:
    """A real worker (in-process, memory broker): the id travels in the task's headers."""
    celery_app = Celery("request-id-test", broker="memory://", backend="cache+memory://")
    celery_app.conf.worker_hijack_root_logger = False  # keep the app's (redacting) handlers
    seen: dict[str, Any] = {}

    @celery_app.task(bind=True)  # type: ignore[untyped-decorator]
    def probe(self: Any) -> str | None:
        seen["header"] = getattr(self.request, request_ids.TASK_HEADER, None)
        return request_ids.request_id()

    with start_worker(celery_app, pool="solo", perform_ping_check=False, loglevel="WARNING"):
        token = request_ids.current.set("api-call-0042")
        try:
            result = probe.delay()
        finally:
            request_ids.current.reset(token)
        assert result.get(timeout=20, disable_sync_subtasks=False) == "api-call-0042"
    assert seen["header"] == "api-call-0042"
    assert request_ids.request_id() is None  # the worker thread left nothing behind here

"""Secrets are redacted from log records, whichever handler writes them."""

from __future__ import annotations

import io
import logging

import pytest
from cryptography.fernet import Fernet

from webapp.logging_config import REDACTED, RedactSecretsFilter, configure_logging, redact

API_SECRET = "OkaXESikT-dgQD-8lCoC-2RjUyeNM3A0jbhfWe5cneQ"  # noqa: S105 - made up
API_KEY = f"bcb_928f708eb44a_{API_SECRET}"


def test_an_api_key_keeps_only_its_public_key_id() -> None:
    assert redact(f"key {API_KEY} used") == f"key bcb_928f708eb44a_{REDACTED} used"


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        ("GET /connect/callback?code=abc123&state=xyz789 HTTP/1.1", "abc123"),
        ("GET /connect/callback?code=abc123&state=xyz789 HTTP/1.1", "xyz789"),
        ('{"access_token": "at-1", "token_type": "bearer"}', "at-1"),
        ('{"refresh_token":"rt-2"}', "rt-2"),
        ("client_secret=CRN_s3cr3t&grant_type=refresh_token", "CRN_s3cr3t"),
        ("Authorization: Bearer tok-42", "tok-42"),
        ("Cronofy-HMAC-SHA256: c2lnbmF0dXJl", "c2lnbmF0dXJl"),
        ("password=hunter2", "hunter2"),
        ("GET /login?next=%2Fconnect%2Fcallback%3Fcode%3Dabc123%26state%3Dx HTTP/1.1", "abc123"),
        ("GET /login?next=%2Fconnect%2Fcallback%3Fcode%3Da%26state%3Dxyz789 HTTP/1.1", "xyz789"),
        (
            '"POST /webhooks/cronofy/Zk3vQ9_secretPathToken-1 HTTP/1.1" 202',
            "Zk3vQ9_secretPathToken-1",
        ),
        ("POST /webhooks/cronofy/enterprise/Ab12Cd34Ef56Gh78_x HTTP/1.1", "Ab12Cd34Ef56Gh78_x"),
        (f"key was {API_KEY}", API_SECRET),
        (f"curl -H 'X-Key: {API_KEY}'", API_SECRET),
    ],
)
def test_secret_values_are_redacted(line: str, secret: str) -> None:
    cleaned = redact(line)
    assert secret not in cleaned
    assert REDACTED in cleaned


def test_fernet_keys_are_redacted() -> None:
    key = Fernet.generate_key().decode()
    assert key not in redact(f"keys loaded: {key}")


@pytest.mark.parametrize("first", ["-", "_"])
def test_fernet_keys_starting_with_punctuation_are_redacted(first: str) -> None:
    key = first + Fernet.generate_key().decode()[1:]
    assert key not in redact(f"keys loaded: {key}")
    assert redact(f"keys loaded: {key}") == f"keys loaded: {REDACTED}"


def test_ordinary_text_is_untouched() -> None:
    line = "booking 42 confirmed for instructor 7 (status code 201)"
    assert redact(line) == line


def test_filter_rewrites_formatted_records() -> None:
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "exchanging code=%s", ("the-code",), None
    )
    assert RedactSecretsFilter().filter(record)
    assert "the-code" not in record.getMessage()


def test_filter_redacts_exception_text() -> None:
    try:
        raise ValueError("refresh_token=rt-secret rejected")
    except ValueError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    RedactSecretsFilter().filter(record)
    assert record.exc_text is not None
    assert "rt-secret" not in record.exc_text


@pytest.fixture
def started() -> None:
    """Logging as the app configures it at start-up."""
    configure_logging("INFO")


def _attach(logger: logging.Logger, monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    """A handler of someone else's (no filter of ours), added after start-up."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    monkeypatch.setattr(logger, "handlers", logger.handlers)  # restored after the test
    monkeypatch.setattr(logger, "propagate", logger.propagate)
    return stream


def test_a_handler_added_to_the_root_logger_after_start_up_gets_redacted_records(
    started: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = logging.getLogger()
    handlers = list(root.handlers)
    stream = _attach(root, monkeypatch)  # e.g. an error tracker's logging handler
    # First in line: it must not depend on our own handler having redacted the record.
    root.handlers.insert(0, root.handlers.pop())
    try:
        logging.getLogger("webapp.services.tokens").warning(
            "refresh failed: refresh_token=%s", "rt-secret-1"
        )
    finally:
        root.handlers = handlers
    assert "rt-secret-1" not in stream.getvalue()
    assert f"refresh_token={REDACTED}" in stream.getvalue()


def test_a_gunicorn_style_access_logger_that_does_not_propagate_is_redacted(
    started: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    access = logging.getLogger("gunicorn.access")
    stream = _attach(access, monkeypatch)
    access.propagate = False
    access.info(  # gunicorn passes the request's atoms as one mapping
        '%(h)s "%(r)s" %(s)s',
        {
            "h": "10.0.0.1",
            "r": "POST /webhooks/cronofy/Zk3vQ9_secretPathToken-1 HTTP/1.1",
            "s": 202,
        },
    )
    line = stream.getvalue()
    assert "Zk3vQ9_secretPathToken-1" not in line
    assert f'"POST /webhooks/cronofy/{REDACTED} HTTP/1.1" 202' in line


def test_a_celery_style_task_logger_redacts_the_traceback_too(
    started: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    trace = logging.getLogger("celery.app.trace")
    stream = _attach(trace, monkeypatch)
    trace.propagate = False
    try:
        raise RuntimeError("Cronofy said no to access_token=at-secret-2")
    except RuntimeError:
        trace.exception("Task %s raised: client_secret=%s", "webapp.tasks.x", "CRN_s3cr3t")
    output = stream.getvalue()
    assert "at-secret-2" not in output
    assert "CRN_s3cr3t" not in output
    assert "Traceback" in output
    assert f"raised: client_secret={REDACTED}" in output
    assert f"RuntimeError: Cronofy said no to access_token={REDACTED}" in output

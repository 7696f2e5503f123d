"""The logging filter keeps secrets out of log lines."""

from __future__ import annotations

import logging

import pytest
from cryptography.fernet import Fernet

from webapp.logging_config import REDACTED, RedactSecretsFilter, redact


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
        (
            '"POST /webhooks/cronofy/Zk3vQ9_secretPathToken-1 HTTP/1.1" 202',
            "Zk3vQ9_secretPathToken-1",
        ),
        ("POST /webhooks/cronofy/enterprise/Ab12Cd34Ef56Gh78_x HTTP/1.1", "Ab12Cd34Ef56Gh78_x"),
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

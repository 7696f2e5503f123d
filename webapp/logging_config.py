"""Logging configured once with dictConfig; secrets are redacted from every record as it is made."""

from __future__ import annotations

import json
import logging
import logging.config
import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from webapp.request_ids import request_id

log = logging.getLogger(__name__)

_configured = False
_lock = threading.Lock()

REDACTED = "[redacted]"
_SENSITIVE_KEYS = (
    r"access_token|refresh_token|client_secret|code|state|password|token|secret|"
    r"token_encryption_keys|secret_key"
)
_SENSITIVE_HEADERS = r"authorization|cronofy-hmac-sha256|cookie|set-cookie"
# key=value (query strings, form bodies), "key": "value" (JSON) and Header: value forms.
_PATTERNS = (
    re.compile(rf"(?i)\b({_SENSITIVE_KEYS})=([^&\s\"',;]+)"),
    # The same inside a percent-encoded URL, e.g. a login redirect's next=...%3Fcode%3D...
    re.compile(rf"(?i)(?:(?<=%3F)|(?<=%26)|\b)({_SENSITIVE_KEYS})%3D((?:(?!%26)[^&\s\"',;])+)"),
    re.compile(rf"(?i)\"({_SENSITIVE_KEYS}|{_SENSITIVE_HEADERS})\"\s*:\s*\"([^\"]*)\""),
    re.compile(rf"(?i)\b({_SENSITIVE_HEADERS}):\s*((?:Bearer\s+)?[^\s,;]+)"),
    # Webhook paths carry a per-connection secret token (access logs print the path).
    re.compile(r"(/webhooks/cronofy/(?:enterprise/)?)([A-Za-z0-9_-]{16,})"),
    # JSON API keys (webapp.services.api_keys): the public key id stays, the secret goes.
    re.compile(r"\b(bcb_[0-9a-f]{12}_)([A-Za-z0-9_-]{43})"),
)
_FERNET_KEY = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{43}=")


def _mask_value(match: re.Match[str]) -> str:
    start, end = match.start(2) - match.start(0), match.end(2) - match.start(0)
    whole = match.group(0)
    return whole[:start] + REDACTED + whole[end:]


def redact(text: str) -> str:
    """The text with secret values (tokens, codes, states, keys, signatures) replaced."""
    for pattern in _PATTERNS:
        text = pattern.sub(_mask_value, text)
    return _FERNET_KEY.sub(REDACTED, text)


def redact_record(record: logging.LogRecord) -> None:
    """Replace a record's message, traceback text and stack text with redacted text."""
    try:
        message = record.getMessage()
    except (TypeError, ValueError):
        message = str(record.msg)
    record.msg = redact(message)
    record.args = None
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


class RedactSecretsFilter(logging.Filter):
    """Rewrites each record's message (and traceback text) with secrets redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact in place (and make sure the request id is there); never drops a record."""
        redact_record(record)
        if not hasattr(record, "request_id"):
            record.request_id = request_id() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, request id, traceback."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON line (the message is redacted already)."""
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(self.formatException(record.exc_info))
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


class RedactingRecordFactory:
    """A LogRecord factory that redacts every record as it is made.

    Redacting here, at the source, covers every handler: ours, gunicorn's and Celery's (on
    loggers that do not propagate) and an error tracker's added after start-up. A filter on
    a logger would miss records of its child loggers, and one on a handler only guards that
    handler. A handler that reads ``record.exc_info`` itself (not ``exc_text``) must scrub
    exception values on its own (error trackers have hooks for that).
    """

    def __init__(self, previous: Callable[..., logging.LogRecord]) -> None:
        self.previous = previous

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        """The record the previous factory makes, redacted, with the request id."""
        record = self.previous(*args, **kwargs)
        redact_record(record)
        record.request_id = request_id() or "-"
        return record


def _install_record_factory() -> None:
    current = logging.getLogRecordFactory()
    if not isinstance(current, RedactingRecordFactory):
        logging.setLogRecordFactory(RedactingRecordFactory(current))


def configure_logging(level: str = "INFO", *, json_lines: bool = False) -> None:
    """Install our handlers once per process (later calls only adjust the level).

    ``json_lines``: one JSON object per line (production); otherwise plain text."""
    global _configured
    with _lock:
        if _configured:
            logging.getLogger().setLevel(level.upper())
            return
        _install_record_factory()
        logging.config.dictConfig(
            {
                "version": 1,
                "disable_existing_loggers": False,
                "filters": {"redact": {"()": RedactSecretsFilter}},
                "formatters": {
                    "plain": {
                        "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"
                    },
                    "json": {"()": JsonFormatter},
                },
                "handlers": {
                    # The record factory has redacted already; the filter keeps this handler
                    # safe should a library replace the factory without chaining ours.
                    "stderr": {
                        "class": "logging.StreamHandler",
                        "formatter": "json" if json_lines else "plain",
                        "filters": ["redact"],
                    }
                },
                "root": {"level": level.upper(), "handlers": ["stderr"]},
            }
        )
        _configured = True
    log.debug("logging configured at %s", level.upper())

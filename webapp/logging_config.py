"""Logging configured once with dictConfig; a filter keeps secrets out of every record."""

from __future__ import annotations

import logging
import logging.config
import re
import threading

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
    re.compile(rf"(?i)\"({_SENSITIVE_KEYS}|{_SENSITIVE_HEADERS})\"\s*:\s*\"([^\"]*)\""),
    re.compile(rf"(?i)\b({_SENSITIVE_HEADERS}):\s*((?:Bearer\s+)?[^\s,;]+)"),
    # Webhook paths carry a per-connection secret token (access logs print the path).
    re.compile(r"(/webhooks/cronofy/(?:enterprise/)?)([A-Za-z0-9_-]{16,})"),
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


class RedactSecretsFilter(logging.Filter):
    """Rewrites each record's message (and traceback text) with secrets redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact in place; never drops a record."""
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
        return True


def configure_logging(level: str = "INFO") -> None:
    """Install our handlers once per process (later calls only adjust the level)."""
    global _configured
    with _lock:
        if _configured:
            logging.getLogger().setLevel(level.upper())
            return
        logging.config.dictConfig(
            {
                "version": 1,
                "disable_existing_loggers": False,
                "filters": {"redact": {"()": RedactSecretsFilter}},
                "formatters": {
                    "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}
                },
                "handlers": {
                    "stderr": {
                        "class": "logging.StreamHandler",
                        "formatter": "plain",
                        "filters": ["redact"],
                    }
                },
                "root": {"level": level.upper(), "handlers": ["stderr"]},
            }
        )
        _configured = True
    log.debug("logging configured at %s", level.upper())

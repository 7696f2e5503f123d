"""Configuration: every environment variable, named once, with its default.

Two ways to run (DESIGN §3):

* **demo / embedded** (``BRIDGE_ENV=demo``, what ``make run`` sets): SQLite in ``instance/``,
  Celery eager, the Cronofy sandbox mounted in-process, a Bookly demo SQLite file, mail
  captured. Secrets are generated once and kept in ``instance/demo-secrets.json``.
* **production** (the default): ``SECRET_KEY``, ``TOKEN_ENCRYPTION_KEYS``, ``DATABASE_URL``,
  the Cronofy credentials (unless ``CRONOFY_SANDBOX=1``) and ``CELERY_BROKER_URL`` are
  required, ``PUBLIC_BASE_URL`` must be https:// and ``RATELIMIT_STORAGE_URL`` shared (not
  memory://); anything else stops start-up with one line naming the variable and what to set.
  ``FLASK_DEBUG`` does not change the mode: only ``BRIDGE_ENV=demo`` generates secrets.

Tests pass ``TESTING=True`` in the ``config`` mapping of ``create_app``; testing gets the demo
defaults with throwaway secrets.
"""

from __future__ import annotations

import json
import logging
import math
import os
import secrets
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography.fernet import Fernet

log = logging.getLogger(__name__)

DEMO_ENV = "demo"
PRODUCTION_ENV = "production"
MIN_SECRET_KEY_LENGTH = 32


class ConfigError(RuntimeError):
    """The configuration cannot start the service; the message names the variable."""


@dataclass(frozen=True, slots=True)
class EnvVar:
    """One environment variable: its name, default (None = unset) and meaning."""

    name: str
    default: str | None
    doc: str


ENV_VARS: tuple[EnvVar, ...] = (
    EnvVar("BRIDGE_ENV", PRODUCTION_ENV, "`production` (default) or `demo` (embedded defaults)"),
    EnvVar("SECRET_KEY", None, "Flask session signing key, >= 32 characters"),
    EnvVar("DATABASE_URL", None, "our database; demo: sqlite:///instance/bridge.sqlite3"),
    EnvVar("CELERY_BROKER_URL", None, "Redis URL for Celery; unset: tasks run in-process"),
    EnvVar("DISCONNECT_CLEANUP_INTERVAL_SECONDS", "60", "beat period of finish_disconnects"),
    EnvVar("CRONOFY_CLIENT_ID", None, "Cronofy OAuth client id; unset: sandbox mode"),
    EnvVar("CRONOFY_CLIENT_SECRET", None, "Cronofy OAuth client secret"),
    EnvVar("CRONOFY_PREVIOUS_CLIENT_SECRETS", "", "comma-separated secrets still accepted"),
    EnvVar("CRONOFY_DATA_CENTER", "us", "us, uk, de, au, ca or sg"),
    EnvVar("CRONOFY_API_BASE_URL", None, "override of the API host (default from data center)"),
    EnvVar("CRONOFY_APP_BASE_URL", None, "override of the browser-facing authorize host"),
    EnvVar("CRONOFY_SANDBOX", None, "1: use the mounted sandbox even in production"),
    EnvVar("BOOKLY_DATABASE_URL", None, "Bookly's MariaDB; demo: instance/bookly-demo.sqlite3"),
    EnvVar("BOOKLY_TABLE_PREFIX", "wp_", "WordPress table prefix"),
    EnvVar("TOKEN_ENCRYPTION_KEYS", None, "comma-separated Fernet keys, newest first"),
    EnvVar("PUBLIC_BASE_URL", "http://127.0.0.1:5000", "public URL; https turns on Secure/HSTS"),
    EnvVar("MAIL_URL", None, "smtp://user:pass@host:port; unset: mail is captured"),
    EnvVar("MAIL_CA_FILE", None, "PEM file of CAs trusted for the SMTP server (private CA)"),
    EnvVar("MAIL_FROM", "Calendar bridge <no-reply@localhost>", "sender of our e-mails"),
    EnvVar(
        "RATELIMIT_STORAGE_URL",
        "memory://",
        "Login and Cronofy rate-limit counters (redis://... to share them between processes)",
    ),
    EnvVar("TRUSTED_PROXY_HOPS", "0", "reverse proxies in front of the app (X-Forwarded-*)"),
    EnvVar("AVAILABILITY_CACHE_URL", None, "Redis URL shared by all processes; unset: in-process"),
    EnvVar("AVAILABILITY_CACHE_SECONDS", "60", "how long a computed availability view is reused"),
    EnvVar(
        "RETENTION_DAYS",
        "30",
        "days processed webhook notifications and finished outbox jobs are kept",
    ),
    EnvVar("BOOKLY_POLL_SECONDS", "15", "how often Bookly's log is read for changes to mirror"),
    EnvVar(
        "RECONCILE_MINUTES",
        "15",
        "how often the Bookly window is compared in full with what was mirrored (drift repair)",
    ),
    EnvVar(
        "IN_PROCESS_BEAT",
        None,
        "1: without a broker, run the periodic tasks in a thread of the web process (make run)",
    ),
    EnvVar("METRICS_TOKEN", None, "bearer token for /metrics from outside the loopback"),
    EnvVar("LOG_LEVEL", "INFO", "root log level"),
    EnvVar("LOG_FORMAT", None, "json (one object per line; production default) or plain"),
    EnvVar("INSTANCE_PATH", None, "folder for SQLite files and demo secrets (default instance/)"),
)


def env_defaults() -> dict[str, str | None]:
    """Every variable's default, by name."""
    return {var.name: var.default for var in ENV_VARS}


def read_environment(environ: Mapping[str, str]) -> dict[str, str | None]:
    """Read each known variable by name (never by prefix), empty strings count as unset."""
    values = env_defaults()
    for var in ENV_VARS:
        raw = environ.get(var.name, "").strip()
        if raw:
            values[var.name] = raw
    return values


def _split_list(raw: str | Sequence[str] | None) -> tuple[str, ...]:
    parts = (raw or "").split(",") if isinstance(raw, str | None) else raw
    return tuple(part.strip() for part in parts if part.strip())


def _truthy(raw: str | None) -> bool:
    return (raw or "").strip().lower() in {"1", "true", "yes", "on"}


def _demo_secrets(instance_path: Path) -> dict[str, str]:
    """Secrets generated on first demo start and reused afterwards (tokens stay readable)."""
    path = instance_path / "demo-secrets.json"
    if path.exists():
        stored: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
        return stored
    values = {
        "SECRET_KEY": secrets.token_urlsafe(48),
        "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode("ascii"),
        "CRONOFY_CLIENT_SECRET": "CRN_sandbox_" + secrets.token_urlsafe(24),
    }
    instance_path.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(values, handle)
    log.info("generated demo secrets in %s", path)
    return values


def _throwaway_secrets() -> dict[str, str]:
    return {
        "SECRET_KEY": secrets.token_urlsafe(48),
        "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode("ascii"),
        "CRONOFY_CLIENT_SECRET": "CRN_sandbox_" + secrets.token_urlsafe(24),
    }


def _require(values: Mapping[str, Any], name: str, why: str) -> None:
    if not values.get(name):
        raise ConfigError(f"{name} is not set: {why}")


def validate_production(values: Mapping[str, Any]) -> None:
    """Refuse to start in production when a secret or a required URL is missing."""
    _require(values, "SECRET_KEY", "set a random value of at least 32 characters")
    if len(str(values["SECRET_KEY"])) < MIN_SECRET_KEY_LENGTH:
        raise ConfigError(f"SECRET_KEY is too short: use at least {MIN_SECRET_KEY_LENGTH} chars")
    _require(values, "TOKEN_ENCRYPTION_KEYS", "set one or more Fernet keys, newest first")
    for key in _split_list(values["TOKEN_ENCRYPTION_KEYS"]):
        try:
            Fernet(key.encode("ascii"))
        except (ValueError, UnicodeEncodeError):
            raise ConfigError(
                "TOKEN_ENCRYPTION_KEYS holds a value that is not a Fernet key"
            ) from None
    _require(values, "DATABASE_URL", "set the PostgreSQL URL of our database")
    if not _truthy(values.get("CRONOFY_SANDBOX")):
        _require(values, "CRONOFY_CLIENT_ID", "set it, or CRONOFY_SANDBOX=1 for the sandbox")
        _require(values, "CRONOFY_CLIENT_SECRET", "set the Cronofy OAuth client secret")
    _refuse_unsafe_production_settings(values)


def _refuse_unsafe_production_settings(values: Mapping[str, Any]) -> None:
    """Settings that start but lose security or work in production: one line each."""
    public = urlsplit(str(values["PUBLIC_BASE_URL"]))
    if public.scheme != "https" or not public.hostname:
        raise ConfigError(
            "PUBLIC_BASE_URL must be an https:// address in production "
            "(cookies and OAuth redirects would travel in clear): set the public https URL"
        )
    _require(
        values,
        "CELERY_BROKER_URL",
        "set the Redis URL of the Celery broker (without workers, failed revocations "
        "would never be retried)",
    )
    if urlsplit(str(values["RATELIMIT_STORAGE_URL"])).scheme == "memory":
        raise ConfigError(
            "RATELIMIT_STORAGE_URL is memory://, which every process counts on its own: "
            "set a shared store such as redis://host:6379/1"
        )


def _check_mail_ca_file(path: str | None) -> None:
    """A configured CA bundle must be a PEM file we can load (else every send would fail)."""
    if not path:
        return
    try:
        ssl.create_default_context(cafile=path)
    except (OSError, ssl.SSLError):
        raise ConfigError(
            f"MAIL_CA_FILE is not a readable PEM file of CA certificates: {path}"
        ) from None


def _mode(values: Mapping[str, Any], overrides: Mapping[str, Any]) -> str:
    # Only BRIDGE_ENV=demo generates secrets and mounts the sandbox; FLASK_DEBUG never does.
    if overrides.get("TESTING"):
        return "testing"
    if values.get("BRIDGE_ENV") == DEMO_ENV:
        return DEMO_ENV
    if values.get("BRIDGE_ENV") != PRODUCTION_ENV:
        raise ConfigError(f"BRIDGE_ENV must be '{DEMO_ENV}' or '{PRODUCTION_ENV}'")
    return PRODUCTION_ENV


def _fill_embedded_defaults(values: dict[str, Any], mode: str, instance_path: Path) -> None:
    """Demo and testing: generated secrets, SQLite files, sandbox Cronofy."""
    generated = _demo_secrets(instance_path) if mode == DEMO_ENV else _throwaway_secrets()
    for name in ("SECRET_KEY", "TOKEN_ENCRYPTION_KEYS"):
        values[name] = values[name] or generated[name]
    if not values["DATABASE_URL"]:
        values["DATABASE_URL"] = f"sqlite:///{instance_path / 'bridge.sqlite3'}"
    if mode == DEMO_ENV and not values["BOOKLY_DATABASE_URL"]:
        values["BOOKLY_DATABASE_URL"] = f"sqlite:///{instance_path / 'bookly-demo.sqlite3'}"
    if mode == DEMO_ENV:
        values["CRONOFY_SANDBOX_DATABASE"] = str(instance_path / "cronofy-sandbox.sqlite3")
    if not values["CRONOFY_CLIENT_ID"]:
        values["CRONOFY_SANDBOX"] = "1"
        values["CRONOFY_CLIENT_ID"] = "sandbox-client"
        values["CRONOFY_CLIENT_SECRET"] = (
            values["CRONOFY_CLIENT_SECRET"] or generated["CRONOFY_CLIENT_SECRET"]
        )


def _proxy_hops(raw: Any) -> int:
    """How many reverse proxies' X-Forwarded-* headers to believe (0: none)."""
    try:
        hops = int(str(raw).strip())
    except ValueError:
        hops = -1
    if hops < 0:
        raise ConfigError(
            "TRUSTED_PROXY_HOPS must be a whole number >= 0: the count of reverse proxies "
            "in front of the app"
        )
    return hops


def _log_format(raw: str | None, mode: str) -> str:
    """``json`` lines in production unless asked otherwise; plain text elsewhere."""
    chosen = (raw or ("json" if mode == PRODUCTION_ENV else "plain")).strip().lower()
    if chosen not in ("json", "plain"):
        raise ConfigError("LOG_FORMAT must be json or plain")
    return chosen


def _retention_days(raw: Any) -> int:
    """Days history is kept before the retention task deletes it (a whole number >= 1)."""
    try:
        days = int(str(raw).strip())
    except ValueError:
        days = 0
    if days < 1:
        raise ConfigError(
            "RETENTION_DAYS must be a whole number of days >= 1 (how long processed webhook "
            "notifications and finished jobs are kept)"
        )
    return days


def _positive(name: str, raw: Any, unit: str) -> float:
    """A positive, finite number of ``unit`` read from ``name``."""
    try:
        value = float(str(raw).strip())
    except ValueError:
        value = 0.0
    if not (value > 0 and math.isfinite(value)):
        raise ConfigError(f"{name} must be a number of {unit} greater than 0")
    return value


def _cookie_settings(public_base_url: str) -> dict[str, Any]:
    https = urlsplit(public_base_url).scheme == "https"
    return {
        # __Host- needs Secure; the plain-http demo on 127.0.0.1 must still log in.
        "SESSION_COOKIE_NAME": "__Host-session" if https else "bridge_session",
        "SESSION_COOKIE_SECURE": https,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_PATH": "/",
        "REMEMBER_COOKIE_SECURE": https,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "PREFERRED_URL_SCHEME": "https" if https else "http",
        "HTTPS": https,
    }


def build_config(
    environ: Mapping[str, str],
    overrides: Mapping[str, Any],
    *,
    instance_path: Path,
) -> dict[str, Any]:
    """Turn the environment (plus explicit overrides) into the Flask config of the app."""
    values: dict[str, Any] = read_environment(environ)
    values.update({k: v for k, v in overrides.items() if k in values})
    mode = _mode(values, overrides)
    if mode == PRODUCTION_ENV:
        validate_production(values)
    else:
        _fill_embedded_defaults(values, mode, instance_path)
    _check_mail_ca_file(values.get("MAIL_CA_FILE"))
    public = str(values["PUBLIC_BASE_URL"]).rstrip("/")
    config: dict[str, Any] = dict(values)
    config.update(_cookie_settings(public))
    config.update(
        {
            "BRIDGE_MODE": mode,
            "PUBLIC_BASE_URL": public,
            "SQLALCHEMY_DATABASE_URI": values["DATABASE_URL"],
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
            "CRONOFY_SANDBOX": _truthy(values.get("CRONOFY_SANDBOX")),
            "CRONOFY_PREVIOUS_CLIENT_SECRETS": _split_list(
                values["CRONOFY_PREVIOUS_CLIENT_SECRETS"]
            ),
            "TOKEN_ENCRYPTION_KEYS": _split_list(values["TOKEN_ENCRYPTION_KEYS"]),
            "RATELIMIT_STORAGE_URI": values["RATELIMIT_STORAGE_URL"],
            "TRUSTED_PROXY_HOPS": _proxy_hops(values["TRUSTED_PROXY_HOPS"]),
            "RETENTION_DAYS": _retention_days(values["RETENTION_DAYS"]),
            "BOOKLY_POLL_SECONDS": _positive(
                "BOOKLY_POLL_SECONDS", values["BOOKLY_POLL_SECONDS"], "seconds"
            ),
            "RECONCILE_MINUTES": _positive(
                "RECONCILE_MINUTES", values["RECONCILE_MINUTES"], "minutes"
            ),
            "IN_PROCESS_BEAT": _truthy(values.get("IN_PROCESS_BEAT")),
            "LOG_FORMAT": _log_format(values.get("LOG_FORMAT"), mode),
            "RATELIMIT_HEADERS_ENABLED": True,
            "SANDBOX_MOUNT": True,
            "MAX_CONTENT_LENGTH": 1024 * 1024,
            "PERMANENT_SESSION_LIFETIME": 12 * 3600,
            "LOGIN_FAILURES_PER_ACCOUNT": "5 per minute",
            "LOGIN_FAILURES_PER_IP": "20 per minute",
        }
    )
    config.update({k: v for k, v in overrides.items() if k not in values})
    return config

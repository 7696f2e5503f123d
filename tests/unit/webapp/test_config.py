"""Configuration from the environment: defaults, demo mode, production refusals."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from webapp.config import ENV_VARS, ConfigError, build_config

SECRET = "s" * 40


def _production_env(**extra: str) -> dict[str, str]:
    env = {
        "SECRET_KEY": SECRET,
        "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "DATABASE_URL": "postgresql+psycopg://bridge@db/bridge",
        "CRONOFY_CLIENT_ID": "client-id",
        "CRONOFY_CLIENT_SECRET": "client-secret",
        "PUBLIC_BASE_URL": "https://bridge.example.org",
        "CELERY_BROKER_URL": "redis://redis.internal:6379/0",
        "RATELIMIT_STORAGE_URL": "redis://redis.internal:6379/1",
    }
    env.update(extra)
    return env


def test_every_variable_is_named_once() -> None:
    names = [var.name for var in ENV_VARS]
    assert len(names) == len(set(names))


@pytest.mark.parametrize(
    "missing",
    [
        "SECRET_KEY",
        "TOKEN_ENCRYPTION_KEYS",
        "DATABASE_URL",
        "CRONOFY_CLIENT_ID",
        "CRONOFY_CLIENT_SECRET",
        "CELERY_BROKER_URL",
    ],
)
def test_production_refuses_to_start_without_a_secret(missing: str, tmp_path: Path) -> None:
    env = _production_env()
    del env[missing]
    with pytest.raises(ConfigError, match=missing):
        build_config(env, {}, instance_path=tmp_path)


def test_an_empty_value_counts_as_missing(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        build_config(_production_env(SECRET_KEY="  "), {}, instance_path=tmp_path)


def test_production_refuses_a_short_secret_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="SECRET_KEY is too short"):
        build_config(_production_env(SECRET_KEY="short"), {}, instance_path=tmp_path)


def test_production_refuses_a_malformed_fernet_key(tmp_path: Path) -> None:
    env = _production_env(TOKEN_ENCRYPTION_KEYS="not-a-key")
    with pytest.raises(ConfigError, match="TOKEN_ENCRYPTION_KEYS"):
        build_config(env, {}, instance_path=tmp_path)


def test_production_with_everything_set_starts(tmp_path: Path) -> None:
    key_new, key_old = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    env = _production_env(TOKEN_ENCRYPTION_KEYS=f"{key_new}, {key_old}")
    config = build_config(env, {}, instance_path=tmp_path)
    assert config["BRIDGE_MODE"] == "production"
    assert config["TOKEN_ENCRYPTION_KEYS"] == (key_new, key_old)
    assert config["CRONOFY_SANDBOX"] is False
    assert config["BOOKLY_DATABASE_URL"] is None
    assert not (tmp_path / "demo-secrets.json").exists()


def test_production_may_use_the_sandbox_explicitly(tmp_path: Path) -> None:
    env = _production_env(CRONOFY_SANDBOX="1")
    del env["CRONOFY_CLIENT_ID"], env["CRONOFY_CLIENT_SECRET"]
    config = build_config(env, {}, instance_path=tmp_path)
    assert config["CRONOFY_SANDBOX"] is True


def test_unknown_bridge_env_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="BRIDGE_ENV"):
        build_config({"BRIDGE_ENV": "staging"}, {}, instance_path=tmp_path)


def test_demo_mode_uses_embedded_defaults(tmp_path: Path) -> None:
    config = build_config({"BRIDGE_ENV": "demo"}, {}, instance_path=tmp_path)
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'bridge.sqlite3'}"
    assert config["BOOKLY_DATABASE_URL"] == f"sqlite:///{tmp_path / 'bookly-demo.sqlite3'}"
    assert config["CRONOFY_SANDBOX"] is True
    assert config["CELERY_BROKER_URL"] is None
    assert config["MAIL_URL"] is None
    assert config["PUBLIC_BASE_URL"] == "http://127.0.0.1:5000"


def test_demo_secrets_are_generated_once_and_kept(tmp_path: Path) -> None:
    first = build_config({"BRIDGE_ENV": "demo"}, {}, instance_path=tmp_path)
    second = build_config({"BRIDGE_ENV": "demo"}, {}, instance_path=tmp_path)
    assert first["SECRET_KEY"] == second["SECRET_KEY"]
    assert first["TOKEN_ENCRYPTION_KEYS"] == second["TOKEN_ENCRYPTION_KEYS"]
    assert (tmp_path / "demo-secrets.json").stat().st_mode & 0o777 == 0o600


def test_flask_debug_alone_is_production_and_asks_for_the_secrets(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="^SECRET_KEY is not set"):
        build_config({"FLASK_DEBUG": "1"}, {}, instance_path=tmp_path)
    assert list(tmp_path.iterdir()) == []  # no generated demo secrets


@pytest.mark.parametrize(
    ("setting", "refusal"),
    [
        ({"PUBLIC_BASE_URL": "http://bridge.example.org"}, "PUBLIC_BASE_URL must be an https://"),
        ({"PUBLIC_BASE_URL": "bridge.example.org"}, "PUBLIC_BASE_URL must be an https://"),
        ({"PUBLIC_BASE_URL": "https://"}, "PUBLIC_BASE_URL must be an https://"),
        ({"CELERY_BROKER_URL": ""}, "CELERY_BROKER_URL is not set: set the Redis URL"),
        ({"RATELIMIT_STORAGE_URL": ""}, "RATELIMIT_STORAGE_URL is memory://"),
        ({"RATELIMIT_STORAGE_URL": "memory://"}, "RATELIMIT_STORAGE_URL is memory://"),
    ],
)
def test_production_refuses_unsafe_settings_in_one_line(
    setting: dict[str, str], refusal: str, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError) as refused:
        build_config(_production_env(**setting), {}, instance_path=tmp_path)
    message = str(refused.value)
    assert message.startswith(refusal)
    assert "\n" not in message
    assert "set " in message  # says what to set


def test_demo_keeps_its_plain_http_address_and_in_process_defaults(tmp_path: Path) -> None:
    config = build_config({"BRIDGE_ENV": "demo"}, {}, instance_path=tmp_path)
    assert config["PUBLIC_BASE_URL"] == "http://127.0.0.1:5000"
    assert config["RATELIMIT_STORAGE_URI"] == "memory://"
    assert config["CELERY_BROKER_URL"] is None


@pytest.mark.parametrize(("raw", "hops"), [(None, 0), ("0", 0), ("2", 2), (" 1 ", 1)])
def test_trusted_proxy_hops_default_to_none(raw: str | None, hops: int, tmp_path: Path) -> None:
    env = _production_env(**({"TRUSTED_PROXY_HOPS": raw} if raw is not None else {}))
    assert build_config(env, {}, instance_path=tmp_path)["TRUSTED_PROXY_HOPS"] == hops


@pytest.mark.parametrize("raw", ["-1", "two", "1.5"])
def test_trusted_proxy_hops_must_be_a_count(raw: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="^TRUSTED_PROXY_HOPS must be a whole number"):
        build_config(_production_env(TRUSTED_PROXY_HOPS=raw), {}, instance_path=tmp_path)


def test_bookly_polling_defaults_and_overrides(tmp_path: Path) -> None:
    config = build_config(_production_env(), {}, instance_path=tmp_path)
    assert (config["BOOKLY_POLL_SECONDS"], config["RECONCILE_MINUTES"]) == (15.0, 15.0)
    assert config["IN_PROCESS_BEAT"] is False
    env = _production_env(BOOKLY_POLL_SECONDS="2.5", RECONCILE_MINUTES="60", IN_PROCESS_BEAT="1")
    config = build_config(env, {}, instance_path=tmp_path)
    assert (config["BOOKLY_POLL_SECONDS"], config["RECONCILE_MINUTES"]) == (2.5, 60.0)
    assert config["IN_PROCESS_BEAT"] is True


@pytest.mark.parametrize("name", ["BOOKLY_POLL_SECONDS", "RECONCILE_MINUTES"])
@pytest.mark.parametrize("raw", ["0", "-5", "soon", "nan", "inf"])
def test_bookly_polling_periods_must_be_positive_numbers(
    name: str, raw: str, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match=f"^{name} must be a number of .* greater than 0$"):
        build_config(_production_env(**{name: raw}), {}, instance_path=tmp_path)


def test_testing_gets_throwaway_secrets_and_no_files(tmp_path: Path) -> None:
    config = build_config({}, {"TESTING": True}, instance_path=tmp_path)
    assert config["BRIDGE_MODE"] == "testing"
    assert len(config["SECRET_KEY"]) >= 32
    assert list(tmp_path.iterdir()) == []


def test_digit_only_values_stay_strings(tmp_path: Path) -> None:
    env = _production_env(CRONOFY_CLIENT_ID="12345")
    assert build_config(env, {}, instance_path=tmp_path)["CRONOFY_CLIENT_ID"] == "12345"


@pytest.mark.parametrize(
    ("public_url", "secure", "cookie_name"),
    [
        ("http://127.0.0.1:5000", False, "bridge_session"),
        ("https://bridge.example.org", True, "__Host-session"),
    ],
)
def test_cookie_flags_follow_the_public_url(
    public_url: str, secure: bool, cookie_name: str, tmp_path: Path
) -> None:
    env = {"BRIDGE_ENV": "demo", "PUBLIC_BASE_URL": public_url}  # production refuses http
    config = build_config(env, {}, instance_path=tmp_path)
    assert config["SESSION_COOKIE_SECURE"] is secure
    assert config["SESSION_COOKIE_NAME"] == cookie_name
    assert config["SESSION_COOKIE_HTTPONLY"] is True
    assert config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_overrides_win_over_the_environment(tmp_path: Path) -> None:
    env = _production_env()
    config = build_config(
        env,
        {"DATABASE_URL": "sqlite://", "LOGIN_FAILURES_PER_IP": "3/minute"},
        instance_path=tmp_path,
    )
    assert config["SQLALCHEMY_DATABASE_URI"] == "sqlite://"
    assert config["LOGIN_FAILURES_PER_IP"] == "3/minute"


def test_a_mail_ca_file_that_cannot_be_loaded_is_refused(tmp_path: Path) -> None:
    not_pem = tmp_path / "ca.pem"
    not_pem.write_text("not a certificate", encoding="utf-8")
    for path in (not_pem, tmp_path / "missing.pem"):
        with pytest.raises(ConfigError, match="MAIL_CA_FILE is not a readable PEM file"):
            build_config(
                {"BRIDGE_ENV": "demo", "MAIL_CA_FILE": str(path)}, {}, instance_path=tmp_path
            )

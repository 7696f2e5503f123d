"""Starting the real entry points: unsafe or missing settings stop them with one clear line.

The refusals are checked through ``flask --app wsgi`` and ``import wsgi`` in a fresh process
(what an operator runs) and through ``create_app``; a complete https production
configuration is served by gunicorn.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from cryptography.fernet import Fernet

from tests.webapp_fixtures import free_port
from webapp import create_app
from webapp.config import ENV_VARS, ConfigError

ROOT = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent
PREFIX = "Cannot start the calendar bridge: "


def _production_env(**extra: str) -> dict[str, str]:
    env = {
        "SECRET_KEY": "k" * 40,
        "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "DATABASE_URL": "postgresql+psycopg://bridge@127.0.0.1:5432/bridge",
        "CRONOFY_CLIENT_ID": "client-id",
        "CRONOFY_CLIENT_SECRET": "client-secret",
        "PUBLIC_BASE_URL": "https://bridge.example.org",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
        "RATELIMIT_STORAGE_URL": "redis://127.0.0.1:6379/1",
    }
    env.update(extra)
    return {k: v for k, v in env.items() if v}


def _process_env(env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    base = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT)}
    base["INSTANCE_PATH"] = str(tmp_path / "instance")
    return {**base, **env}


def _run(args: list[str], env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args,
        cwd=ROOT,
        env=_process_env(env, tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _import_wsgi(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return _run([sys.executable, "-c", "import wsgi"], env, tmp_path)


def _flask(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return _run([str(BIN / "flask"), "--app", "wsgi", "routes"], env, tmp_path)


def _use_environment(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    """This process's environment holds exactly ``env`` among our variables."""
    for var in ENV_VARS:
        monkeypatch.delenv(var.name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)


def _refusal(result: subprocess.CompletedProcess[str]) -> str:
    """The one line a refused start printed (the test fails on anything else)."""
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(PREFIX)
    return lines[0].removeprefix(PREFIX)


def test_production_start_without_secrets_names_the_missing_variable(tmp_path: Path) -> None:
    assert _refusal(_import_wsgi({}, tmp_path)).startswith("SECRET_KEY is not set")


def test_demo_start_needs_no_variables(tmp_path: Path) -> None:
    result = _import_wsgi({"BRIDGE_ENV": "demo"}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "instance" / "demo-secrets.json").exists()


UNSAFE = [
    pytest.param({"PUBLIC_BASE_URL": "http://bridge.example.org"}, "PUBLIC_BASE_URL", id="http"),
    pytest.param({"CELERY_BROKER_URL": ""}, "CELERY_BROKER_URL", id="no-broker"),
    pytest.param({"RATELIMIT_STORAGE_URL": "memory://"}, "RATELIMIT_STORAGE_URL", id="memory"),
    pytest.param({"RATELIMIT_STORAGE_URL": ""}, "RATELIMIT_STORAGE_URL", id="limits-default"),
]


@pytest.mark.parametrize(("setting", "variable"), UNSAFE)
def test_flask_cli_refuses_an_unsafe_production_setting(
    setting: dict[str, str], variable: str, tmp_path: Path
) -> None:
    line = _refusal(_flask(_production_env(**setting), tmp_path))
    assert line.startswith(variable)
    assert "set " in line


@pytest.mark.parametrize(("setting", "variable"), UNSAFE)
def test_create_app_refuses_an_unsafe_production_setting(
    setting: dict[str, str], variable: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _use_environment(monkeypatch, _process_env(_production_env(**setting), tmp_path))
    with pytest.raises(ConfigError, match=f"^{variable}"):
        create_app()


def test_flask_debug_alone_asks_for_the_missing_secrets(tmp_path: Path) -> None:
    line = _refusal(_flask({"FLASK_DEBUG": "1"}, tmp_path))
    assert line.startswith("SECRET_KEY is not set")
    assert not (tmp_path / "instance" / "demo-secrets.json").exists()


def test_create_app_in_production_mounts_no_sandbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _use_environment(monkeypatch, _process_env(_production_env(), tmp_path))
    app = create_app()
    assert app.config["BRIDGE_MODE"] == "production"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert "cronofy_sandbox" not in app.extensions
    assert app.test_client().get("/sandbox/cronofy/").status_code == 404


@pytest.fixture
def gunicorn(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """gunicorn serving wsgi:app with a complete https production configuration."""
    port = free_port()
    process = subprocess.Popen(
        [
            *(str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "1"),
            *("--access-logfile", str(tmp_path / "access.log"), "wsgi:app"),
        ],
        cwd=ROOT,
        env=_process_env(_production_env(), tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    yield process, f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=30)
    if process.stderr:
        process.stderr.close()


def _first_answer(process: subprocess.Popen[str], url: str) -> requests.Response:
    deadline = time.monotonic() + 30
    while True:
        assert process.poll() is None, "gunicorn exited: the configuration was refused"
        try:
            return requests.get(url, timeout=10, allow_redirects=False)
        except (requests.ConnectionError, requests.Timeout):
            assert time.monotonic() < deadline, "gunicorn did not answer within 30 s"
            time.sleep(0.2)


def test_full_https_production_configuration_is_served_by_gunicorn(
    gunicorn: tuple[subprocess.Popen[str], str],
) -> None:
    process, base_url = gunicorn
    response = _first_answer(process, f"{base_url}/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_gunicorns_own_access_log_never_shows_codes_or_webhook_tokens(
    gunicorn: tuple[subprocess.Popen[str], str], tmp_path: Path
) -> None:
    process, base_url = gunicorn
    _first_answer(process, f"{base_url}/healthz")
    requests.get(f"{base_url}/connect/callback?code=oauth-code-123&state=st-456", timeout=10)
    requests.get(f"{base_url}/webhooks/cronofy/Zk3vQ9secretPathToken123", timeout=10)
    log = ""
    deadline = time.monotonic() + 10
    while log.count("\n") < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
        log = (tmp_path / "access.log").read_text(encoding="utf-8")
    assert "GET /connect/callback?code=[redacted]&state=[redacted]" in log
    assert "GET /webhooks/cronofy/[redacted]" in log
    for secret in ("oauth-code-123", "st-456", "Zk3vQ9secretPathToken123"):
        assert secret not in log

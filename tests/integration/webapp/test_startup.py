"""Starting the real entry point without configuration stops with a clear message."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def _start(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    base = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT)}
    base["INSTANCE_PATH"] = str(tmp_path / "instance")
    return subprocess.run(
        [sys.executable, "-c", "import wsgi"],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_production_start_without_secrets_names_the_missing_variable(tmp_path: Path) -> None:
    result = _start({}, tmp_path)
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr
    assert "Traceback" not in result.stderr


def test_demo_start_needs_no_variables(tmp_path: Path) -> None:
    result = _start({"BRIDGE_ENV": "demo"}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "instance" / "demo-secrets.json").exists()

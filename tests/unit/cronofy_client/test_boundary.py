"""Only cronofy_client/ may import pycronofy or name Cronofy hosts.

Production code (every *.py outside cronofy_client/ and tests/) may do neither. tests/ is
not scanned: this folder's data-center tests name the hosts, and the sandbox's tests drive
the real pycronofy against the sandbox (and check its settings still name the real host).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
HOST = re.compile(r"(api|app)(-[a-z]{2})?\.cronofy\.com", re.IGNORECASE)
SKIP_DIRS = {".venv", ".git", "node_modules", "__pycache__", ".mypy_cache", ".ruff_cache"}
ALLOWED = (ROOT / "cronofy_client", ROOT / "tests")


def project_files(allowed: tuple[Path, ...] = ALLOWED) -> list[Path]:
    files = []
    for path in ROOT.rglob("*.py"):
        if set(path.relative_to(ROOT).parts) & SKIP_DIRS:
            continue
        if any(path.is_relative_to(folder) for folder in allowed):
            continue
        files.append(path)
    return files


def imports_pycronofy(source: str) -> bool:
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import) and any(
            a.name.split(".")[0] == "pycronofy" for a in node.names
        ):
            return True
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "pycronofy":
            return True
    return 'import_module("pycronofy' in source or '__import__("pycronofy' in source


def test_the_scan_sees_the_project() -> None:
    files = project_files()
    assert ROOT / "webapp" / "config.py" in files
    assert all(".venv" not in f.parts and "tests" not in f.parts for f in files)
    assert all("cronofy_client" not in f.parts for f in files)


def test_nothing_outside_cronofy_client_imports_pycronofy() -> None:
    offenders = [
        str(p.relative_to(ROOT))
        for p in project_files()
        if imports_pycronofy(p.read_text(encoding="utf-8", errors="replace"))
    ]
    assert offenders == []


def test_nothing_outside_cronofy_client_names_a_cronofy_host() -> None:
    offenders = [
        str(p.relative_to(ROOT))
        for p in project_files()
        if HOST.search(p.read_text(encoding="utf-8", errors="replace"))
    ]
    assert offenders == []


def test_the_checks_catch_offences() -> None:
    assert imports_pycronofy("import pycronofy\n")
    assert imports_pycronofy("from pycronofy.client import Client\n")
    assert not imports_pycronofy("import cronofy_client\n")
    for host in ("https://api.cronofy.com/v1", "app-uk.cronofy.com", "API-SG.cronofy.com"):
        assert HOST.search(host)
    assert not HOST.search("https://docs.cronofy.com/developers/")

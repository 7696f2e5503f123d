"""Every outbound call of the product has a timeout (reliability requirement 20, static half).

The source of every product package is read as Python syntax: an HTTP call through
``requests`` or a session, an SMTP connection or a Redis client written without its timeout
fails this test, naming the file and line. The runtime half (each attempt's timeout is the
configured one, shortened to a call's deadline) is in tests/unit/cronofy_client.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ["webapp", "cronofy_client", "bookly_client", "cronofy_sandbox", "bench"]
HTTP_VERBS = {"get", "post", "put", "patch", "delete", "head", "options", "request"}
# Calls whose keyword arguments come from a mapping built elsewhere, with the reason it holds.
KWARGS_CHECKED_ELSEWHERE = {
    # Transport always sets "timeout" and narrows it to a call's deadline (proved at run time
    # by test_transport.py::test_every_request_carries_the_configured_timeout).
    ("cronofy_client/transport.py", "self.session.request"),
}
# pycronofy's request handler is ours (sdk.ResilientRequestHandler): it sends through Transport.
THROUGH_TRANSPORT = {"sdk.request_handler"}


def _product_files() -> list[Path]:
    files = [ROOT / "wsgi.py"]
    for package in PRODUCT:
        files.extend(sorted((ROOT / package).rglob("*.py")))
    return files


def _is_http_client(receiver: str) -> bool:
    """``requests`` itself or a requests session (SQLAlchemy's ``db.session`` is no HTTP)."""
    name = receiver.rsplit(".", 1)[-1].lower()
    return receiver == "requests" or (name.endswith("session") and receiver != "db.session")


def _session_names(tree: ast.AST) -> set[str]:
    """Names bound to ``requests.Session()`` in a file (``with ... as http``, ``s = ...``)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.withitem) and isinstance(node.optional_vars, ast.Name):
            if ast.unparse(node.context_expr) == "requests.Session()":
                names.add(node.optional_vars.id)
        elif isinstance(node, ast.Assign) and ast.unparse(node.value) == "requests.Session()":
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


def _untimed_calls(source: str, relative: str) -> list[str]:
    tree = ast.parse(source, filename=relative)
    sessions = _session_names(tree)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = ast.unparse(node.func)
        keywords = {k.arg for k in node.keywords}
        spread = None in keywords  # **kwargs
        needs = None
        if isinstance(node.func, ast.Attribute) and node.func.attr in HTTP_VERBS:
            receiver = ast.unparse(node.func.value)
            if receiver in THROUGH_TRANSPORT:
                continue
            if receiver not in sessions and not _is_http_client(receiver):
                continue
            needs = "timeout"
        elif func in {"smtplib.SMTP", "smtplib.SMTP_SSL", "SMTP", "SMTP_SSL"}:
            needs = "timeout"
        elif func in {"redis.Redis", "redis.Redis.from_url", "Redis.from_url", "redis.from_url"}:
            needs = "socket_timeout"
        if needs is None or needs in keywords:
            continue
        if spread and (relative, func) in KWARGS_CHECKED_ELSEWHERE:
            continue
        found.append(f"{relative}:{node.lineno}: {func}(...) without {needs}=")
    return found


@pytest.mark.requirement(20)
def test_every_outbound_call_in_the_product_has_a_timeout() -> None:
    files = _product_files()
    assert len(files) > 50  # the packages were found
    untimed = [
        line
        for path in files
        for line in _untimed_calls(
            path.read_text(encoding="utf-8"), path.relative_to(ROOT).as_posix()
        )
    ]
    assert untimed == []


@pytest.mark.requirement(20)
def test_the_check_finds_a_call_without_a_timeout() -> None:
    sample = (
        "import requests, smtplib, redis\n"
        "requests.post('https://example.org', json={})\n"
        "http = requests.Session()\n"
        "http.get('https://example.org', timeout=5)\n"
        "http.put('https://example.org')\n"
        "smtplib.SMTP('mail.example.org', 25)\n"
        "redis.Redis.from_url('redis://x', socket_timeout=1)\n"
        "db.session.get(User, 1)\n"
    )
    assert _untimed_calls(sample, "webapp/sample.py") == [
        "webapp/sample.py:2: requests.post(...) without timeout=",
        "webapp/sample.py:5: http.put(...) without timeout=",
        "webapp/sample.py:6: smtplib.SMTP(...) without timeout=",
    ]

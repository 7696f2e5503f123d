"""No package but bookly_client issues SQL against Bookly's tables or imports pymysql."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
# The 29 tables of Bookly 27.4 (shared/bookly/schema-notes.md); word boundaries keep our own
# column names such as ``bookly_staff_id`` out of it.
BOOKLY_TABLES = (
    "appointments", "auths", "categories", "customer_appointments", "customers",
    "form_sessions", "holidays", "log", "mailing_campaigns", "mailing_list_recipients",
    "mailing_lists", "mailing_queue", "news", "notifications", "notifications_queue", "orders",
    "payments", "schedule_item_breaks", "sent_notifications", "series", "services", "sessions",
    "shop", "sms_log", "staff", "staff_schedule_items", "staff_services", "stats", "sub_services",
)  # fmt: skip
TABLE_NAME = re.compile(r"(?<![A-Za-z0-9])bookly_(" + "|".join(BOOKLY_TABLES) + r")\b")


def python_files() -> list[Path]:
    skip = {"bookly_client", "tests", ".venv", "node_modules", ".git", "migrations"}
    return [
        path for path in ROOT.rglob("*.py") if not skip.intersection(path.relative_to(ROOT).parts)
    ]


def offences(path: Path) -> list[str]:
    found = []
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
            if any(n.split(".")[0] in ("pymysql", "MySQLdb") for n in names):
                found.append(f"{path}:{node.lineno} imports a MySQL driver")
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
            if TABLE_NAME.search(text):
                found.append(f"{path}:{node.lineno} mentions a Bookly table: {text[:60]!r}")
    return found


def test_only_bookly_client_touches_bookly_tables() -> None:
    problems = [problem for path in python_files() for problem in offences(path)]
    assert problems == []


def test_the_check_catches_offenders(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import pymysql\nQ = 'SELECT * FROM wp_bookly_appointments'\nT = '{prefix}bookly_staff'\n"
    )
    assert len(offences(bad)) == 3
    good = tmp_path / "good.py"
    good.write_text(
        "from bookly_client import BooklyGateway\n"
        "label = 'Bookly staff id'\ncolumn = 'bookly_staff_id'\ndoc = 'read from bookly_client'\n"
    )
    assert offences(good) == []

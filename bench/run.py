"""Foundation benchmarks: token encryption, password hashing, login round trips.

Run with ``make bench``; writes bench/results/foundation.md (numbers depend on the machine).
"""

from __future__ import annotations

import os
import platform
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from cryptography.fernet import Fernet

from webapp import create_app
from webapp.extensions import db
from webapp.models import Role
from webapp.security import TokenCipher, hash_password, verify_password
from webapp.services import accounts

RESULTS = Path(__file__).parent / "results" / "foundation.md"
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def per_call(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median and p95 seconds per call over ``repeat`` timed calls."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def bench_tokens() -> list[str]:
    """Fernet encrypt, decrypt, and decrypt with the old key second (after a key change)."""
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    cipher, rotated = TokenCipher([old]), TokenCipher([new, old])
    token = "a" * 64
    blob = cipher.encrypt(token)
    rows = []
    for name, fn in (
        ("encrypt (1 key)", lambda: cipher.encrypt(token)),
        ("decrypt (1 key)", lambda: cipher.decrypt(blob)),
        ("decrypt, old key second", lambda: rotated.decrypt(blob)),
        ("rotate to the new key", lambda: rotated.rotate(blob)),
    ):
        median, p95 = per_call(fn, 20_000)
        rows.append(f"| {name} | {median * 1e6:.1f} µs | {p95 * 1e6:.1f} µs |")
    return rows


def bench_passwords() -> list[str]:
    """scrypt hash and verify (the floor of every login)."""
    stored = hash_password("correct horse battery")
    rows = []
    for name, fn in (
        ("hash_password (scrypt)", lambda: hash_password("correct horse battery")),
        ("verify_password", lambda: verify_password(stored, "correct horse battery")),
    ):
        median, p95 = per_call(fn, 30)
        rows.append(f"| {name} | {median * 1e3:.1f} ms | {p95 * 1e3:.1f} ms |")
    return rows


def bench_logins(folder: Path) -> list[str]:
    """GET /login + POST /login + GET / through the WSGI stack, SQLite, one thread."""
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite3'}",
            "INSTANCE_PATH": str(folder),
            "SANDBOX_MOUNT": False,
            "RATELIMIT_ENABLED": False,
        }
    )
    with app.app_context():
        db.create_all()
        org = accounts.get_or_create_organisation("Bench")
        accounts.create_user(
            email="bench@school.test",
            password="bench-password",
            role=Role.INSTRUCTOR,
            organisation=org,
        )

    def login_round_trip() -> None:
        client = app.test_client()
        match = _CSRF.search(client.get("/login").get_data(as_text=True))
        assert match
        form = {"email": "bench@school.test", "password": "bench-password", "csrf_token": match[1]}
        assert client.post("/login", data=form).status_code == 302
        assert client.get("/").status_code == 200

    median, p95 = per_call(login_round_trip, 50)
    health = app.test_client()
    h_median, h_p95 = per_call(lambda: health.get("/healthz"), 2_000)
    with app.app_context():
        db.engine.dispose()
    return [
        f"| login round trip (3 requests) | {median * 1e3:.1f} ms | {p95 * 1e3:.1f} ms |"
        f" {1 / median:.0f} logins/s per core |",
        f"| GET /healthz | {h_median * 1e6:.0f} µs | {h_p95 * 1e6:.0f} µs |"
        f" {1 / h_median:.0f} req/s per core |",
    ]


def main() -> None:
    """Run every benchmark and write the results file."""
    with tempfile.TemporaryDirectory() as folder:
        logins = bench_logins(Path(folder))
    lines = [
        "# Foundation benchmarks",
        "",
        f"Recorded {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, "
        f"{os.cpu_count()} CPU(s), Python {platform.python_version()} (`make bench`).",
        "",
        "## Token encryption (MultiFernet, 64-character token)",
        "",
        "| operation | median | p95 |",
        "|---|---|---|",
        *bench_tokens(),
        "",
        "## Passwords (werkzeug scrypt defaults)",
        "",
        "| operation | median | p95 |",
        "|---|---|---|",
        *bench_passwords(),
        "",
        "## Requests (Flask test client, SQLite, in-process, one thread)",
        "",
        "| operation | median | p95 | throughput |",
        "|---|---|---|---|",
        *logins,
        "",
    ]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()

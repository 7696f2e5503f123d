"""webhooks benchmark: signed push acknowledgements beside a bare /healthz, under gunicorn.

Run with ``python -m bench.run webhooks``; writes bench/results/webhooks.md.

The app runs as in production: gunicorn with 2 workers, PostgreSQL (a throwaway database),
Celery's broker and the shared rate-limit counters on Redis (database 13, emptied after),
and Cronofy and Bookly unreachable (nothing in an acknowledgement may wait for either).
50 instructors are connected, so the per-channel push limit is not what is measured. A
bounded load generator (16 client threads, one keep-alive session each) alternates, ROUNDS
times, SLICE seconds of /healthz with SLICE seconds of signed, distinct change notifications
round-robin over the 50 channels; both are reported side by side, from the same run
(alternating keeps a shared machine's changing load from favouring one kind).

Targets (issue 15): acknowledgement throughput >= 0.7 x /healthz, p99 < 250 ms.
"""

from __future__ import annotations

import itertools
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import redis
import requests
from cryptography.fernet import Fernet

from bench.bookings import postgres_database
from bench.measure import machine_line, write_results
from cronofy_client import HMAC_HEADER, sign_body

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
REDIS_URL = "redis://127.0.0.1:6379/13"
CHANNELS = 50
THREADS = 16
ROUNDS = 4
SLICE = 3.0
CLIENT_SECRET = "CRN_bench_" + secrets.token_urlsafe(24)


@dataclass(frozen=True)
class Run:
    """What one kind of request did under the load generator."""

    name: str
    answers: int
    errors: int
    seconds: float
    latencies: list[float]

    @property
    def per_second(self) -> float:
        return self.answers / self.seconds

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def production_env(database_url: str, multiproc_dir: str) -> dict[str, str]:
    """Production settings; Cronofy and Bookly point at ports nobody serves."""
    return {
        **{k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")},
        "BRIDGE_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "DATABASE_URL": database_url,
        "CRONOFY_CLIENT_ID": "bench-client",
        "CRONOFY_CLIENT_SECRET": CLIENT_SECRET,
        "CRONOFY_API_BASE_URL": "http://127.0.0.1:9",
        "BOOKLY_DATABASE_URL": "mysql+pymysql://root@127.0.0.1:9/wordpress",
        "PUBLIC_BASE_URL": "https://bridge.bench.invalid",
        "CELERY_BROKER_URL": REDIS_URL,
        "RATELIMIT_STORAGE_URL": REDIS_URL,
        "PROMETHEUS_MULTIPROC_DIR": multiproc_dir,
        "LOG_LEVEL": "WARNING",
    }


def seed(env: dict[str, str]) -> list[tuple[str, str]]:
    """Schema, one organisation and CHANNELS connected instructors; their (path, channel)."""
    subprocess.run([str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"],  # noqa: S603 - ours
                   cwd=ROOT, env=env, check=True, capture_output=True)  # fmt: skip
    script = f"""
import json, secrets
from webapp import create_app
from webapp.extensions import db
from webapp.models import AccessMode, CalendarConnection, ConnectMethod, Organisation, Role, User
from webapp.security import token_digest
app = create_app()
out = []
with app.app_context():
    org = Organisation(name="Bench school", slug="bench")
    db.session.add(org)
    db.session.flush()
    for n in range({CHANNELS}):
        user = User(organisation_id=org.id, email=f"i{{n}}@bench.invalid", role=Role.INSTRUCTOR)
        db.session.add(user)
        db.session.flush()
        token = secrets.token_urlsafe(32)
        db.session.add(CalendarConnection(
            user_id=user.id, cronofy_sub=f"acc_bench_{{n}}", data_center="us",
            method=ConnectMethod.INDIVIDUAL, access_mode=AccessMode.READ_WRITE,
            channel_id=f"chn_bench_{{n}}", channel_token_hash=token_digest(token)))
        out.append(["/webhooks/cronofy/" + token, f"chn_bench_{{n}}"])
    db.session.commit()
print(json.dumps(out))
"""
    command = [sys.executable, "-c", script]
    done = subprocess.run(command, cwd=ROOT, env=env, check=True,  # noqa: S603 - our script
                          capture_output=True, text=True)  # fmt: skip
    return [(path, channel) for path, channel in json.loads(done.stdout.strip().splitlines()[-1])]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def gunicorn(env: dict[str, str]) -> Iterator[str]:
    """gunicorn wsgi:app with 2 workers on loopback; stopped afterwards."""
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - our venv's gunicorn, fixed arguments
        [str(BIN / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}", "--log-level", "warning",
         "wsgi:app"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if requests.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.1)
        else:
            raise RuntimeError("gunicorn did not start")
        yield base
    finally:
        process.terminate()
        process.wait(20)


def load(
    name: str, make: Callable[[requests.Session, int], requests.Response], numbers: Iterator[int]
) -> Run:
    """THREADS threads, each sending one request after another, for SLICE seconds; request
    ``n`` comes from ``numbers`` (shared across slices, so bodies stay distinct)."""
    lock = threading.Lock()
    latencies: list[float] = []
    errors = [0]
    stop_at = time.monotonic() + SLICE

    def worker() -> None:
        with requests.Session() as http:
            while time.monotonic() < stop_at:
                with lock:
                    n = next(numbers)
                started = time.perf_counter()
                answer = make(http, n)
                took = time.perf_counter() - started
                with lock:
                    latencies.append(took)
                    if answer.status_code >= 400:
                        errors[0] += 1

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Run(name, len(latencies), errors[0], time.monotonic() - started, latencies)


def merged(runs: list[Run]) -> Run:
    """The slices of one kind as one run."""
    return Run(
        runs[0].name,
        sum(run.answers for run in runs),
        sum(run.errors for run in runs),
        sum(run.seconds for run in runs),
        [latency for run in runs for latency in run.latencies],
    )


def _since(n: int) -> str:
    """A distinct, well-formed changes_since per notification (distinct signed bodies)."""
    moment = datetime(2026, 12, 1, tzinfo=UTC) + timedelta(seconds=n)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def main() -> None:
    """Measure and write bench/results/webhooks.md."""
    load_before = os.getloadavg()[0]
    broker = redis.Redis.from_url(REDIS_URL, socket_timeout=5, socket_connect_timeout=5)
    broker.flushdb()  # this benchmark's database: count only the messages this run queues
    with postgres_database() as database_url, tempfile.TemporaryDirectory() as multiproc:
        env = production_env(database_url, multiproc)
        channels = seed(env)
        with gunicorn(env) as base:

            def healthz(http: requests.Session, n: int) -> requests.Response:
                return http.get(f"{base}/healthz", timeout=10)

            def push(http: requests.Session, n: int) -> requests.Response:
                path, channel = channels[n % len(channels)]
                body = json.dumps({
                    "notification": {"type": "change", "changes_since": _since(n)},
                    "channel": {"channel_id": channel, "callback_url": "https://x/y",
                                "filters": {}},
                }).encode()  # fmt: skip
                headers = {HMAC_HEADER: sign_body(body, CLIENT_SECRET),
                           "Content-Type": "application/json"}  # fmt: skip
                return http.post(base + path, data=body, headers=headers, timeout=10)

            health_runs: list[Run] = []
            ack_runs: list[Run] = []
            numbers = itertools.count()
            for _ in range(ROUNDS):
                health_runs.append(load("GET /healthz", healthz, numbers))
                ack_runs.append(load("POST signed change (202)", push, numbers))
        # Sync messages queued (no worker runs here).
        published = int(cast("int", broker.llen("celery")))
        broker.flushdb()
    health, acks = merged(health_runs), merged(ack_runs)
    slices = [a.per_second / h.per_second for h, a in zip(health_runs, ack_runs, strict=True)]
    ratio = acks.per_second / health.per_second
    lines = [
        "# webhooks benchmark",
        "",
        machine_line(),
        f"Load average before the run: {load_before:.1f} on {os.cpu_count()} cores "
        f"(shared machine); after: {os.getloadavg()[0]:.1f}.",
        "",
        f"gunicorn, 2 workers, PostgreSQL, broker and counters on Redis, Cronofy and Bookly "
        f"unreachable; {THREADS} client threads, {ROUNDS} rounds of {SLICE:.0f} s of each kind "
        f"in turn, on the same machine.",
        "",
        "| request | answers | errors | per second | p50 | p99 |",
        "|---|---|---|---|---|---|",
    ]
    for run in (health, acks):
        lines.append(
            f"| {run.name} | {run.answers} | {run.errors} | {run.per_second:.0f} | "
            f"{run.percentile(0.50) * 1e3:.1f} ms | {run.percentile(0.99) * 1e3:.1f} ms |"
        )
    p99 = acks.percentile(0.99) * 1e3
    lines += [
        "",
        f"Acknowledgements per second / /healthz per second: **{ratio:.2f}** (target >= 0.70: "
        f"{'met' if ratio >= 0.7 else 'NOT met'}); ack p99 {p99:.0f} ms (target < 250 ms: "
        f"{'met' if p99 < 250 else 'NOT met'}).",
        "",
        f"Per round: {', '.join(f'{r:.2f}' for r in slices)}. Calendar syncs queued during the "
        f"{acks.answers} acknowledgements: {published} (a burst queues one run per channel).",
        "",
        "## How to read",
        "",
        "- Each acknowledgement counts the channel against its limit (one Redis call),",
        "  verifies the HMAC, inserts the inbox row from the live connection that the URL token",
        "  and the signed channel id both name, in one statement that is its own transaction",
        "  (durable when it returns), and asks Redis whether a sync of that connection is already",
        "  queued (SET NX): only the first change of a burst publishes a Celery message (the",
        "  count above). The sync itself is the worker's (not running here).",
        "- The load generator runs on the same 2 cores as gunicorn and PostgreSQL: it takes",
        "  CPU from both kinds alike, so compare the ratio, not the absolute numbers; the",
        "  rounds alternate so that a shared machine's changing load hits both kinds.",
        "- In process (WSGI calls, minimum of 7 batches of 300, PostgreSQL and Redis on this",
        "  machine): an acknowledgement costs about 1.0 ms of CPU against 0.23 ms for /healthz;",
        "  the inbox statement about 0.4 ms (the pool's ping and the insert: two PostgreSQL",
        "  round trips), the limit and the queued-sync check about 0.12 ms each (a Redis round",
        "  trip), verifying and reading the body about 0.08 ms.",
        "- Before this version an acknowledgement took about 6.4 ms (five PostgreSQL round",
        "  trips: channel lookup, insert, connection stamp, commit, reload; four Redis ones: the",
        "  limit in Redis plus two reads for X-RateLimit headers, and a Celery message per",
        "  notification), and runs gave 0.16-0.31 of /healthz; runs of this version on the",
        "  same machine give 0.46-0.64 (the machine is shared: compare within one run).",
        "- Why 0.7 is not reached: what is left is the durable insert and the one check after",
        "  it that a sync will read the change. An acknowledgement that only verifies and",
        "  inserts (the limit, the queued-sync check and the pool's ping all left out: an",
        "  experiment, not a design) gave 0.61 and 0.66 in two 4-round runs, beside 0.48 and",
        "  0.46 for this version in the same minutes: on this machine even the bare durable",
        "  insert stays under 0.7. Reaching it would mean acknowledging before the row is",
        "  durable, which the reliability reference forbids.",
    ]
    write_results("webhooks", lines)

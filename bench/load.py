"""load benchmark: a realistic mix against the production shape for 60 s.

Run with ``python -m bench.run load``; writes bench/results/load.md.

gunicorn (3 workers) on loopback, PostgreSQL (a throwaway database), Redis (database 13, for
Celery, the rate-limit counters and the availability cache; emptied afterwards), Bookly on
MariaDB (the demo school in the project's Bookly layout), the Cronofy sandbox served on
loopback with the three demo instructors connected to it, and a ``celery worker`` (prefork, 2
children) delivering bookings and syncing calendars. A bounded load generator (THREADS
threads, one keep-alive session each, one request after another) sends for DURATION s:

* THREADS - 2 threads: 2/3 availability views (``GET /api/v1/availability``, one
  instructor, 7 days, spread over 16 API keys so that no key's 600 a minute is reached),
  1/3 public booking page views (``GET /book/<id>``);
* one thread: signed change notifications to the instructors' push URLs (distinct bodies;
  each queues a calendar sync on the worker), WEBHOOKS_PER_S;
* one thread: bookings (``POST /api/v1/bookings`` on starts offered before the run; 409 when
  taken), at most BOOKINGS_PER_S, since each asks Cronofy live and one Cronofy client may make
  500 calls a minute.

The sandbox's request log gives the Cronofy calls the run made per minute.

Recorded per kind: answers, answers/s, p50, p99, 4xx and 5xx; the peak resident memory of each
gunicorn and celery process (sampled every 0.5 s from /proc). Targets (issue 16): no 5xx, web
worker RSS <= 150 MB.
"""

from __future__ import annotations

import itertools
import json
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import redis
import requests
from cryptography.fernet import Fernet

from bench.bookings import postgres_database
from bench.bookly_site import mariadb_database, open_site
from bench.measure import machine_line, write_results
from bench.served_sandbox import CLIENT_ID, CLIENT_SECRET, served_sandbox
from bench.webhooks import free_port
from cronofy_client import HMAC_HEADER, sign_body

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
REDIS_URL = "redis://127.0.0.1:6379/13"
PUBLIC = "https://bridge.bench.invalid"
THREADS = 8
DURATION = float(os.environ.get("LOAD_SECONDS", "60"))
WEB_WORKERS = 3
MIX = ["availability"] * 2 + ["page"]
# Bookings come from one thread, BOOKINGS_PER_S at most: each one asks Cronofy live, and one
# Cronofy client may make 500 calls a minute in all (availability misses and syncs count too);
# beyond that the bridge rightly answers 503 "try again" rather than book unchecked.
BOOKINGS_PER_S = 0.5
# Calendar changes come from one thread too: Cronofy notifies per change, and even a busy
# school's instructors change their calendars a few times a minute each, not per second.
WEBHOOKS_PER_S = 1.0
PEOPLE = ("ada@demo.test", "grace@demo.test", "alan@demo.test")


def production_env(
    database_url: str, bookly_url: str, sandbox_url: str, multiproc: str
) -> dict[str, str]:
    """Production settings aimed at the loopback services."""
    return {
        **{k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")},
        "BRIDGE_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "DATABASE_URL": database_url,
        "CRONOFY_CLIENT_ID": CLIENT_ID,
        "CRONOFY_CLIENT_SECRET": CLIENT_SECRET,
        "CRONOFY_API_BASE_URL": sandbox_url,
        "CRONOFY_APP_BASE_URL": sandbox_url,
        "BOOKLY_DATABASE_URL": bookly_url,
        "PUBLIC_BASE_URL": PUBLIC,
        "CELERY_BROKER_URL": REDIS_URL,
        "RATELIMIT_STORAGE_URL": REDIS_URL,
        "PROMETHEUS_MULTIPROC_DIR": multiproc,
        "LOG_LEVEL": "WARNING",
    }


SEED = """
import json, sys
from urllib.parse import parse_qs, urlsplit
import requests
from flask_migrate import upgrade
from bench.served_sandbox import REDIRECT_URI, SCOPE
from cronofy_client import AccessMode, Provider
from cronofy_sandbox.testing import click_through_consent
from webapp import create_app
from webapp.clients import get_clients
from webapp.extensions import db
from webapp.models import ConnectMethod, Role
from webapp.services import accounts, api_keys, connections
wanted = json.loads(sys.argv[1])
app = create_app()
out = {"people": [], "channels": []}
with app.app_context():
    upgrade(directory="migrations")
    org = accounts.get_or_create_organisation("Load school")
    admin = accounts.create_user(email="admin@load-school.example", password="x" * 16,
                                 role=Role.ADMIN, organisation=org, name="Admin")
    staff = {s.email: s.id for s in get_clients().bookly.list_staff()}
    cronofy = get_clients().cronofy
    for email in wanted["people"]:
        url = cronofy.individual_connect_url(redirect_uri=REDIRECT_URI, state="load",
            scope=SCOPE, access_mode=AccessMode.READ_WRITE, provider_name=Provider.GOOGLE)
        with requests.Session() as browser:
            code = parse_qs(urlsplit(click_through_consent(browser, url, person=email)).query)
        grant = cronofy.exchange_code(code["code"][0], redirect_uri=REDIRECT_URI)
        user = accounts.create_user(email=email, password="x" * 16, role=Role.INSTRUCTOR,
                                    organisation=org, name=email.split("@")[0].title())
        user.bookly_staff_id = staff[email]
        db.session.commit()
        connections.store_grant(cronofy, user=user, grant=grant,
                                method=ConnectMethod.INDIVIDUAL, data_center="us",
                                webhook_base_url=wanted["public"])
        out["people"].append(user.id)
        out["channels"] += [[c.callback_url.split("/", 3)[3], c.channel_id, c.callback_url]
                            for c in cronofy.list_channels(grant.access_token)]
    # Several clients of the API (a website, an app, ...), each under its own key's limit.
    out["keys"] = [api_keys.create_key(admin=admin, name=f"client {n}").key for n in range(16)]
print(json.dumps(out))
"""


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class RssSampler:
    """Peak RSS per process of some process trees, sampled every 0.5 s."""

    def __init__(self, roots: dict[str, int]) -> None:
        self.roots = roots
        self.peak: dict[str, float] = defaultdict(float)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            for name, root in self.roots.items():
                self.peak[f"{name} (main)"] = max(self.peak[f"{name} (main)"], _rss_mb(root))
                for child in _children(root):
                    key = f"{name} (child)"
                    self.peak[key] = max(self.peak[key], _rss_mb(child))


@contextmanager
def process(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603
        try:
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()


def _wait_healthy(base: str) -> None:
    for _ in range(300):
        try:
            if requests.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError("gunicorn did not start")


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] if ordered else 0.0


def main() -> None:
    """Measure and write bench/results/load.md."""
    broker = redis.Redis.from_url(REDIS_URL, socket_timeout=5, socket_connect_timeout=5)
    broker.flushdb()
    with served_sandbox() as box, mariadb_database() as bookly_url, \
            postgres_database() as our_url, tempfile.TemporaryDirectory() as tmp:  # fmt: skip
        gateway = open_site(bookly_url)
        env = production_env(our_url, bookly_url, box.base_url, tmp)
        wanted = json.dumps({"people": PEOPLE, "public": PUBLIC})
        done = subprocess.run([sys.executable, "-c", SEED, wanted], cwd=ROOT, env=env,  # noqa: S603
                              capture_output=True, text=True, check=False)  # fmt: skip
        if done.returncode:
            raise RuntimeError(f"seeding failed:\n{done.stderr[-3000:]}")
        seeded = json.loads(done.stdout.strip().splitlines()[-1])
        keys, people, channels = seeded["keys"], seeded["people"], seeded["channels"]
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        web_args = [str(BIN / "gunicorn"), "-w", str(WEB_WORKERS), "-b", f"127.0.0.1:{port}",
                    "--log-level", "warning", "wsgi:app"]  # fmt: skip
        worker_args = [str(BIN / "celery"), "-A", "webapp.worker", "worker", "-c", "2",
                       "--loglevel", "WARNING", "--without-gossip", "--without-mingle"]  # fmt: skip
        with process(web_args, env, Path(tmp) / "web.log") as web, \
                process(worker_args, env, Path(tmp) / "worker.log") as worker:  # fmt: skip
            _wait_healthy(base)
            auths = [{"Authorization": f"Bearer {key}"} for key in keys]
            plans = _plans(base, auths[0], people)
            box.control.clear_requests()
            with RssSampler({"gunicorn": web.pid, "celery worker": worker.pid}) as rss:
                results = _drive(base, auths, people, channels, plans)
            made = [r["path"] for r in box.control.requests() if r["path"].startswith("/v1/")]
            calls = Counter("/v1/calendars/…/events" if "/events" in p else p for p in made)
        for name in ("web.log", "worker.log"):  # what the server said about its refusals
            said = (Path(tmp) / name).read_text(errors="replace").splitlines()
            for line in [x for x in said if "WARNING" in x or "ERROR" in x][-5:]:
                print(f"{name}: {line[:300]}")
        gateway.engine.dispose()
    broker.flushdb()
    _write(results, rss.peak, calls)


def _plans(base: str, auth: dict[str, str], people: list[int]) -> dict[str, Any]:
    """Each instructor's first service and the starts offered over the next weeks."""
    services: dict[int, int] = {}
    starts: list[tuple[int, int, str]] = []
    begin = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    for person in people:
        query = {"instructor": person}
        services_url = f"{base}/api/v1/services"
        listed = requests.get(services_url, timeout=30, params=query, headers=auth).json()
        listed = listed["services"]
        services[person] = listed[0]["id"]
        for week in range(2, 6):
            window = {"service": services[person], "instructor": person, "tz": "UTC",
                      "from": (begin + timedelta(days=7 * week)).isoformat(),
                      "to": (begin + timedelta(days=7 * week + 7)).isoformat()}  # fmt: skip
            slots_url = f"{base}/api/v1/availability"
            answer = requests.get(slots_url, timeout=30, params=window, headers=auth).json()
            starts += [(person, services[person], s["start"]) for s in answer.get("slots", [])]
    return {"services": services, "starts": starts, "begin": begin}


def _drive(base: str, auths: list[dict[str, str]], people: list[int], channels: list[Any],
           plans: dict[str, Any]) -> dict[str, dict[str, Any]]:  # fmt: skip
    lock = threading.Lock()
    counter = itertools.count()
    found: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"lat": [], "4xx": 0, "5xx": 0, "statuses": Counter()}
    )
    secret = CLIENT_SECRET
    stop_at = time.monotonic() + DURATION
    starts = plans["starts"]
    samples: dict[str, str] = {}

    def request(http: requests.Session, kind: str, n: int) -> requests.Response:
        person = people[n % len(people)]
        auth = auths[n % len(auths)]
        if kind == "availability":
            first = plans["begin"] + timedelta(days=7 * (1 + n % 2))  # this week and next
            window = {
                "service": plans["services"][person], "instructor": person,
                "tz": "Europe/Berlin", "from": first.isoformat(),
                "to": (first + timedelta(days=7)).isoformat(),
            }  # fmt: skip
            return http.get(f"{base}/api/v1/availability", headers=auth, timeout=60,
                            params=window)  # fmt: skip
        if kind == "page":
            return http.get(f"{base}/book/{person}?tz=Europe/Berlin", timeout=60)
        if kind == "webhook":
            since = (datetime(2026, 12, 1, tzinfo=UTC) + timedelta(seconds=n)).isoformat()
            path, channel_id, callback = channels[n % len(channels)]
            body = json.dumps({
                "notification": {"type": "change", "changes_since": since},
                "channel": {"channel_id": channel_id, "callback_url": callback, "filters": {}},
            }).encode()  # fmt: skip
            return http.post(f"{base}/{path}", data=body, timeout=60,
                             headers={HMAC_HEADER: sign_body(body, secret)})  # fmt: skip
        who, service, start = starts[n % len(starts)]
        return http.post(f"{base}/api/v1/bookings", timeout=60, json={
            "service": service, "instructor": who, "start": start,
            "customer": {"name": "Load Customer", "email": f"c{n}@load-customers.example"},
        }, headers={**auth, "Idempotency-Key": str(uuid.uuid4())})  # fmt: skip

    paced = {0: ("booking", BOOKINGS_PER_S), 1: ("webhook", WEBHOOKS_PER_S)}

    def loop(index: int) -> None:
        with requests.Session() as http:
            while time.monotonic() < stop_at:
                n = next(counter)
                kind = paced[index][0] if index in paced else MIX[n % len(MIX)]
                if index in paced:
                    time.sleep(1 / paced[index][1])
                began = time.perf_counter()
                try:
                    answer = request(http, kind, n)
                    status = answer.status_code
                except requests.RequestException:
                    answer, status = None, 599
                if status >= 400 and status != 409 and answer is not None and kind not in samples:
                    samples[kind] = f"{status} {answer.text[:300]}"
                took = time.perf_counter() - began
                with lock:
                    row = found[kind]
                    row["lat"].append(took)
                    row["statuses"][status] += 1
                    if 400 <= status < 500 and status != 409:
                        row["4xx"] += 1
                    elif status >= 500:
                        row["5xx"] += 1

    began = time.monotonic()
    threads = [threading.Thread(target=loop, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.monotonic() - began
    for row in found.values():
        row["seconds"] = seconds
    for kind, sample in samples.items():
        print(f"first refused {kind}: {sample}")
    return dict(found)


def _write(results: dict[str, dict[str, Any]], peak: dict[str, float], calls: Counter[str]) -> None:
    ms = 1000
    rows = []
    for kind in ("availability", "webhook", "page", "booking"):
        row = results.get(kind, {"lat": [], "4xx": 0, "5xx": 0, "seconds": DURATION})
        lat = row["lat"]
        rows.append(
            f"| {kind} | {len(lat)} | {len(lat) / row['seconds']:.1f} | "
            f"{_percentile(lat, 0.5) * ms:.0f} ms | {_percentile(lat, 0.99) * ms:.0f} ms | "
            f"{row['4xx']} | {row['5xx']} |"
        )
    total = sum(len(r["lat"]) for r in results.values())
    errors = sum(r["5xx"] for r in results.values())
    lines = [
        "# load benchmark",
        "",
        machine_line(),
        "",
        f"gunicorn ({WEB_WORKERS} workers) + PostgreSQL + Redis + a celery worker (2 children) +",
        "MariaDB Bookly (demo school) + the served Cronofy sandbox with 3 connected instructors,",
        f"on loopback; {THREADS} client threads for {DURATION:.0f} s (one request after another",
        "per thread). 409 on a booking (the start was taken meanwhile) is an expected answer.",
        "",
        "| kind | answers | per s | p50 | p99 | 4xx | 5xx |",
        "|---|---|---|---|---|---|---|",
        *rows,
        "",
        "Answers by status: "
        + "; ".join(
            f"{k}: {dict(sorted(r['statuses'].items()))}" for k, r in sorted(results.items())
        )
        + ".",
        "",
        f"All kinds: {total} answers, {errors} server errors ({errors / max(total, 1):.2%}).",
        f"Cronofy API calls during the run: {calls.total()} "
        f"({calls.total() * 60 / DURATION:.0f} a minute; Cronofy allows 500 a minute per "
        "client): " + ", ".join(f"{path} {n}" for path, n in calls.most_common()) + ".",
        "",
        "| process | peak RSS |",
        "|---|---|",
        *(f"| {name} | {mb:.0f} MB |" for name, mb in sorted(peak.items())),
        "",
        "How to read: targets are zero 5xx and a web worker (gunicorn child) RSS <= 150 MB.",
        "The ceiling is Cronofy's budget of 500 calls a minute per client, not our processes:",
        "each booking asks Cronofy live, each calendar sync reads free/busy (and managed events",
        "of read-write calendars), and each sync or booking makes that instructor's cached",
        "availability views ask Cronofy again. Past the budget the bridge answers bookings 503",
        '"try again" (never books unchecked) and availability from the schedule with a',
        "notice; a run with 2 bookings/s and 3 calendar changes/s did exactly that.",
        "The sandbox and the load generator run in the benchmark's own process on the same",
        "2 cores, so the answers per second are a floor for this machine, not a capacity.",
    ]
    write_results("load", lines)


if __name__ == "__main__":
    main()

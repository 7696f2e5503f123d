"""cronofy_client benchmarks: webhook HMAC checks, rate limiter, one API call, event paging.

Run with ``python -m bench.run cronofy_client``; writes bench/results/cronofy_client.md.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from functools import partial

import requests

from bench.measure import Timing, machine_line, per_call_batched, write_results
from bench.served_sandbox import CLIENT_SECRET, ServedSandbox, served_sandbox
from cronofy_client import RateLimiter, WebhookVerifier, sign_body

EVENTS = 1_000
PAGE_SIZE = 250
FIRST_EVENT = datetime(2031, 3, 3, 0, 0, tzinfo=UTC)
API_CALLS = 400


def bench_webhooks() -> list[str]:
    """WebhookVerifier.verify per call: 1 or 2 header digests, 200 B or 4 KiB body."""
    rotated = "CRN_previous_secret"
    one_key, two_keys = WebhookVerifier([CLIENT_SECRET]), WebhookVerifier([CLIENT_SECRET, rotated])
    rows = []
    key = CLIENT_SECRET.encode()
    for size in (200, 4096):
        body = os.urandom(size)
        single = sign_body(body, CLIENT_SECRET)

        def floor(b: bytes = body, sent: bytes = single.encode()) -> bool:
            digest = base64.b64encode(hmac.new(key, b, hashlib.sha256).digest())
            return hmac.compare_digest(digest, sent)

        timing = per_call_batched(floor, 40_000)
        rows.append(f"| {size:,} B | floor: one hmac.new + b64 + compare_digest | {timing.us()} |")
        double = f"{sign_body(body, rotated)}, {single}"  # the matching digest second
        cases = (
            ("1 secret, 1 header value", one_key, single),
            ("2 secrets, 2 header values", two_keys, double),
            ("2 secrets, 2 values, no match", two_keys, f"{single[:-4]}AAA=, {single[:-4]}BBB="),
        )
        for label, verifier, header in cases:
            assert verifier.verify(body, header) is (not label.endswith("no match"))
            with _quiet(logging.getLogger("cronofy_client.webhooks")):
                timing = per_call_batched(partial(verifier.verify, body, header), 40_000)
            rows.append(f"| {size:,} B | {label} | {timing.us()} |")
    return rows


@contextmanager
def _quiet(logger: logging.Logger) -> Iterator[None]:
    """Drop a logger's records while timing (a rejection logs one INFO line per call)."""
    disabled = logger.disabled
    logger.disabled = True
    try:
        yield
    finally:
        logger.disabled = disabled


def bench_rate_limiter() -> list[str]:
    """RateLimiter.acquire when it never has to wait (Cronofy's windows and a single one)."""
    rows = []
    for label, windows in (
        ("1 window (1,000,000/s)", ((1_000_000, 1.0),)),
        ("2 windows (1,000,000/s, 10,000,000/min)", ((1_000_000, 1.0), (10_000_000, 60.0))),
    ):
        limiter = RateLimiter(windows)
        timing = per_call_batched(limiter.acquire, 100_000)
        assert limiter.acquire() == 0.0
        rows.append(f"| {label} | {timing.us()} |")
    return rows


def bench_api_call(sandbox: ServedSandbox) -> tuple[list[str], float]:
    """client.userinfo / client.calendars vs a bare requests.Session GET of the same URL."""
    token = sandbox.connect("ada@demo.test").access_token
    headers = {"Authorization": f"Bearer {token}"}
    rows, ratio = [], 0.0
    with requests.Session() as bare:
        for path, ours in (
            ("userinfo", lambda: sandbox.client.userinfo(token)),
            ("calendars", lambda: sandbox.client.calendars(token)),
        ):
            url = f"{sandbox.base_url}/v1/{path}"

            def plain(u: str = url) -> object:
                response = bare.get(u, headers=headers, timeout=10)
                response.raise_for_status()
                return response.json()

            ours(), plain()  # warm both connection pools
            mine, base = _interleaved(ours, plain, API_CALLS)
            ratio = max(ratio, mine.median / base.median)
            extra = (mine.median - base.median) * 1e6
            rows.append(f"| GET /v1/{path} | CronofyClient | {mine.ms()} | "
                        f"{mine.median / base.median:.2f}× ({extra:+.0f} µs) |")  # fmt: skip
            rows.append(f"| GET /v1/{path} | bare requests.Session + .json() | {base.ms()} | 1× |")
    return rows, ratio


def _interleaved(
    first: Callable[[], object], second: Callable[[], object], repeat: int
) -> tuple[Timing, Timing]:
    """Time two calls alternately, so drift on the shared machine hits both equally."""
    samples: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeat):
        for fn, into in ((first, samples[0]), (second, samples[1])):
            start = time.perf_counter()
            fn()
            into.append(time.perf_counter() - start)
    return Timing.of(samples[0]), Timing.of(samples[1])


def bench_paging(sandbox: ServedSandbox) -> list[str]:
    """client.read_events over 1,000 events (4 pages of 250), parsed into Event objects."""
    grant = sandbox.connect("grace@demo.test")
    calendar_id = sandbox.control.calendar_id("grace@demo.test")
    events = [
        {
            "summary": f"Bench {i}",
            "start": FIRST_EVENT + timedelta(minutes=30 * i),
            "end": FIRST_EVENT + timedelta(minutes=30 * i + 20),
        }
        for i in range(EVENTS)
    ]
    sandbox.control.add_events(calendar_id, events, notify=False)

    def read_all() -> int:
        events = sandbox.client.read_events(
            grant.access_token, from_date=date(2031, 3, 1), to_date=date(2031, 4, 15)
        )
        return sum(1 for _ in events)

    url = f"{sandbox.base_url}/v1/events"
    params = {"from": "2031-03-01", "to": "2031-04-15", "tzid": "Etc/UTC"}
    headers = {"Authorization": f"Bearer {grant.access_token}"}
    with requests.Session() as bare:

        def read_bare() -> int:
            page = bare.get(url, params=params, headers=headers, timeout=10).json()
            count = len(page["events"])
            while "next_page" in page["pages"]:
                page = bare.get(page["pages"]["next_page"], headers=headers, timeout=10).json()
                count += len(page["events"])
            return count

        assert read_all() == read_bare() == EVENTS
        ours, base = _interleaved(read_all, read_bare, 12)
    label = f"{EVENTS:,} events ({EVENTS // PAGE_SIZE} pages of {PAGE_SIZE})"
    return [
        f"| client.read_events, {label} | {ours.ms()} | {EVENTS / ours.median:,.0f} events/s |"
        f" {ours.median / base.median:.2f}× |",
        f"| bare requests.Session + .json(), following next_page | {base.ms()} |"
        f" {EVENTS / base.median:,.0f} events/s | 1× |",
    ]


HOW_TO_READ = [
    "## How to read",
    "",
    "- HMAC rows are the cost of `WebhookVerifier.verify` on the raw body (header split, base64",
    "  digests, every pair compared in constant time); the floor row is the bare stdlib work for",
    "  one digest, measured in the same run. The reliability reference measured ~2 µs for a",
    "  164 B body with a 2-value header (§7.3, idle machine); compare our rows with the floor",
    "  row, not with that number. 2 secrets means two HMACs, so about twice the 1-secret cost.",
    "  Either way it is noise next to any HTTP request. A rejection also logs one INFO line;",
    "  that logging is switched off while timing, so the rows show the check alone.",
    "- The rate limiter rows are pure overhead (a lock and a deque append); it never waits here.",
    "- The API-call rows are measured in the same run, interleaved, against the same sandbox",
    "  served on loopback by werkzeug's threaded server. The bare row is the floor (HTTP +",
    "  server + JSON decode); the ratio is what our wrapper adds: retry policy, rate limiter,",
    "  a per-call pycronofy client, error mapping and parsing into frozen dataclasses. Compare",
    "  ratios, not absolute milliseconds: the machine is shared and has 2 cores, and the",
    "  sandbox's own work (SQLite lookups, Flask) is most of each millisecond.",
    "- Paging: four sequential requests plus parsing 1,000 events into `Event` objects, next to",
    "  the same four requests made bare. The sandbox recomputes the whole query for every page,",
    "  so most of the time is the server's; real Cronofy adds network latency per page.",
]


def main() -> None:
    """Run the cronofy_client benchmarks and write bench/results/cronofy_client.md."""
    webhooks, limiter = bench_webhooks(), bench_rate_limiter()
    with served_sandbox() as sandbox:
        api_rows, ratio = bench_api_call(sandbox)
        paging = bench_paging(sandbox)
    write_results(
        "cronofy_client",
        [
            "# cronofy_client benchmarks",
            "",
            machine_line(),
            "",
            "## Webhook HMAC verification (`Cronofy-HMAC-SHA256`), per call",
            "",
            "| body | case | median | p95 |",
            "|---|---|---|---|",
            *webhooks,
            "",
            "## RateLimiter.acquire when not limiting, per call",
            "",
            "| windows | median | p95 |",
            "|---|---|---|",
            *limiter,
            "",
            f"## One API call against the sandbox on loopback ({API_CALLS} calls each)",
            "",
            "| request | through | median | p95 | ratio to bare |",
            "|---|---|---|---|---|",
            *api_rows,
            "",
            f"Wrapper overhead, worst ratio in this run: {ratio:.2f}× a bare GET.",
            "",
            "## Paging through read_events",
            "",
            "| operation | median | p95 | throughput | ratio to bare |",
            "|---|---|---|---|---|",
            *paging,
            "",
            *HOW_TO_READ,
        ],
    )


if __name__ == "__main__":
    main()

"""cronofy_sandbox benchmarks: POST /v1/availability for 1, 5 and 20 busy members.

Run with ``python -m bench.run cronofy_sandbox``; writes bench/results/cronofy_sandbox.md.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from bench.measure import Timing, machine_line, per_call, write_results
from bench.served_sandbox import CLIENT_SECRET, ServedSandbox, served_sandbox
from cronofy_sandbox.timefmt import format_time

MEMBER_COUNTS = (1, 5, 20)
EVENTS_PER_MEMBER = 200
DAYS = 14
FIRST_DAY = datetime(2031, 6, 2, tzinfo=UTC)  # a Monday, far from the demo seed
REPEAT = {1: 30, 5: 20, 20: 10}


def busy_events(rng: random.Random) -> list[dict[str, Any]]:
    """~200 events of 15-90 minutes spread over the 14 days, 07:00-19:00 UTC."""
    events = []
    for i in range(EVENTS_PER_MEMBER):
        day = FIRST_DAY + timedelta(days=i % DAYS)
        start = day + timedelta(hours=7, minutes=15 * rng.randrange(48))
        end = start + timedelta(minutes=15 * rng.randint(1, 6))
        events.append({"summary": f"Busy {i}", "start": start, "end": end})
    return events


def add_members(sandbox: ServedSandbox, numbers: range, rng: random.Random) -> list[str]:
    """Seed people ``member<n>``, connect each (profiles must be linked), fill their calendars."""
    subs: list[str] = []
    for n in numbers:
        email = f"member{n}@bench.test"
        sandbox.control.add_person(email, f"Member {n}")
        grant = sandbox.connect(email)
        assert grant.sub
        subs.append(grant.sub)
        calendar_id = sandbox.control.calendar_id(email)
        sandbox.control.add_events(calendar_id, busy_events(rng), notify=False)
    return subs


def query(subs: list[str], required: str | int) -> dict[str, Any]:
    """60-minute periods, one 08:00-18:00 query period per day (14), one group of members."""
    periods = [
        {
            "start": format_time(FIRST_DAY + timedelta(days=d, hours=8)),
            "end": format_time(FIRST_DAY + timedelta(days=d, hours=18)),
        }
        for d in range(DAYS)
    ]
    return {
        "participants": [{"members": [{"sub": s} for s in subs], "required": required}],
        "required_duration": {"minutes": 60},
        "query_periods": periods,
    }


def bench_availability(sandbox: ServedSandbox) -> list[str]:
    """Time POST /v1/availability (API key) for each member count."""
    rng = random.Random(20311)
    subs: list[str] = []
    rows = []
    headers = {"Authorization": f"Bearer {CLIENT_SECRET}"}
    with requests.Session() as http:
        for count in MEMBER_COUNTS:
            subs += add_members(sandbox, range(len(subs), count), rng)
            for required in ("all", 1):
                body = query(subs, required)

                def post(b: dict[str, Any] = body) -> int:
                    url = f"{sandbox.base_url}/v1/availability"
                    response = http.post(url, json=b, headers=headers, timeout=30)
                    response.raise_for_status()
                    return len(response.json()["available_periods"])

                found = post()
                timing: Timing = per_call(post, REPEAT[count])
                rows.append(f"| {count} | {required} | {count * EVENTS_PER_MEMBER:,} |"
                            f" {timing.ms()} | {found} |")  # fmt: skip
    return rows


HOW_TO_READ = [
    "## How to read",
    "",
    "Each row is one `POST /v1/availability` with the API key through the sandbox served on",
    "loopback (werkzeug threaded server, in-memory SQLite). Members have ~200 random busy",
    "events (15-90 min, 07:00-19:00 UTC) over the 14 days; the query asks for 60-minute",
    "periods, one 08:00-18:00 query period per day, with every member required (`all`) or any",
    "one (`1`). With ~14 busy events a day each, almost no hour is free for everybody, hence",
    "few periods found for `all`; `1` returns many. The machine is shared (2 cores).",
    "",
    "Where the time goes (cProfile, 20 members, in-process, not part of the run): about half",
    "is loading each member's busy events (every stored event of the calendar, converted row by",
    "row, not only the 14-day window) and half the solver, whose `valid_starts` subtracts busy",
    "intervals per free period. The reliability reference's sort-merge-sweep anchor is 0.28 ms",
    "per 1k intervals (§7.3), so the solver could be several times faster; at about a tenth",
    "of a second for 20 busy people it is already fast enough for tests and demos.",
]


def main() -> None:
    """Run the sandbox benchmarks and write bench/results/cronofy_sandbox.md."""
    with served_sandbox() as sandbox:
        rows = bench_availability(sandbox)
    write_results(
        "cronofy_sandbox",
        [
            "# cronofy_sandbox benchmarks",
            "",
            machine_line(),
            "",
            f"## POST /v1/availability over {DAYS} days",
            "",
            "| members | required | busy events | median | p95 | periods found |",
            "|---|---|---|---|---|---|",
            *rows,
            "",
            *HOW_TO_READ,
        ],
    )


if __name__ == "__main__":
    main()

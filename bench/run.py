"""Run benchmark groups: ``python -m bench.run`` runs all, ``python -m bench.run NAME...`` some.

Each group writes ``bench/results/<name>.md`` (numbers depend on the machine; the file says
which). ``make bench`` runs every group.
"""

from __future__ import annotations

import argparse
import importlib
import time

# Group name -> module with a ``main()`` that writes bench/results/<name>.md.
GROUPS: dict[str, str] = {
    "foundation": "bench.foundation",
    "cronofy_client": "bench.cronofy_client_bench",
    "cronofy_sandbox": "bench.cronofy_sandbox_bench",
    "bookly_client": "bench.bookly_client_bench",
    "availability": "bench.availability",
    "bookings": "bench.bookings",
    "webhooks": "bench.webhooks",
    "sync": "bench.sync",
    "load": "bench.load",
}


def main(argv: list[str] | None = None) -> None:
    """Run the named groups (default: all, in the order above)."""
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument(
        "groups", nargs="*", metavar="GROUP", help=f"any of: {', '.join(GROUPS)} (default: all)"
    )
    names = parser.parse_args(argv).groups or list(GROUPS)
    unknown = [name for name in names if name not in GROUPS]
    if unknown:
        parser.error(f"unknown group(s): {', '.join(unknown)}; choose from {', '.join(GROUPS)}")
    for name in names:
        start = time.perf_counter()
        print(f"== bench group {name} ==", flush=True)
        importlib.import_module(GROUPS[name]).main()
        print(f"== {name} done in {time.perf_counter() - start:.1f} s ==", flush=True)


if __name__ == "__main__":
    main()

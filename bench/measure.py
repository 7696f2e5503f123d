"""Timing and reporting shared by every benchmark group (samples, percentiles, results files)."""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

RESULTS_DIR = Path(__file__).parent / "results"


@dataclass(frozen=True)
class Timing:
    """Median and p95 of timed samples, in seconds."""

    median: float
    p95: float
    samples: int

    @classmethod
    def of(cls, samples: Sequence[float]) -> Timing:
        """Summarise raw samples (seconds)."""
        ordered = sorted(samples)
        p95_index = max(0, int(len(ordered) * 0.95) - 1)
        return cls(statistics.median(ordered), ordered[p95_index], len(ordered))

    def us(self) -> str:
        """``| median | p95 |`` cells in microseconds."""
        return f"{self.median * 1e6:.1f} µs | {self.p95 * 1e6:.1f} µs"

    def ms(self) -> str:
        """``| median | p95 |`` cells in milliseconds."""
        return f"{self.median * 1e3:.2f} ms | {self.p95 * 1e3:.2f} ms"


def per_call(fn: Callable[[], object], repeat: int) -> Timing:
    """Time ``repeat`` separate calls of ``fn``."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return Timing.of(samples)


def per_call_batched(fn: Callable[[], object], calls: int, batches: int = 20) -> Timing:
    """Per-call seconds for very cheap calls: time ``batches`` loops of ``calls // batches``."""
    size = max(1, calls // batches)
    samples = []
    for _ in range(batches):
        start = time.perf_counter()
        for _ in range(size):
            fn()
        samples.append((time.perf_counter() - start) / size)
    return Timing.of(samples)


def machine_line() -> str:
    """When and where the numbers were recorded."""
    return (
        f"Recorded {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, "
        f"{os.cpu_count()} CPU(s), Python {platform.python_version()} (`make bench`)."
    )


def write_results(name: str, lines: Sequence[str]) -> Path:
    """Write ``bench/results/<name>.md`` (and echo it); return its path."""
    path = RESULTS_DIR / f"{name}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "\n".join(lines).rstrip("\n") + "\n"
    path.write_text(text, encoding="utf-8")
    print(text)
    return path

"""The periodic tasks in a thread of the web process, for the embedded default (``make run``).

Production runs ``celery beat`` against Redis. The embedded default has no broker (tasks run
eagerly), so without this nothing would read Bookly's log, retry a failed delivery or sweep
the calendar syncs. One daemon thread runs the same schedule as beat (``beat_schedule``),
each task in its own app context, one after another; a failing task is logged and tried
again at its next period. It is switched on by ``IN_PROCESS_BEAT=1`` (``make run`` sets it)
and refused with a broker, where two schedulers would run everything twice.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from flask import Flask

from webapp.extensions import beat_schedule

log = logging.getLogger(__name__)

TICK_SECONDS = 1.0


class InProcessBeat:
    """Runs each scheduled task when its period has passed, until ``stop``."""

    def __init__(self, app: Flask, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._app = app
        self._clock = clock
        schedule = beat_schedule(app.config)
        self._periods = {
            entry["task"]: float(entry["schedule"].total_seconds()) for entry in schedule.values()
        }
        start = clock()
        self._due = dict.fromkeys(self._periods, start)  # every task runs once at start-up
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="in-process-beat", daemon=True)

    def start(self) -> InProcessBeat:
        """Start the thread (returns self)."""
        self._thread.start()
        log.info("periodic tasks run in this process (%d tasks)", len(self._periods))
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the thread to finish after the task it is running, and wait for it."""
        self._stopped.set()
        self._thread.join(timeout)

    def run_due(self) -> list[str]:
        """Run every task whose time has come (in this thread); the names run."""
        now = self._clock()
        ran = []
        for name, due in sorted(self._due.items(), key=lambda item: item[1]):
            if due > now or self._stopped.is_set():
                continue
            self._due[name] = now + self._periods[name]
            self._run(name)
            ran.append(name)
        return ran

    def _run(self, name: str) -> None:
        with self._app.app_context():
            task = self._app.extensions["celery"].tasks[name]
            try:
                task.apply(throw=True)
            except Exception:  # the next period tries again; the outbox keeps the work
                log.exception("periodic task %s failed; it runs again at its next period", name)

    def _loop(self) -> None:
        while not self._stopped.wait(TICK_SECONDS):
            self.run_due()


def start_if_configured(app: Flask) -> InProcessBeat | None:
    """Start the thread when ``IN_PROCESS_BEAT`` is on and tasks run eagerly."""
    if not app.config.get("IN_PROCESS_BEAT"):
        return None
    if app.config.get("CELERY_BROKER_URL"):
        log.warning("IN_PROCESS_BEAT ignored: with a broker, run celery beat instead")
        return None
    beat = InProcessBeat(app).start()
    app.extensions["in_process_beat"] = beat
    return beat

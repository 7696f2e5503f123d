"""close() ends delivery: nothing is posted after it returns, pending work is dropped."""

from __future__ import annotations

import threading
import time

import requests

from cronofy_sandbox.config import SandboxConfig
from cronofy_sandbox.delivery import Callback, Deliverer
from cronofy_sandbox.store import Store


class FailingReceiver(requests.Session):
    """Answers every POST with a 500 (so the deliverer wants to retry); records the URLs."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.first = threading.Event()

    def post(self, url, data=None, **kwargs):  # type: ignore[no-untyped-def, override]
        self.urls.append(url)
        self.first.set()
        response = requests.Response()
        response.status_code = 500
        return response


def _callback(n: int) -> Callback:
    return Callback("change", f"http://receiver.invalid/push/{n}", {"n": n}, f"chn_{n}")


def test_close_drops_pending_retries_and_queued_callbacks_and_stops_the_thread() -> None:
    receiver = FailingReceiver()
    store = Store(":memory:")
    # A long backoff: without close() the retries of the first callback would go on for minutes.
    config = SandboxConfig(seed_demo=False, delivery_attempts=4, delivery_backoff=60)
    deliverer = Deliverer(config, store, receiver)
    threads_before = set(threading.enumerate())
    ids = [deliverer.send(_callback(n)) for n in (1, 2, 3)]
    assert receiver.first.wait(5)

    started = time.monotonic()
    deliverer.close()
    assert time.monotonic() - started < 5  # the backoff wait is cut short
    late = deliverer.send(_callback(4))
    time.sleep(0.2)

    assert receiver.urls == ["http://receiver.invalid/push/1"]  # one attempt, nothing after
    assert set(threading.enumerate()) <= threads_before  # its delivery thread has ended
    outcomes = {
        row["id"]: (row["outcome"], row["attempts"])
        for row in store.query("SELECT id, outcome, attempts FROM deliveries")
    }
    assert outcomes == {
        ids[0]: ("failed", 1),
        ids[1]: ("failed", 0),
        ids[2]: ("failed", 0),
        late: ("failed", 0),
    }

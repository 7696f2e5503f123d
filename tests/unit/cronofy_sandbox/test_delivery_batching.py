"""Change notifications batch per channel while one waits; nothing is ever lost."""

from __future__ import annotations

import json
import threading
import time

import requests

from cronofy_sandbox.config import SandboxConfig
from cronofy_sandbox.delivery import Callback, Deliverer
from cronofy_sandbox.store import Store


class HeldReceiver(requests.Session):
    """Records every POST; each one waits until `release` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.bodies: list[dict[str, object]] = []

    def post(self, url, data=None, **kwargs):  # type: ignore[no-untyped-def, override]
        self.bodies.append(json.loads(data))
        self.release.wait(5)
        response = requests.Response()
        response.status_code = 200
        return response


def _change(n: int, key: str | None = "change:chn_1") -> Callback:
    return Callback("change", "http://receiver.invalid/push", {"n": n}, "chn_1", batch_key=key)


def _deliverer(receiver: HeldReceiver) -> Deliverer:
    config = SandboxConfig(seed_demo=False, delivery_attempts=1, delivery_backoff=0)
    return Deliverer(config, Store(":memory:"), receiver)


def _wait_for_posts(receiver: HeldReceiver, count: int) -> None:
    deadline = time.monotonic() + 5
    while len(receiver.bodies) < count and time.monotonic() < deadline:
        time.sleep(0.005)


def test_changes_queued_behind_one_in_flight_become_one_notification() -> None:
    receiver = HeldReceiver()
    deliverer = _deliverer(receiver)
    first = deliverer.send(_change(1))
    _wait_for_posts(receiver, 1)  # the first is being posted: it cannot absorb later changes
    later = [deliverer.send(_change(n)) for n in (2, 3, 4)]
    receiver.release.set()
    assert deliverer.wait_idle(5)
    assert [body["n"] for body in receiver.bodies] == [1, 2]
    assert later == [later[0]] * 3
    assert later[0] != first
    deliverer.close()


def test_other_channels_and_unbatched_callbacks_are_never_merged() -> None:
    receiver = HeldReceiver()
    deliverer = _deliverer(receiver)
    deliverer.send(_change(1))
    _wait_for_posts(receiver, 1)
    deliverer.send(_change(2, "change:chn_2"))
    deliverer.send(_change(3, None))
    deliverer.send(_change(4, None))
    receiver.release.set()
    assert deliverer.wait_idle(5)
    assert [body["n"] for body in receiver.bodies] == [1, 2, 3, 4]
    deliverer.close()


def test_a_change_after_the_batch_is_sent_gets_its_own_notification() -> None:
    receiver = HeldReceiver()
    receiver.release.set()
    deliverer = _deliverer(receiver)
    deliverer.send(_change(1))
    assert deliverer.wait_idle(5)
    deliverer.send(_change(2))
    assert deliverer.wait_idle(5)
    assert [body["n"] for body in receiver.bodies] == [1, 2]
    deliverer.close()

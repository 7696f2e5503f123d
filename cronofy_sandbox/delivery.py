"""Outbound callbacks (push notifications, Enterprise Connect, Smart Invites) with retries."""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

import requests

from cronofy_sandbox.config import SandboxConfig
from cronofy_sandbox.signing import signature_header
from cronofy_sandbox.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Callback:
    """One signed POST to make."""

    kind: str
    url: str
    payload: Mapping[str, object]
    channel_id: str | None = None
    # Callbacks with the same key batch: while one waits in the queue, later ones are
    # covered by it (a change notification's changes_since is the earliest change's time).
    batch_key: str | None = None


class Deliverer:
    """Sends callbacks on a background thread (or inline), retrying with a short backoff.

    Posts go through ``session`` (a ``requests.Session`` of the caller's, or one of our own).
    ``close`` stops the thread: callbacks not yet attempted, and retries still due, are
    recorded as ``failed`` instead of sent, so nothing is posted after it returns.
    """

    def __init__(
        self, config: SandboxConfig, store: Store, session: requests.Session | None = None
    ) -> None:
        self._config = config
        self._store = store
        self._session = session or requests.Session()
        self._owns_session = session is None
        self._queue: queue.Queue[tuple[int, Callback] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._batch_lock = threading.Lock()
        self._waiting: dict[str, int] = {}  # batch key -> delivery id still in the queue

    def send(self, callback: Callback) -> int:
        """Record and schedule a callback (or join a waiting batch); return its delivery id."""
        with self._batch_lock:
            waiting = self._waiting.get(callback.batch_key or "")
            if waiting is not None:
                return waiting
            delivery_id = self._store.execute(
                "INSERT INTO deliveries (kind, url, channel_id) VALUES (?, ?, ?)",
                (callback.kind, callback.url, callback.channel_id),
            )
            queued = self._config.deliver_async and not self._closed.is_set()
            if queued and callback.batch_key:
                self._waiting[callback.batch_key] = delivery_id
        if self._closed.is_set():
            self._record(delivery_id, 0, None, "failed")
        elif queued:
            self._ensure_worker()
            self._queue.put((delivery_id, callback))
        else:
            self._deliver(delivery_id, callback)
        return delivery_id

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until every queued callback has been attempted; False on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._queue.unfinished_tasks == 0:
                return True
            time.sleep(0.01)
        return False

    def close(self, timeout: float = 10.0) -> None:
        """Stop delivering: drain the queue without sending, end the thread, free the session."""
        self._closed.set()
        with self._lock:
            thread = self._thread
            if thread is not None and thread.is_alive():
                self._queue.put(None)
        if thread is not None:
            thread.join(timeout)
        if self._owns_session:
            self._session.close()

    def _ensure_worker(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="cronofy-sandbox-delivery", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                self._leave_batch(*item)
                if self._closed.is_set():
                    self._record(item[0], 0, None, "failed")
                else:
                    self._deliver(*item)
            except Exception:
                log.exception("callback delivery crashed")
            finally:
                self._queue.task_done()

    def _leave_batch(self, delivery_id: int, callback: Callback) -> None:
        """Once a callback is being sent, later ones start a new batch (never lost)."""
        with self._batch_lock:
            if callback.batch_key and self._waiting.get(callback.batch_key) == delivery_id:
                del self._waiting[callback.batch_key]

    def _deliver(self, delivery_id: int, callback: Callback) -> None:
        body = json.dumps(callback.payload, separators=(",", ":")).encode("utf-8")
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Cronofy-HMAC-SHA256": signature_header(body, self._config.client_secrets),
            "User-Agent": "Cronofy-Sandbox",
        }
        status: int | None = None
        attempts = 0
        while attempts < self._config.delivery_attempts:
            attempts += 1
            status = self._post(callback.url, body, headers)
            self._record(delivery_id, attempts, status, "pending")
            if status is not None and 200 <= status < 300:
                self._record(delivery_id, attempts, status, "delivered")
                return
            if self._closed.wait(self._config.delivery_backoff * (2 ** (attempts - 1))):
                break  # closed: no more retries
        log.info("gave up on %s callback %s", callback.kind, delivery_id)
        self._record(delivery_id, attempts, status, "failed")

    def _post(self, url: str, body: bytes, headers: dict[str, str]) -> int | None:
        timeout = self._config.delivery_timeout
        try:
            resp = self._session.post(url, data=body, headers=headers, timeout=timeout)
        except requests.RequestException as exc:
            log.info("callback POST failed: %s", type(exc).__name__)
            return None
        return resp.status_code

    def _record(self, delivery_id: int, attempts: int, status: int | None, outcome: str) -> None:
        self._store.execute(
            "UPDATE deliveries SET attempts = ?, status = ?, outcome = ? WHERE id = ?",
            (attempts, status, outcome, delivery_id),
        )

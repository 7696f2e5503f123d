"""The production shape with real processes, for tests and benchmarks: our app (PostgreSQL,
Redis broker) served on a loopback port with the Cronofy sandbox mounted in it, Bookly on
MariaDB in the layout real Bookly creates (reached through a TCP relay a test can cut), and
``celery worker`` and ``celery beat`` as subprocesses started the way the README says
(``celery -A webapp.worker ...``), sharing the app's settings through the environment.

The app runs in the embedded mode only for its generated secrets and mounted sandbox; with
``CELERY_BROKER_URL`` set, a request only queues work, exactly as in production, and the
worker subprocess does it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from bookly_client import BooklyGateway
from cronofy_sandbox.testing import SandboxControl
from tests.bookly_fixtures import BooklyDb, make_bookly_db
from tests.integration.connect.conftest import consent, local_path, start_connect
from tests.webapp_fixtures import log_in

ROOT = Path(__file__).resolve().parents[1]
CELERY = Path(sys.executable).with_name("celery")
BROKER_DB = 12  # a Redis database of its own, emptied before and after
PASSWORD = "demo-instructor"
ADA = "ada@demo.test"


class _Deferred:
    """A WSGI app filled in once the server knows its port (PUBLIC_BASE_URL needs it)."""

    def __init__(self) -> None:
        self.app: Any = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self.app(environ, start_response)


@dataclass
class Process:
    """A subprocess with its output in a file (read it when a test fails)."""

    name: str
    args: list[str]
    env: dict[str, str]
    log: Path
    popen: subprocess.Popen[bytes] | None = None

    def start(self) -> Process:
        handle = self.log.open("ab")
        self.popen = subprocess.Popen(  # noqa: S603 - our own entry points
            self.args, cwd=ROOT, env=self.env, stdout=handle, stderr=subprocess.STDOUT
        )
        handle.close()
        return self

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def kill(self) -> None:
        """SIGKILL: no clean-up, no acks (what a crash or the OOM killer does)."""
        if self.popen is not None and self.popen.poll() is None:
            self.popen.send_signal(signal.SIGKILL)
            self.popen.wait(timeout=10)

    def stop(self) -> None:
        if self.popen is None or self.popen.poll() is not None:
            return
        self.popen.terminate()
        try:
            self.popen.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(timeout=10)


class TcpProxy:
    """A loopback TCP relay to a server, which a test can cut and restore (a network outage:
    open connections drop, new ones are refused, nothing is told to either side)."""

    def __init__(self, host: str, port: int) -> None:
        self._target = (host, port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self.down = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self.down:
                client.close()
                continue
            try:
                upstream = socket.create_connection(self._target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._open.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)
                end.close()
            with self._lock:
                self._open.difference_update((source, sink))

    def cut(self) -> None:
        """Drop every open connection and refuse new ones."""
        self.down = True
        with self._lock:
            for end in list(self._open):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)
                end.close()
            self._open.clear()

    def restore(self) -> None:
        self.down = False

    def close(self) -> None:
        self.cut()
        self._listener.close()


@dataclass
class Stack:
    """Everything a test of the running system needs."""

    base_url: str
    app: Flask
    bookly: BooklyDb
    gateway: BooklyGateway  # direct to MariaDB (the test's own view of Bookly)
    bookly_link: TcpProxy  # what the app and its worker reach Bookly through
    redis_link: TcpProxy  # ... and Redis (the broker)
    control: SandboxControl
    env: dict[str, str]
    tmp: Path
    processes: dict[str, Process] = field(default_factory=dict)

    def client(self) -> FlaskClient:
        return self.app.test_client()

    def start_worker(self) -> Process:
        """A worker as the README starts it (prefork, 2 children), ready to consume."""
        log = self.tmp / "worker.log"
        start = len(log.read_text(encoding="utf-8", errors="replace")) if log.exists() else 0
        worker = Process("worker", [
            str(CELERY), "-A", "webapp.worker", "worker", "--loglevel", "INFO",
            "--concurrency", "2", "--without-gossip", "--without-mingle", "--hostname",
            f"bridge-test-{os.getpid()}@%h",
        ], self.env, log).start()  # fmt: skip
        self.processes["worker"] = worker
        wait_until(lambda: " ready." in worker.output()[start:], 60, worker)
        return worker

    def start_beat(self) -> Process:
        beat = Process("beat", [
            str(CELERY), "-A", "webapp.worker", "beat", "--loglevel", "INFO",
            "--schedule", str(self.tmp / "beat-schedule"),
        ], self.env, self.tmp / "beat.log").start()  # fmt: skip
        self.processes["beat"] = beat
        return beat

    def connect(self, access_mode: str = "read_write") -> None:
        """Ada connects her sandbox calendar through the real OAuth round trip."""
        client = self.client()
        assert log_in(client, ADA, PASSWORD).status_code == 302
        provider = "google" if access_mode != "no_calendar" else "cronofy"
        url = start_connect(client, access_mode, provider)
        response = client.get(local_path(consent(url, person=ADA)))
        assert response.status_code in (302, 303), response.get_data(as_text=True)


def wait_until(check: Any, timeout: float, *processes: Process) -> Any:
    """Poll ``check`` until truthy; on timeout fail with the processes' recent output."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        for process in processes:
            if process.popen is not None and process.popen.poll() is not None:
                pytest.fail(f"{process.name} exited:\n{process.output()[-4000:]}")
        time.sleep(0.1)
    tails = "\n".join(f"--- {p.name}\n{p.output()[-3000:]}" for p in processes)
    pytest.fail(f"not within {timeout} s\n{tails}")


@contextmanager
def running_stack(
    tmp_path: Path, postgres_url: str, mariadb_url: str, broker_url: str
) -> Iterator[Stack]:
    """The app served with a Redis broker, PostgreSQL and MariaDB Bookly (no worker yet)."""
    from flask_migrate import upgrade

    from cronofy_sandbox.state import EXTENSION_KEY as SANDBOX_KEY
    from webapp import create_app
    from webapp.extensions import db

    bookly = make_bookly_db("mariadb", mariadb_url)  # the layout real Bookly creates
    parts = urlsplit(mariadb_url)
    link = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 3306)
    broker_parts = urlsplit(broker_url)
    redis_link = TcpProxy(broker_parts.hostname or "127.0.0.1", broker_parts.port or 6379)
    relayed_broker = urlunsplit(broker_parts._replace(netloc=f"127.0.0.1:{redis_link.port}"))
    userinfo = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
    relayed = urlunsplit(parts._replace(netloc=f"{userinfo}127.0.0.1:{link.port}"))
    deferred = _Deferred()
    server = make_server("127.0.0.1", 0, deferred, threaded=True)
    base_url = f"http://127.0.0.1:{server.server_port}"
    settings = {
        "BRIDGE_ENV": "demo",
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "PUBLIC_BASE_URL": base_url,
        "DATABASE_URL": postgres_url,
        "BOOKLY_DATABASE_URL": relayed,
        "CELERY_BROKER_URL": relayed_broker,
        "BOOKLY_POLL_SECONDS": "1",
        "LOG_LEVEL": "INFO",
        "LOG_FORMAT": "plain",
    }
    app = create_app(settings)
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
    seeded = app.test_cli_runner().invoke(args=["demo", "seed"])  # Bookly staff + our people
    assert seeded.exit_code == 0, seeded.output
    deferred.app = app
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "COV_"))}
    env.update(settings)
    session = requests.Session()
    built = Stack(
        base_url=base_url,
        app=app,
        bookly=bookly,
        gateway=BooklyGateway(mariadb_url),
        bookly_link=link,
        redis_link=redis_link,
        control=SandboxControl(f"{base_url}/sandbox/cronofy", session),
        env=env,
        tmp=tmp_path,
    )
    try:
        yield built
    finally:
        for process in built.processes.values():
            process.stop()
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()
        app.extensions["cronofy_sandbox"].extensions[SANDBOX_KEY].deliverer.close()
        session.close()
        link.close()
        redis_link.close()
        built.gateway.engine.dispose()
        bookly.engine.dispose()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()

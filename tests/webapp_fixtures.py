"""Fixtures for tests of the web app: an ``app`` on SQLite and on PostgreSQL, users, login.

Registered in tests/conftest.py. Every test that asks for ``app`` (or ``client``) runs twice,
with the ids ``sqlite`` and ``postgres``. Override ``app_overrides`` (config) or
``app_clients`` (a ``webapp.clients.Clients``) in a test module to change the app.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from werkzeug.serving import make_server

from webapp import create_app
from webapp.clients import Clients
from webapp.extensions import db
from webapp.models import Role, User
from webapp.services import accounts

INSTRUCTOR_EMAIL = "ada@school.test"
ADMIN_EMAIL = "admin@school.test"
PASSWORD = "correct horse battery"
_CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@contextmanager
def serving(app: Flask, port: int) -> Iterator[str]:
    """``app`` answering HTTP on 127.0.0.1:``port`` from a thread (so the sandbox can call it)."""
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()


def wait_for(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Poll ``check`` until it returns something truthy (returned); AssertionError after
    ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


@pytest.fixture
def idle_broker_url(redis_url: str) -> Iterator[str]:
    """A Celery broker no worker listens to (a spare Redis database, emptied afterwards):
    the app runs as in production, where a request only queues work, and the test runs the
    jobs itself when it wants them done."""
    import redis

    url = redis_url.rsplit("/", 1)[0] + "/14"
    yield url
    redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5).flushdb()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (for a server in a test)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def app_test_config(database_url: str, instance_path: Path, **overrides: Any) -> dict[str, Any]:
    """The config of a test app: testing mode, the given database, no mounted sandbox."""
    return {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "INSTANCE_PATH": str(instance_path),
        "SANDBOX_MOUNT": False,
        "BOOKLY_DATABASE_URL": None,
        **overrides,
    }


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Our database for one test: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'bridge.sqlite3'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """Extra config for the ``app`` fixture (override in a test module)."""
    return {}


@pytest.fixture
def app_clients() -> Clients | None:
    """Clients injected into the ``app`` fixture; None builds them from the config."""
    return None


@pytest.fixture
def app(
    database_url: str,
    tmp_path: Path,
    app_overrides: dict[str, Any],
    app_clients: Clients | None,
) -> Iterator[Flask]:
    """A test app with the schema created, on SQLite and on PostgreSQL."""
    config = app_test_config(database_url, tmp_path / "instance", **app_overrides)
    application = create_app(config, clients=app_clients)
    with application.app_context():
        db.create_all()
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


MakeApp = Callable[..., Flask]


@pytest.fixture
def make_app(database_url: str, tmp_path: Path) -> Iterator[MakeApp]:
    """Build more apps on the test's database (other keys, URLs...); disposed afterwards."""
    made: list[Flask] = []

    def build(*, clients: Clients | None = None, **overrides: Any) -> Flask:
        url = overrides.pop("DATABASE_URL", database_url)
        application = create_app(
            app_test_config(url, tmp_path / "instance", **overrides), clients=clients
        )
        made.append(application)
        return application

    yield build
    for application in made:
        with application.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client of ``app``."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    """A CLI runner of ``app``."""
    return app.test_cli_runner()


@dataclass(frozen=True, slots=True)
class People:
    """The users the ``people`` fixture created."""

    instructor_id: int
    admin_id: int
    instructor_email: str = INSTRUCTOR_EMAIL
    admin_email: str = ADMIN_EMAIL
    password: str = PASSWORD


@pytest.fixture
def people(app: Flask) -> People:
    """One organisation with an instructor and an admin (same password)."""
    with app.app_context():
        org = accounts.get_or_create_organisation("Lightkeepers")
        instructor = accounts.create_user(
            email=INSTRUCTOR_EMAIL,
            password=PASSWORD,
            role=Role.INSTRUCTOR,
            organisation=org,
            name="Ada Lovelace",
        )
        admin = accounts.create_user(
            email=ADMIN_EMAIL,
            password=PASSWORD,
            role=Role.ADMIN,
            organisation=org,
            name="Grace Admin",
        )
        return People(instructor_id=instructor.id, admin_id=admin.id)


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    """The CSRF token of the form on a page."""
    response = client.get(path)
    match = _CSRF_RE.search(response.get_data(as_text=True))
    assert match, f"no csrf_token on {path} (status {response.status_code})"
    return match.group(1)


def log_in(client: FlaskClient, email: str, password: str) -> Any:
    """Post the login form with a valid CSRF token; returns the response."""
    token = csrf_token(client)
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


def get_user(app: Flask, user_id: int) -> User:
    """A user, loaded in a fresh session."""
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user is not None
        db.session.expunge(user)
        return user

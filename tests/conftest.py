"""Fixtures shared by the whole suite: which real services are reachable.

A test that needs PostgreSQL, MariaDB or Redis asks for the matching fixture
(`postgres_url`, `mariadb_url`, `redis_url`). When the service is absent the
test is skipped with a clear reason, except under ``REQUIRE_SERVICES=1`` (CI),
where absence fails the test instead.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator

import pytest

pytest_plugins: list[str] = [
    "tests.webapp_fixtures",
    "tests.sandbox_fixtures",
    "tests.bookly_fixtures",
]

POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
MARIADB_ADMIN_URL = os.environ.get("TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


REQUIREMENTS = range(1, 26)  # the 25 reliability and security requirements (README: Testing)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--requirements",
        action="store_true",
        help="list, after collection, which tests prove each reliability requirement (1-25)",
    )


def pytest_report_collectionfinish(config: pytest.Config, items: list[pytest.Item]) -> list[str]:
    """Check every ``requirement(n)`` marker; with --requirements, list the tests per number."""
    proving: dict[int, list[str]] = {n: [] for n in REQUIREMENTS}
    for item in items:
        for marker in item.iter_markers("requirement"):
            number = marker.args[0] if len(marker.args) == 1 and not marker.kwargs else None
            if not isinstance(number, int) or number not in proving:
                raise pytest.UsageError(
                    f"{item.nodeid}: write @pytest.mark.requirement(N) with N from 1 to 25"
                )
            proving[number].append(item.nodeid)
    if not config.getoption("requirements"):
        return []
    lines = []
    for number, tests in proving.items():
        lines.append(f"requirement {number}: {len(tests)} test(s)")
        lines.extend(f"    {nodeid}" for nodeid in tests)
    return lines


def services_required() -> bool:
    """True when a missing service must fail the run (CI sets REQUIRE_SERVICES=1)."""
    return os.environ.get("REQUIRE_SERVICES", "") == "1"


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def require_service(name: str, host: str, port: int) -> None:
    """Skip (or fail under REQUIRE_SERVICES=1) when a service does not answer."""
    if _reachable(host, port):
        return
    message = f"{name} is not reachable on {host}:{port}"
    if services_required():
        pytest.fail(f"{message} and REQUIRE_SERVICES=1 is set")
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    """URL of the PostgreSQL maintenance database (skips when PostgreSQL is down)."""
    require_service("PostgreSQL", "127.0.0.1", 5432)
    return POSTGRES_ADMIN_URL


@pytest.fixture
def postgres_url(postgres_admin_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    import sqlalchemy as sa

    name = f"t_{uuid.uuid4().hex[:16]}"
    admin = sa.create_engine(postgres_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    base = postgres_admin_url.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def mariadb_admin_url() -> str:
    """URL of the MariaDB server without a database (skips when MariaDB is down)."""
    require_service("MariaDB", "127.0.0.1", 3306)
    return MARIADB_ADMIN_URL


@pytest.fixture
def mariadb_url(mariadb_admin_url: str) -> Iterator[str]:
    """A fresh, empty MariaDB database for one test, dropped afterwards."""
    import sqlalchemy as sa

    name = f"t_{uuid.uuid4().hex[:16]}"
    admin = sa.create_engine(mariadb_admin_url)
    with admin.begin() as conn:
        conn.execute(
            sa.text(
                f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_520_ci"
            )
        )
    try:
        yield f"{mariadb_admin_url.rstrip('/')}/{name}?charset=utf8mb4"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS `{name}`"))
        admin.dispose()


@pytest.fixture(scope="session")
def redis_url() -> str:
    """URL of a Redis database reserved for tests (skips when Redis is down)."""
    require_service("Redis", "127.0.0.1", 6379)
    return REDIS_URL

"""Fixtures of the real-process tests (see tests/process_stack.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.process_stack import ADA, BROKER_DB, Stack, running_stack, wait_until

__all__ = ["ADA", "Stack", "wait_until"]

pytestmark = [pytest.mark.postgres, pytest.mark.mariadb, pytest.mark.redis, pytest.mark.slow]


@pytest.fixture
def broker_url(redis_url: str) -> Iterator[str]:
    url = redis_url.rsplit("/", 1)[0] + f"/{BROKER_DB}"
    store = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
    store.flushdb()
    yield url
    store.flushdb()


@pytest.fixture
def stack(tmp_path: Path, postgres_url: str, mariadb_url: str, broker_url: str) -> Iterator[Stack]:
    """The app served with a Redis broker, PostgreSQL and MariaDB Bookly (no worker yet)."""
    with running_stack(tmp_path, postgres_url, mariadb_url, broker_url) as built:
        yield built

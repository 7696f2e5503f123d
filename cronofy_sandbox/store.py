"""SQLite storage shared by every request thread: one connection guarded by a lock."""

from __future__ import annotations

import sqlite3
import threading
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

SCHEMA = """
CREATE TABLE people (
    email TEXT PRIMARY KEY, name TEXT NOT NULL, tzid TEXT NOT NULL, sub TEXT NOT NULL UNIQUE,
    admin INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE profiles (
    profile_id TEXT PRIMARY KEY, sub TEXT NOT NULL, provider TEXT NOT NULL,
    provider_service TEXT NOT NULL, profile_name TEXT NOT NULL,
    access_mode TEXT NOT NULL DEFAULT 'read_write', linked INTEGER NOT NULL DEFAULT 0,
    connected INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE calendars (
    calendar_id TEXT PRIMARY KEY, profile_id TEXT NOT NULL, name TEXT NOT NULL,
    readonly INTEGER NOT NULL DEFAULT 0, is_primary INTEGER NOT NULL DEFAULT 0,
    deleted INTEGER NOT NULL DEFAULT 0, color TEXT,
    permission_level TEXT NOT NULL DEFAULT 'sandbox'
);
CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT, calendar_id TEXT NOT NULL, event_uid TEXT NOT NULL UNIQUE,
    event_id TEXT, managed INTEGER NOT NULL, summary TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '', start TEXT NOT NULL, end TEXT NOT NULL,
    all_day INTEGER NOT NULL DEFAULT 0, tzid TEXT, end_tzid TEXT, location TEXT,
    transparency TEXT NOT NULL
    DEFAULT 'opaque', status TEXT NOT NULL DEFAULT 'confirmed', attendees TEXT NOT NULL
    DEFAULT '[]', delivery TEXT NOT NULL DEFAULT 'calendar', previous_spans TEXT NOT NULL
    DEFAULT '[]', created TEXT NOT NULL, updated TEXT NOT NULL, deleted INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX events_managed ON events (calendar_id, event_id);
CREATE TABLE codes (
    code TEXT PRIMARY KEY, redirect_uri TEXT NOT NULL, sub TEXT NOT NULL, scope TEXT NOT NULL,
    profile_id TEXT, kind TEXT NOT NULL, expires_at REAL NOT NULL, used INTEGER NOT NULL DEFAULT 0,
    delegated INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE tokens (
    access_token TEXT PRIMARY KEY, refresh_token TEXT NOT NULL, grant_id TEXT NOT NULL,
    sub TEXT NOT NULL, scope TEXT NOT NULL, kind TEXT NOT NULL, profile_id TEXT,
    expires_at REAL NOT NULL,
    refresh_valid INTEGER NOT NULL DEFAULT 1, access_valid INTEGER NOT NULL DEFAULT 1,
    delegated INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX tokens_refresh ON tokens (refresh_token);
CREATE TABLE service_accounts (
    sub TEXT PRIMARY KEY, email TEXT NOT NULL, domain TEXT NOT NULL, provider TEXT NOT NULL,
    delegated_scope TEXT NOT NULL, access_mode TEXT NOT NULL, scope TEXT NOT NULL
);
CREATE TABLE channels (
    channel_id TEXT PRIMARY KEY, sub TEXT NOT NULL, callback_url TEXT NOT NULL,
    calendar_ids TEXT NOT NULL, only_managed INTEGER NOT NULL, closed INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE smart_invites (
    smart_invite_id TEXT NOT NULL, email TEXT NOT NULL, status TEXT NOT NULL,
    callback_url TEXT, event TEXT NOT NULL, organizer TEXT, method TEXT NOT NULL,
    sequence INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (smart_invite_id, email)
);
CREATE TABLE mailbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT, recipient TEXT NOT NULL, subject TEXT NOT NULL,
    method TEXT NOT NULL, event_uid TEXT, ics TEXT NOT NULL, sent_at TEXT NOT NULL,
    body TEXT NOT NULL DEFAULT ''
);
CREATE TABLE request_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, method TEXT NOT NULL,
    path TEXT NOT NULL, auth_kind TEXT NOT NULL, status INTEGER NOT NULL
);
CREATE TABLE faults (
    id INTEGER PRIMARY KEY AUTOINCREMENT, status INTEGER NOT NULL, remaining INTEGER NOT NULL,
    latency_ms INTEGER NOT NULL DEFAULT 0, path_prefix TEXT NOT NULL DEFAULT ''
);
CREATE TABLE deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, url TEXT NOT NULL,
    channel_id TEXT, attempts INTEGER NOT NULL DEFAULT 0, status INTEGER,
    outcome TEXT NOT NULL DEFAULT 'pending'
);
CREATE TABLE pages (
    page_id TEXT PRIMARY KEY, sub TEXT NOT NULL, kind TEXT NOT NULL, query TEXT NOT NULL,
    page INTEGER NOT NULL
);
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE permission_requests (
    request_id TEXT PRIMARY KEY, sub TEXT NOT NULL, permissions TEXT NOT NULL,
    redirect_uri TEXT NOT NULL, decided INTEGER NOT NULL DEFAULT 0
);
"""


# Changes with every edit of SCHEMA; a stored file of another version is rebuilt.
SCHEMA_VERSION = zlib.crc32(SCHEMA.encode("utf-8")) & 0x7FFFFFFF


class Store:
    """A single SQLite connection shared across threads, every use serialised by a lock."""

    def __init__(self, database: str) -> None:
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(database, check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        # A file kept from an earlier start (make run restarted) keeps its people, grants
        # and events: the bridge's database still holds tokens the sandbox issued. Only a
        # new file, or one written by another version of the schema, starts empty.
        if self._schema_version() != SCHEMA_VERSION:
            self.reset()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Hold the lock and run the block in one transaction."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """Run a read and return every row."""
        with self._lock:
            return list(self._conn.execute(sql, params).fetchall())

    def one(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        """Run a read and return the first row, if any."""
        rows = self.query(sql, params)
        return rows[0] if rows else None

    def one_or_fail(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row:
        """Like one(), for rows that must exist (just written under our own lock)."""
        row = self.one(sql, params)
        if row is None:
            raise LookupError("expected row is missing")
        return row

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one write in its own transaction; return the last row id."""
        with self.transaction() as conn:
            return conn.execute(sql, params).lastrowid or 0

    def reset(self) -> None:
        """Drop every table and recreate the empty schema."""
        with self._lock:
            tables = [
                r[0]
                for r in self._conn.execute(
                    "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
                )
            ]
            for table in tables:
                self._conn.execute(f"DROP TABLE {table}")  # noqa: S608 - names from sqlite_master
            self._conn.executescript(SCHEMA)
            self._conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _schema_version(self) -> int:
        with self._lock:
            return int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    def is_empty(self) -> bool:
        """True when nobody has been added (a fresh or reset sandbox)."""
        with self._lock:
            return self._conn.execute("SELECT 1 FROM people LIMIT 1").fetchone() is None

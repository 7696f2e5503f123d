"""State shared by the gateway's operations: engine, tables, clock, cached site settings."""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from bookly_client.errors import MissingTokenKey
from bookly_client.site import SiteSettings, load_site_settings
from bookly_client.tables import BooklyTables
from bookly_client.timezone import LocalZone

log = logging.getLogger(__name__)

AUTHOR = "calendar-bridge"
MARKER_PREFIX = "[calendar-bridge:"
BOOKING_MARKER = "[calendar-bridge:booking] Booked through the calendar bridge."
BLOCK_MARKER = "[calendar-bridge:busy-block] Busy time from the instructor's calendar."
SETTINGS_TTL = timedelta(minutes=5)


def utc_now() -> datetime:
    """The current time, aware UTC (the default clock)."""
    return datetime.now(UTC)


def is_our_note(note: str | None) -> bool:
    """True when an appointment's internal note carries our marker."""
    return bool(note) and MARKER_PREFIX in str(note)


@dataclass
class GatewayContext:
    """Everything an operation needs; settings are cached for a few minutes."""

    engine: sa.Engine
    tables: BooklyTables
    clock: Callable[[], datetime]
    token_key: bytes | None
    write_log: bool = True
    _cached: tuple[datetime, SiteSettings] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def now(self) -> datetime:
        """Aware UTC now from the injected clock."""
        return self.clock().astimezone(UTC)

    def settings(self, conn: sa.Connection) -> SiteSettings:
        """Site settings, re-read when older than SETTINGS_TTL."""
        now = self.now()
        with self._lock:
            if self._cached and now - self._cached[0] < SETTINGS_TTL:
                return self._cached[1]
        fresh = load_site_settings(conn, self.tables)
        with self._lock:
            self._cached = (now, fresh)
        return fresh

    def forget_settings(self) -> None:
        """Drop cached settings (the next operation re-reads the options)."""
        with self._lock:
            self._cached = None

    def now_local(self, settings: SiteSettings) -> datetime:
        """Site-local naive now, what Bookly writes into created_at/updated_at."""
        return settings.zone.to_local(self.now()).replace(microsecond=0)

    def writable(self) -> GatewayContext:
        """This context, or MissingTokenKey when no token key is configured."""
        self._token_key()
        return self

    def token_for(self, reference: str) -> str:
        """The customer-appointment token derived from our booking reference (32 hex)."""
        digest = hmac.new(self._token_key(), reference.encode("utf-8"), hashlib.sha256)
        return digest.hexdigest()[:32]

    def _token_key(self) -> bytes:
        if self.token_key is None:
            raise MissingTokenKey(
                "BooklyGateway has no token_secret: configure one before writing to Bookly "
                "(tokens in Bookly's public cancel links must not be computable)"
            )
        return self.token_key


def staff_zone(settings: SiteSettings, staff_time_zone: str | None) -> LocalZone:
    """Zone of a staff member's hours: their own with Pro active and set, else the site's."""
    if settings.pro_active and staff_time_zone:
        return LocalZone.named(staff_time_zone)
    return settings.zone

"""WordPress/Bookly site settings read from ``{prefix}options``."""

from __future__ import annotations

import math
from dataclasses import dataclass

import sqlalchemy as sa

from bookly_client.tables import BooklyTables
from bookly_client.timezone import LocalZone

OPTION_NAMES = (
    "timezone_string",
    "gmt_offset",
    "bookly_db_version",
    "active_plugins",
    "bookly_appointment_default_status",
    "bookly_gen_time_slot_length",
    "bookly_gen_service_duration_as_slot_length",
    "bookly_gen_min_time_prior_booking",
    "bookly_gen_max_days_for_booking",
)
BUSY_STATUSES = frozenset({"pending", "approved"})
PRO_PLUGIN = "bookly-addon-pro/"
WAITING_LIST_PLUGIN = "bookly-addon-waiting-list/"


@dataclass(frozen=True, slots=True)
class SlotOptions:
    """Bookly's general slot options (``bookly_gen_*``), defaults as Bookly installs them."""

    time_slot_minutes: int = 15
    duration_as_slot_length: bool = False
    min_prior_booking_hours: float = 0.0
    max_days_for_booking: int = 365

    @classmethod
    def from_options(cls, options: dict[str, str]) -> SlotOptions:
        """Read the options; an unreadable value falls back to Bookly's default."""
        return cls(
            time_slot_minutes=max(1, int(_number(options, "bookly_gen_time_slot_length", 15))),
            duration_as_slot_length=bool(
                _number(options, "bookly_gen_service_duration_as_slot_length", 0)
            ),
            min_prior_booking_hours=max(
                0.0, _number(options, "bookly_gen_min_time_prior_booking", 0)
            ),
            max_days_for_booking=max(
                0, int(_number(options, "bookly_gen_max_days_for_booking", 365))
            ),
        )


def _number(options: dict[str, str], name: str, default: float) -> float:
    raw = options.get(name)
    try:
        value = float(raw) if raw is not None and raw.strip() else float(default)
    except ValueError:
        return float(default)
    return value if math.isfinite(value) else float(default)


@dataclass(frozen=True, slots=True)
class SiteSettings:
    """What the gateway needs to know about the site; read once and cached."""

    zone: LocalZone
    db_version: str | None
    pro_active: bool
    waiting_list_active: bool
    slots: SlotOptions = SlotOptions()

    @property
    def busy_statuses(self) -> frozenset[str]:
        """Customer-appointment statuses that block time on this site."""
        if self.waiting_list_active:
            return BUSY_STATUSES | {"waitlisted"}
        return BUSY_STATUSES


def read_options(conn: sa.Connection, tables: BooklyTables) -> dict[str, str]:
    """The options this client uses (missing ones are absent from the dict)."""
    opts = tables.options
    rows = conn.execute(
        sa.select(opts.c.option_name, opts.c.option_value).where(
            opts.c.option_name.in_(OPTION_NAMES)
        )
    )
    return {str(name): str(value) for name, value in rows}


def load_site_settings(conn: sa.Connection, tables: BooklyTables) -> SiteSettings:
    """Read the site zone and plugin state; raises SiteTimeZoneError without a usable zone."""
    options = read_options(conn, tables)
    plugins = options.get("active_plugins", "")
    return SiteSettings(
        zone=LocalZone.from_wordpress(options.get("timezone_string"), options.get("gmt_offset")),
        db_version=options.get("bookly_db_version"),
        pro_active=PRO_PLUGIN in plugins,
        waiting_list_active=WAITING_LIST_PLUGIN in plugins,
        slots=SlotOptions.from_options(options),
    )

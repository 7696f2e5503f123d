"""SQLAlchemy Core definitions of the Bookly 27.4 tables this client uses.

Names, types, nullability and server defaults follow the tables Bookly's own installer creates;
``tests/unit/bookly_client/test_tables.py`` compares them with ``tests/fixtures/bookly_schema.sql``.
On SQLite the same metadata creates the sandbox tables.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from bookly_client.sqltypes import (
    Money,
    WallTime,
    local_datetime,
    long_text,
    tinyint,
    ubigint,
    uint,
)

_PREFIX_RE = re.compile(r"^[A-Za-z0-9_]{1,40}$")
_MYSQL_OPTS: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_unicode_520_ci",
}
_CASCADE: dict[str, Any] = {"ondelete": "CASCADE", "onupdate": "CASCADE"}
SERVICE_TYPES = ("simple", "collaborative", "compound", "package")
LIMIT_PERIODS = (
    "off", "day", "week", "month", "year", "upcoming",
    "calendar_day", "calendar_week", "calendar_month", "calendar_year",
)  # fmt: skip
STAFF_PREFERENCES = (
    "order", "least_occupied", "most_occupied", "least_occupied_for_period",
    "most_occupied_for_period", "least_expensive", "most_expensive",
)  # fmt: skip

RECURRENCE_FREQUENCIES = ("daily", "weekly", "biweekly", "monthly")


def _id() -> sa.Column[int]:
    return sa.Column("id", uint(), primary_key=True, autoincrement=True)


def _d(value: str | int) -> sa.TextClause:
    return sa.text(f"'{value}'") if isinstance(value, str) else sa.text(str(value))


def _enum(*values: str) -> sa.Enum:
    return sa.Enum(*values, native_enum=True, create_constraint=False, validate_strings=False)


def _set(*values: str) -> sa.types.TypeEngine[Any]:
    """A MySQL SET column (comma-joined members); plain text on SQLite."""
    return sa.String(64).with_variant(mysql.SET(*values), "mysql", "mariadb")


def _fk(target: str, **kw: Any) -> sa.ForeignKey:
    return sa.ForeignKey(target, **kw)


@dataclass(frozen=True)
class BooklyTables:
    """The Bookly tables for one table prefix (``wp_``, ``wp_2_`` ...)."""

    prefix: str
    metadata: sa.MetaData
    options: sa.Table
    categories: sa.Table
    staff: sa.Table
    services: sa.Table
    staff_services: sa.Table
    schedule_items: sa.Table
    schedule_breaks: sa.Table
    holidays: sa.Table
    customers: sa.Table
    appointments: sa.Table
    customer_appointments: sa.Table
    log: sa.Table
    notifications: sa.Table
    sent_notifications: sa.Table

    def bookly(self) -> tuple[sa.Table, ...]:
        """The Bookly tables (all but WordPress's options), FK parents first."""
        return tuple(t for t in self.metadata.sorted_tables if t is not self.options)


def build_tables(prefix: str = "wp_") -> BooklyTables:
    """Define the tables for ``prefix``; raises ValueError for prefixes unsafe in SQL names."""
    if not _PREFIX_RE.match(prefix):
        raise ValueError(f"invalid WordPress table prefix {prefix!r}")
    md = sa.MetaData()
    b = f"{prefix}bookly_"
    return BooklyTables(
        prefix=prefix,
        metadata=md,
        options=_options(md, prefix),
        categories=sa.Table(
            f"{b}categories",
            md,
            _id(),
            sa.Column("name", sa.String(255), nullable=False),
            sa.Column("attachment_id", uint()),
            sa.Column("info", sa.Text()),
            sa.Column("position", sa.Integer(), nullable=False, server_default=_d(9999)),
            **_MYSQL_OPTS,
        ),  # fmt: skip
        staff=_staff(md, b),
        services=_services(md, b),
        staff_services=sa.Table(
            f"{b}staff_services",
            md,
            _id(),
            sa.Column("staff_id", uint(), _fk(f"{b}staff.id", **_CASCADE), nullable=False),
            sa.Column("service_id", uint(), _fk(f"{b}services.id", **_CASCADE), nullable=False),
            sa.Column("location_id", uint()),
            sa.Column("price", Money(), nullable=False, server_default=_d("0.00")),
            sa.Column("deposit", sa.String(100), nullable=False, server_default=_d("100%")),
            sa.Column("capacity_min", sa.Integer(), nullable=False, server_default=_d(1)),
            sa.Column("capacity_max", sa.Integer(), nullable=False, server_default=_d(1)),
            sa.UniqueConstraint("staff_id", "service_id", "location_id", name="unique_ids_idx"),
            **_MYSQL_OPTS,
        ),  # fmt: skip
        schedule_items=sa.Table(
            f"{b}staff_schedule_items",
            md,
            _id(),
            sa.Column("staff_id", uint(), _fk(f"{b}staff.id", **_CASCADE), nullable=False),
            sa.Column("location_id", uint()),
            sa.Column("day_index", uint(), nullable=False),
            sa.Column("start_time", WallTime()),
            sa.Column("end_time", WallTime()),
            sa.UniqueConstraint("staff_id", "day_index", "location_id", name="unique_ids_idx"),
            **_MYSQL_OPTS,
        ),  # fmt: skip
        schedule_breaks=sa.Table(
            f"{b}schedule_item_breaks",
            md,
            _id(),
            sa.Column(
                "staff_schedule_item_id",
                uint(),
                _fk(f"{b}staff_schedule_items.id", **_CASCADE),
                nullable=False,
            ),
            sa.Column("start_time", WallTime()),
            sa.Column("end_time", WallTime()),
            **_MYSQL_OPTS,
        ),  # fmt: skip
        holidays=sa.Table(
            f"{b}holidays",
            md,
            _id(),
            sa.Column("staff_id", uint(), _fk(f"{b}staff.id", **_CASCADE)),
            sa.Column("parent_id", uint()),
            sa.Column("date", sa.Date(), nullable=False),
            sa.Column("repeat_event", tinyint(), nullable=False, server_default=_d(0)),
            **_MYSQL_OPTS,
        ),  # fmt: skip
        customers=_customers(md, b),
        appointments=_appointments(md, b),
        customer_appointments=_customer_appointments(md, b),
        log=sa.Table(
            f"{b}log",
            md,
            _id(),
            sa.Column("action", _enum("create", "update", "delete", "error", "debug")),
            sa.Column("target", sa.String(255)),
            sa.Column("target_id", uint()),
            sa.Column("author", sa.String(255)),
            sa.Column("details", sa.Text()),
            sa.Column("ref", sa.String(255)),
            sa.Column("comment", sa.String(255)),
            sa.Column("created_at", local_datetime(), nullable=False),
            **_MYSQL_OPTS,
        ),  # fmt: skip
        notifications=_notifications(md, b),
        sent_notifications=sa.Table(
            f"{b}sent_notifications",
            md,
            _id(),
            sa.Column("ref_id", uint(), nullable=False, index=True),
            sa.Column(
                "notification_id",
                uint(),
                _fk(f"{b}notifications.id", **_CASCADE),
                nullable=False,
            ),
            sa.Column("created_at", local_datetime(), nullable=False),
            **_MYSQL_OPTS,
        ),  # fmt: skip
    )


def _options(md: sa.MetaData, prefix: str) -> sa.Table:
    return sa.Table(
        f"{prefix}options", md,
        sa.Column("option_id", ubigint(), primary_key=True, autoincrement=True),
        sa.Column("option_name", sa.String(191), nullable=False, server_default=_d(""),
                  unique=True),
        sa.Column("option_value", long_text(), nullable=False),
        sa.Column("autoload", sa.String(20), nullable=False, server_default=_d("yes")),
        **_MYSQL_OPTS,
    )  # fmt: skip


def _staff(md: sa.MetaData, b: str) -> sa.Table:
    return sa.Table(
        f"{b}staff", md, _id(),
        sa.Column("category_id", uint()),
        sa.Column("wp_user_id", ubigint()),
        sa.Column("attachment_id", uint()),
        sa.Column("full_name", sa.String(255)),
        sa.Column("email", sa.String(255)),
        sa.Column("phone", sa.String(32)),
        sa.Column("time_zone", sa.String(255)),
        sa.Column("info", sa.Text()),
        sa.Column("working_time_limit", uint()),
        sa.Column("visibility", _enum("public", "private", "archive"), nullable=False,
                  server_default=_d("public")),
        sa.Column("position", sa.Integer(), nullable=False, server_default=_d(9999)),
        sa.Column("google_data", sa.Text()),
        sa.Column("outlook_data", sa.Text()),
        sa.Column("apple_data", sa.Text()),
        sa.Column("zoom_authentication", _enum("default", "oauth"), nullable=False,
                  server_default=_d("default")),
        sa.Column("zoom_oauth_token", sa.Text()),
        sa.Column("icalendar", tinyint(), nullable=False, server_default=_d(0)),
        sa.Column("icalendar_token", sa.String(255)),
        sa.Column("icalendar_days_before", sa.Integer(), nullable=False, server_default=_d(365)),
        sa.Column("icalendar_days_after", sa.Integer(), nullable=False, server_default=_d(365)),
        sa.Column("color", sa.String(255), nullable=False, server_default=_d("#dddddd")),
        sa.Column("gateways", sa.String(255)),
        **_MYSQL_OPTS,
    )  # fmt: skip


def _services(md: sa.MetaData, b: str) -> sa.Table:
    return sa.Table(
        f"{b}services", md, _id(),
        sa.Column("category_id", uint(),
                  _fk(f"{b}categories.id", ondelete="SET NULL", onupdate="CASCADE")),
        sa.Column("type", _enum(*SERVICE_TYPES), nullable=False, server_default=_d("simple")),
        sa.Column("title", sa.String(255), server_default=_d("")),
        sa.Column("attachment_id", uint()),
        sa.Column("duration", sa.Integer(), nullable=False, server_default=_d(900)),
        sa.Column("slot_length", sa.String(32), nullable=False, server_default=_d("default")),
        sa.Column("price", Money(), nullable=False, server_default=_d("0.00")),
        sa.Column("color", sa.String(32), nullable=False, server_default=_d("#FFFFFF")),
        sa.Column("deposit", sa.String(16), nullable=False, server_default=_d("100%")),
        sa.Column("capacity_min", sa.Integer(), nullable=False, server_default=_d(1)),
        sa.Column("capacity_max", sa.Integer(), nullable=False, server_default=_d(1)),
        sa.Column("waiting_list_capacity", uint()),
        sa.Column("one_booking_per_slot", tinyint(), nullable=False, server_default=_d(0)),
        sa.Column("padding_left", sa.Integer(), nullable=False, server_default=_d(0)),
        sa.Column("padding_right", sa.Integer(), nullable=False, server_default=_d(0)),
        sa.Column("info", sa.Text()),
        sa.Column("start_time_info", sa.String(32), server_default=_d("")),
        sa.Column("end_time_info", sa.String(32), server_default=_d("")),
        sa.Column("same_staff_for_subservices", tinyint(), nullable=False, server_default=_d(0)),
        sa.Column("units_min", uint(), nullable=False, server_default=_d(1)),
        sa.Column("units_max", uint(), nullable=False, server_default=_d(1)),
        sa.Column("package_life_time", sa.Integer()),
        sa.Column("package_life_time_type", _enum("first_booking", "creation_date"), nullable=False,
                  server_default=_d("first_booking")),
        sa.Column("package_size", sa.Integer()),
        sa.Column("package_unassigned", tinyint(), nullable=False, server_default=_d(0)),
        sa.Column("appointments_limit", sa.Integer()),
        sa.Column("limit_period", _enum(*LIMIT_PERIODS), nullable=False, server_default=_d("off")),
        sa.Column("staff_preference", _enum(*STAFF_PREFERENCES), nullable=False,
                  server_default=_d("most_expensive")),
        sa.Column("staff_preference_settings", sa.Text()),
        sa.Column("recurrence_enabled", tinyint(), nullable=False, server_default=_d(1)),
        sa.Column("recurrence_frequencies", _set(*RECURRENCE_FREQUENCIES), nullable=False,
                  server_default=_d(",".join(RECURRENCE_FREQUENCIES))),
        sa.Column("time_requirements", _enum("required", "optional", "off"), nullable=False,
                  server_default=_d("required")),
        sa.Column("collaborative_equal_duration", tinyint(), nullable=False, server_default=_d(0)),
        sa.Column("online_meetings", _enum("off", "zoom", "google_meet", "jitsi", "bbb", "teams"),
                  nullable=False, server_default=_d("off")),
        sa.Column("final_step_url", sa.String(512), nullable=False, server_default=_d("")),
        sa.Column("wc_product_id", uint(), nullable=False, server_default=_d(0)),
        sa.Column("wc_cart_info_name", sa.String(255)),
        sa.Column("wc_cart_info", sa.Text()),
        sa.Column("min_time_prior_booking", sa.Integer()),
        sa.Column("min_time_prior_cancel", sa.Integer()),
        sa.Column("gateways", sa.String(255)),
        sa.Column("tags", sa.Text()),
        sa.Column("visibility", _enum("public", "private", "group"), nullable=False,
                  server_default=_d("public")),
        sa.Column("position", sa.Integer(), nullable=False, server_default=_d(9999)),
        **_MYSQL_OPTS,
    )  # fmt: skip


def _customers(md: sa.MetaData, b: str) -> sa.Table:
    optional = ("country", 32), ("state", 32), ("postcode", 10), ("city", 64), ("street", 64)
    return sa.Table(
        f"{b}customers", md, _id(),
        sa.Column("wp_user_id", ubigint()),
        sa.Column("facebook_id", ubigint()),
        sa.Column("group_id", uint()),
        sa.Column("full_name", sa.String(128), nullable=False, server_default=_d("")),
        sa.Column("first_name", sa.String(64), nullable=False, server_default=_d("")),
        sa.Column("last_name", sa.String(64), nullable=False, server_default=_d("")),
        sa.Column("phone", sa.String(32), nullable=False, server_default=_d("")),
        sa.Column("email", sa.String(128), nullable=False, server_default=_d("")),
        sa.Column("birthday", sa.Date()),
        *(sa.Column(name, sa.String(size)) for name, size in optional),
        sa.Column("street_number", sa.String(16)),
        sa.Column("additional_address", sa.String(255)),
        sa.Column("full_address", sa.String(255)),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("info_fields", sa.Text()),
        sa.Column("tags", sa.Text()),
        sa.Column("stripe_account", sa.String(36)),
        sa.Column("stripe_cloud_account", sa.String(36)),
        sa.Column("attachment_id", uint()),
        sa.Column("created_at", local_datetime(), nullable=False),
        **_MYSQL_OPTS,
    )  # fmt: skip


def _appointments(md: sa.MetaData, b: str) -> sa.Table:
    sync_ids = (
        "google_event_id", "google_event_etag", "outlook_event_id", "outlook_event_change_key",
        "outlook_event_series_id", "apple_event_id", "apple_event_etag",
    )  # fmt: skip
    return sa.Table(
        f"{b}appointments", md, _id(),
        sa.Column("location_id", uint()),
        sa.Column("staff_id", uint(), _fk(f"{b}staff.id", **_CASCADE), nullable=False, index=True),
        sa.Column("staff_any", tinyint(), nullable=False, server_default=_d(0)),
        sa.Column("service_id", uint(), _fk(f"{b}services.id", **_CASCADE), index=True),
        sa.Column("custom_service_name", sa.String(255)),
        sa.Column("custom_service_price", Money()),
        sa.Column("start_date", local_datetime()),
        sa.Column("end_date", local_datetime()),
        sa.Column("extras_duration", sa.Integer(), nullable=False, server_default=_d(0)),
        sa.Column("internal_note", sa.Text()),
        *(sa.Column(name, sa.String(255)) for name in sync_ids),
        sa.Column("online_meeting_provider",
                  _enum("zoom", "google_meet", "jitsi", "bbb", "teams")),
        sa.Column("online_meeting_id", sa.String(255)),
        sa.Column("online_meeting_data", sa.Text()),
        sa.Column("created_from", _enum("bookly", "google", "outlook", "apple"), nullable=False,
                  server_default=_d("bookly")),
        sa.Column("created_at", local_datetime(), nullable=False),
        sa.Column("updated_at", local_datetime(), nullable=False),
        **_MYSQL_OPTS,
    )  # fmt: skip


def _customer_appointments(md: sa.MetaData, b: str) -> sa.Table:
    return sa.Table(
        f"{b}customer_appointments", md, _id(),
        sa.Column("series_id", uint()),
        sa.Column("package_id", uint()),
        sa.Column("customer_id", uint(), _fk(f"{b}customers.id", **_CASCADE), nullable=False,
                  index=True),
        sa.Column("appointment_id", uint(), _fk(f"{b}appointments.id", **_CASCADE), nullable=False,
                  index=True),
        sa.Column("payment_id", uint()),
        sa.Column("order_id", uint()),
        sa.Column("number_of_persons", uint(), nullable=False, server_default=_d(1)),
        sa.Column("units", uint(), nullable=False, server_default=_d(1)),
        sa.Column("notes", sa.Text()),
        sa.Column("extras", sa.Text()),
        sa.Column("extras_multiply_nop", tinyint(), nullable=False, server_default=_d(1)),
        sa.Column("custom_fields", sa.Text()),
        sa.Column("status", sa.String(255), nullable=False, server_default=_d("approved")),
        sa.Column("status_changed_at", local_datetime()),
        sa.Column("token", sa.String(255)),
        sa.Column("time_zone", sa.String(255)),
        sa.Column("time_zone_offset", sa.Integer()),
        sa.Column("rating", sa.Integer()),
        sa.Column("rating_comment", sa.Text()),
        sa.Column("locale", sa.String(8)),
        sa.Column("collaborative_service_id", uint()),
        sa.Column("collaborative_token", sa.String(255)),
        sa.Column("compound_service_id", uint()),
        sa.Column("compound_token", sa.String(255)),
        sa.Column("created_from", _enum("frontend", "backend"), nullable=False,
                  server_default=_d("frontend")),
        sa.Column("created_at", local_datetime(), nullable=False),
        sa.Column("updated_at", local_datetime(), nullable=False),
        **_MYSQL_OPTS,
    )  # fmt: skip


def _notifications(md: sa.MetaData, b: str) -> sa.Table:
    flags = ("to_staff", "to_customer", "to_admin", "to_custom")
    later_flags = ("to_organizer", "attach_ics", "attach_invoice")
    return sa.Table(
        f"{b}notifications", md, _id(),
        sa.Column("gateway", _enum("email", "sms", "voice", "whatsapp"), nullable=False,
                  server_default=_d("email")),
        sa.Column("type", sa.String(255), nullable=False, server_default=_d("")),
        sa.Column("active", tinyint(), nullable=False, server_default=_d(0)),
        sa.Column("name", sa.String(255), nullable=False, server_default=_d("")),
        sa.Column("subject", sa.String(255), nullable=False, server_default=_d("")),
        sa.Column("message", sa.Text()),
        *(sa.Column(flag, tinyint(), nullable=False, server_default=_d(0)) for flag in flags),
        sa.Column("custom_recipients", sa.String(255)),
        *(sa.Column(flag, tinyint(), nullable=False, server_default=_d(0))
          for flag in later_flags),
        sa.Column("settings", sa.Text()),
        **_MYSQL_OPTS,
    )  # fmt: skip

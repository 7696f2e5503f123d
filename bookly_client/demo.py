"""Sandbox: create Bookly's tables (SQLite or MariaDB) and seed a small driving school."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import sqlalchemy as sa

from bookly_client.connection import make_engine, writing
from bookly_client.sqltypes import new_id
from bookly_client.tables import BooklyTables, build_tables
from bookly_client.timezone import LocalZone

log = logging.getLogger(__name__)

SITE_ZONE = "Europe/Berlin"
# WordPress stores active_plugins as a PHP-serialised array; Pro makes staff zones count.
ACTIVE_PLUGINS = (
    'a:2:{i:0;s:45:"bookly-responsive-appointment-booking-tool/main.php";'
    'i:1;s:26:"bookly-addon-pro/main.php";}'
)
DEMO_OPTIONS = {
    "timezone_string": SITE_ZONE,
    "gmt_offset": "",
    "bookly_db_version": "27.4",
    "bookly_data_loaded": "1",
    "active_plugins": ACTIVE_PLUGINS,
    "bookly_appointment_default_status": "approved",
}
H = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class DemoStaff:
    """A seeded instructor: weekly hours per day_index (1 = Sunday) in their own zone."""

    email: str
    full_name: str
    time_zone: str
    hours: dict[int, tuple[timedelta, timedelta]]
    lunch: tuple[timedelta, timedelta] | None


STAFF = (
    DemoStaff("ada@demo.test", "Ada Lovelace", "Europe/Berlin",
              dict.fromkeys(range(2, 7), (8 * H, 16 * H)), (12 * H, 12.5 * H)),
    DemoStaff("grace@demo.test", "Grace Hopper", "America/New_York",
              dict.fromkeys(range(3, 8), (10 * H, 18 * H)), None),
    DemoStaff("alan@demo.test", "Alan Turing", "Europe/London",
              {2: (9 * H, 17 * H), 4: (9 * H, 17 * H), 6: (9 * H, 13 * H)}, (12 * H, 13 * H)),
)  # fmt: skip
# title, minutes, padding left/right seconds, price, staff indexes offering it
SERVICES = (
    ("Theory lesson", 30, 0, 300, "25.00", (0, 1)),
    ("Driving lesson", 60, 600, 600, "55.00", (0, 1, 2)),
    ("Exam preparation", 90, 0, 900, "80.00", (0, 2)),
)
CUSTOMERS = (
    ("Marie Curie", "marie@demo.test"),
    ("Emmy Noether", "emmy@demo.test"),
    ("Kurt Goedel", "kurt@demo.test"),
)
# staff index, service index, day offset from today, local start hour, CA status
APPOINTMENTS = (
    (0, 1, 1, 9, "approved"),
    (0, 0, 2, 14, "approved"),
    (0, 2, 3, 10, "cancelled"),
    (1, 1, 2, 11, "pending"),
    (1, 0, 5, 15, "approved"),
    (2, 1, 1, 10, "approved"),
    (2, 2, 6, 9, "cancelled"),
)


def create_demo_site(url: str, *, table_prefix: str = "wp_", now: datetime | None = None) -> None:
    """Create the tables and options if missing and seed the demo school once (idempotent)."""
    engine = make_engine(url)
    tables = build_tables(table_prefix)
    try:
        tables.metadata.create_all(engine)
        with writing(engine) as conn:
            _ensure_options(conn, tables)
            if conn.execute(sa.select(sa.func.count()).select_from(tables.staff)).scalar():
                return
            _seed(conn, tables, (now or datetime.now(UTC)).astimezone(UTC))
        log.info("seeded the Bookly demo site (prefix %s)", table_prefix)
    finally:
        if not isinstance(url, sa.Engine):
            engine.dispose()


def _ensure_options(conn: sa.Connection, t: BooklyTables) -> None:
    present = set(conn.execute(sa.select(t.options.c.option_name)).scalars())
    for name, value in DEMO_OPTIONS.items():
        if name not in present:
            conn.execute(sa.insert(t.options).values(option_name=name, option_value=value))


def _seed(conn: sa.Connection, t: BooklyTables, now: datetime) -> None:
    site = LocalZone.named(SITE_ZONE)
    stamp = site.to_local(now).replace(microsecond=0)
    for kind, active in (("appointment_reminder", 1), ("last_appointment", 0)):
        conn.execute(sa.insert(t.notifications).values(
            type=kind, active=active, name=kind.replace("_", " ").title(), to_customer=1,
        ))  # fmt: skip
    staff_ids = [_seed_staff(conn, t, i, person) for i, person in enumerate(STAFF)]
    service_ids = []
    for title, minutes, left, right, price, offered_by in SERVICES:
        service_id = new_id(conn.execute(sa.insert(t.services).values(
            title=title, duration=minutes * 60, padding_left=left, padding_right=right,
            price=Decimal(price),
        )))  # fmt: skip
        service_ids.append(service_id)
        for index in offered_by:
            conn.execute(sa.insert(t.staff_services).values(
                staff_id=staff_ids[index], service_id=service_id, price=Decimal(price),
            ))  # fmt: skip
    _seed_holidays(conn, t, staff_ids, now)
    customer_ids = [
        new_id(conn.execute(sa.insert(t.customers).values(
            full_name=name, first_name=name.split()[0], last_name=name.split()[1], email=email,
            notes="", info_fields="[]", created_at=stamp,
        )))
        for name, email in CUSTOMERS
    ]  # fmt: skip
    for n, (who, what, days, hour, status) in enumerate(APPOINTMENTS):
        start = _staff_start(STAFF[who], now, days, hour)
        end = start + timedelta(minutes=SERVICES[what][1])
        _seed_appointment(conn, t, site, stamp, n, (staff_ids[who], service_ids[what]),
                          (start, end), customer_ids[n % len(customer_ids)], status)  # fmt: skip
    block_start = _staff_start(STAFF[0], now, 4, 13)
    conn.execute(sa.insert(t.appointments).values(
        staff_id=staff_ids[0], service_id=None, custom_service_name="Busy",
        start_date=site.to_local(block_start), end_date=site.to_local(block_start + 2 * H),
        created_from="bookly", created_at=stamp, updated_at=stamp,
    ))  # fmt: skip


def _seed_staff(conn: sa.Connection, t: BooklyTables, position: int, person: DemoStaff) -> int:
    staff_id = new_id(conn.execute(sa.insert(t.staff).values(
        full_name=person.full_name, email=person.email, phone=f"+49 30 555 010{position}",
        time_zone=person.time_zone, visibility="public", position=position,
        color=("#3f7fbf", "#bf3f7f", "#7fbf3f")[position],
        icalendar_token=hashlib.md5(person.email.encode(), usedforsecurity=False).hexdigest(),
    )))  # fmt: skip
    for day_index in range(1, 8):
        start, end = person.hours.get(day_index, (None, None))
        item_id = new_id(conn.execute(sa.insert(t.schedule_items).values(
            staff_id=staff_id, day_index=day_index, start_time=start, end_time=end,
        )))  # fmt: skip
        if start is not None and person.lunch is not None:
            conn.execute(sa.insert(t.schedule_breaks).values(
                staff_schedule_item_id=item_id, start_time=person.lunch[0],
                end_time=person.lunch[1],
            ))  # fmt: skip
    return staff_id


def _seed_holidays(
    conn: sa.Connection, t: BooklyTables, staff_ids: list[int], now: datetime
) -> None:
    company = new_id(conn.execute(
        sa.insert(t.holidays).values(staff_id=None, date=date(2000, 12, 25), repeat_event=1)
    ))  # fmt: skip
    for staff_id in staff_ids:
        conn.execute(sa.insert(t.holidays).values(
            staff_id=staff_id, parent_id=company, date=date(2000, 12, 25), repeat_event=1,
        ))  # fmt: skip
    conn.execute(sa.insert(t.holidays).values(
        staff_id=staff_ids[1], date=(now + timedelta(days=10)).date(), repeat_event=0,
    ))  # fmt: skip


def _staff_start(person: DemoStaff, now: datetime, days: int, hour: int) -> datetime:
    """The first working day at or after now+days, at ``hour`` in the staff member's zone."""
    zone = LocalZone.named(person.time_zone)
    day = zone.to_local(now).date() + timedelta(days=days)
    while day.isoweekday() % 7 + 1 not in person.hours:
        day += timedelta(days=1)
    return zone.to_utc(datetime.combine(day, time(hour)))


def _seed_appointment(
    conn: sa.Connection,
    t: BooklyTables,
    site: LocalZone,
    stamp: datetime,
    n: int,
    ids: tuple[int, int],
    span: tuple[datetime, datetime],
    customer_id: int,
    status: str,
) -> None:
    """An appointment as Bookly's front end writes it, with its log rows."""
    appointment_id = new_id(conn.execute(sa.insert(t.appointments).values(
        staff_id=ids[0], service_id=ids[1], start_date=site.to_local(span[0]),
        end_date=site.to_local(span[1]), created_from="bookly", created_at=stamp,
        updated_at=stamp,
    )))  # fmt: skip
    ca_id = new_id(conn.execute(sa.insert(t.customer_appointments).values(
        customer_id=customer_id, appointment_id=appointment_id, notes="", extras="[]",
        custom_fields="[]", status=status, status_changed_at=stamp,
        token=hashlib.md5(f"demo-{n}".encode(), usedforsecurity=False).hexdigest(),
        created_from="frontend", created_at=stamp, updated_at=stamp,
    )))  # fmt: skip
    for table, target in ((t.appointments, appointment_id), (t.customer_appointments, ca_id)):
        conn.execute(sa.insert(t.log).values(
            action="create", target=table.name, target_id=target, author="Demo seed",
            details="{}", created_at=stamp,
        ))  # fmt: skip

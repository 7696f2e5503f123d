"""``BooklyGateway``: the one object other packages use to read and write Bookly's tables."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime

import sqlalchemy as sa

from bookly_client.connection import make_engine
from bookly_client.gateway import (
    amend,
    availability,
    blocks,
    bookings,
    changes,
    compat,
    erasure,
    reads,
)
from bookly_client.gateway.context import GatewayContext, utc_now
from bookly_client.models import (
    Appointment,
    AvailabilityData,
    Booking,
    BusyBlock,
    ChangeBatch,
    CompatibilityReport,
    CustomerDetails,
    Reconciliation,
    Service,
    SlotRules,
    StaffMember,
    StaffSchedule,
    TimeWindow,
)
from bookly_client.tables import build_tables

log = logging.getLogger(__name__)


class BooklyGateway:
    """Typed access to Bookly's tables; every write is one transaction with the staff row locked.

    Writes (and look-ups by booking reference) need ``token_secret``: customer-appointment
    tokens are derived from it, and Bookly shows them in public cancel links. Without it every
    write raises MissingTokenKey before touching the database.
    """

    def __init__(
        self,
        engine_or_url: sa.Engine | str,
        *,
        table_prefix: str = "wp_",
        clock: Callable[[], datetime] = utc_now,
        token_secret: bytes | str | None = None,
        write_log: bool = True,
    ) -> None:
        key = token_secret.encode() if isinstance(token_secret, str) else token_secret
        if not key:
            log.info("no token_secret configured: the Bookly gateway refuses to write")
        self._ctx = GatewayContext(
            engine=make_engine(engine_or_url),
            tables=build_tables(table_prefix),
            clock=clock,
            token_key=key or None,
            write_log=write_log,
        )

    @property
    def engine(self) -> sa.Engine:
        """The SQLAlchemy engine in use."""
        return self._ctx.engine

    @property
    def table_prefix(self) -> str:
        """The WordPress table prefix."""
        return self._ctx.tables.prefix

    def check_compatibility(
        self, managed_staff_ids: Iterable[int] | None = None
    ) -> CompatibilityReport:
        """Start-up check; raises IncompatibleSchema, warns about Bookly's own calendar sync."""
        return compat.check_compatibility(self._ctx, managed_staff_ids)

    def list_staff(self, *, include_archived: bool = False) -> list[StaffMember]:
        """Staff members (not archived unless asked)."""
        return reads.list_staff(self._ctx, include_archived=include_archived)

    def list_services(self, *, staff_id: int | None = None) -> list[Service]:
        """Services with offering staff, price, duration and padding."""
        return reads.list_services(self._ctx, staff_id=staff_id)

    def get_schedule(self, staff_id: int) -> StaffSchedule:
        """Weekly hours (day_index 1 = Sunday), breaks and days off of a staff member."""
        return reads.get_schedule(self._ctx, staff_id)

    def working_periods(self, staff_id: int, start: datetime, end: datetime) -> list[TimeWindow]:
        """Working time in ``[start, end)`` in UTC (hours minus breaks, days off removed)."""
        return reads.working_periods(self._ctx, staff_id, start, end)

    def list_appointments(
        self, start: datetime, end: datetime, *, staff_ids: Sequence[int] | None = None
    ) -> list[Appointment]:
        """Appointments overlapping the window, classified busy/free the way Bookly does."""
        return reads.list_appointments(self._ctx, start, end, staff_ids=staff_ids)

    def appointments_by_id(self, ids: Sequence[int]) -> dict[int, Appointment]:
        """The appointments with these ids that still exist, by id (deleted ones absent)."""
        return reads.appointments_by_id(self._ctx, ids)

    def availability_data(
        self,
        service_id: int,
        start: datetime,
        end: datetime,
        *,
        staff_ids: Sequence[int] | None = None,
    ) -> AvailabilityData:
        """Slot rules, hours, days off and busy time for the staff offering a service (one read)."""
        return availability.read_availability(
            self._ctx, service_id, start, end, staff_ids=staff_ids
        )

    def slot_rules(self, service_id: int) -> SlotRules:
        """How Bookly cuts a service into slots (grid, paddings, notice, horizon)."""
        return availability.read_slot_rules(self._ctx, service_id)

    def now(self) -> datetime:
        """The gateway's clock (aware UTC): what "now" is for notice and horizon."""
        return self._ctx.now()

    def create_booking(
        self,
        *,
        reference: str,
        staff_id: int,
        service_id: int,
        start: datetime,
        customer: CustomerDetails,
        status: str = "approved",
        notes: str | None = None,
        enforce_working_hours: bool = True,
    ) -> Booking:
        """Book a slot; the same reference again returns the existing booking."""
        request = bookings.BookingRequest(
            reference, staff_id, service_id, start, customer, status, notes, enforce_working_hours
        )
        return bookings.create_booking(self._ctx.writable(), request)

    def find_booking_by_reference(self, reference: str) -> Booking | None:
        """The booking created with ``reference``, or None."""
        return bookings.find_booking_by_reference(self._ctx, reference)

    def cancel_booking(self, reference: str) -> Appointment:
        """Cancel our booking (its customer row becomes ``cancelled``)."""
        return amend.cancel(self._ctx.writable(), reference=reference)

    def cancel_appointment(self, appointment_id: int) -> Appointment:
        """Cancel every busy customer row of an appointment named explicitly (any origin)."""
        return amend.cancel(self._ctx.writable(), appointment_id=appointment_id)

    def reschedule_booking(
        self, reference: str, new_start: datetime, *, enforce_working_hours: bool = True
    ) -> Appointment:
        """Move our booking, keeping its duration."""
        return amend.reschedule(
            self._ctx.writable(),
            new_start,
            reference=reference,
            enforce_working_hours=enforce_working_hours,
        )

    def reschedule_appointment(
        self, appointment_id: int, new_start: datetime, *, enforce_working_hours: bool = True
    ) -> Appointment:
        """Move an appointment named explicitly (any origin), keeping its duration."""
        return amend.reschedule(
            self._ctx.writable(),
            new_start,
            appointment_id=appointment_id,
            enforce_working_hours=enforce_working_hours,
        )

    def create_busy_block(
        self, staff_id: int, start: datetime, end: datetime, *, label: str = "Busy"
    ) -> BusyBlock:
        """Block time for a staff member (no service, no customer, created_from 'bookly')."""
        return blocks.create_busy_block(self._ctx.writable(), staff_id, start, end, label=label)

    def move_busy_block(
        self, block_id: int, start: datetime, end: datetime, *, allow_foreign: bool = False
    ) -> BusyBlock:
        """Change a busy block's times; foreign blocks only with ``allow_foreign``."""
        return blocks.move_busy_block(
            self._ctx.writable(), block_id, start, end, allow_foreign=allow_foreign
        )

    def delete_busy_block(self, block_id: int, *, allow_foreign: bool = False) -> bool:
        """Delete a busy block; False when already gone."""
        return blocks.delete_busy_block(self._ctx.writable(), block_id, allow_foreign=allow_foreign)

    def list_busy_blocks(
        self,
        start: datetime,
        end: datetime,
        *,
        staff_ids: Sequence[int] | None = None,
        only_ours: bool = True,
    ) -> list[BusyBlock]:
        """Busy blocks overlapping the window (ours only by default)."""
        return blocks.list_busy_blocks(
            self._ctx, start, end, staff_ids=staff_ids, only_ours=only_ours
        )

    def anonymise_customers(self, references: Sequence[str]) -> int:
        """Erase the customers of these bookings of ours (GDPR); records changed."""
        return erasure.anonymise_customers(self._ctx.writable(), references)

    def changes_since(self, cursor: int, *, limit: int = 500) -> ChangeBatch:
        """Bookly log rows about appointments after ``cursor``."""
        return changes.changes_since(self._ctx, cursor, limit=limit)

    def latest_cursor(self) -> int:
        """The newest Bookly log id."""
        return changes.latest_cursor(self._ctx)

    def reconcile(
        self,
        known: Mapping[int, str],
        start: datetime,
        end: datetime,
        *,
        staff_ids: Sequence[int] | None = None,
    ) -> Reconciliation:
        """Diff stored fingerprints against the window; catches edits the log misses."""
        return changes.reconcile(self._ctx, known, start, end, staff_ids=staff_ids)

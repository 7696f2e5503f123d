"""Request and response schemas of /api/v1/bookings (pydantic; also the OpenAPI document)."""

from __future__ import annotations

from datetime import datetime

from pydantic import ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from webapp.views.api.schemas import ErrorDetail, RowId, Schema, Timestamp, TimeZoneName


class CustomerIn(Schema):
    """Who books."""

    name: str = Field(min_length=1, max_length=128, examples=["Kim Doe"])
    email: str = Field(min_length=3, max_length=254, examples=["kim@example.com"])
    phone: str | None = Field(default=None, max_length=32, examples=["+49 30 1234"])
    time_zone: TimeZoneName | None = Field(
        default=None, description="The customer's IANA time zone (for their invite)."
    )


class BookingCreate(Schema):
    """`POST /api/v1/bookings`: one slot of a service with one instructor."""

    service: RowId = Field(description="Bookly service id (see /api/v1/services).")
    instructor: RowId = Field(description="Instructor id (see /api/v1/instructors).")
    start: Timestamp = Field(description="A start offered by /api/v1/availability.")
    customer: CustomerIn
    note: str | None = Field(default=None, max_length=1000)


class RescheduleIn(Schema):
    """`POST /api/v1/bookings/{id}/reschedule`: the new start (same duration)."""

    start: Timestamp


class CustomerOut(Schema):
    """The customer of a booking."""

    name: str
    email: str


class BookingOut(Schema):
    """A booking and how far its delivery to the calendars got."""

    id: str = Field(description="The booking's id.")
    status: str = Field(description="`confirmed` or `cancelled`.")
    start: datetime
    end: datetime
    service: int
    instructor: int
    customer: CustomerOut
    delivery: str = Field(
        description="`calendar_event` (written into the instructor's calendar) or "
        "`emailed_invite` (Cronofy e-mails the instructor an invitation)."
    )
    delivery_state: str = Field(
        description="`pending`, `delivered`, or `failed` (calendar not updated; retried on "
        "request)."
    )
    schedule_only: bool = Field(
        description="True when no calendar could be checked: booked on the Bookly schedule alone."
    )


class BookingsQuery(Schema):
    """`GET /api/v1/bookings`: bookings starting in a window, optionally of one instructor."""

    model_config = ConfigDict(populate_by_name=True)

    instructor: RowId | None = Field(default=None)
    from_: Timestamp = Field(alias="from")
    to: Timestamp

    @field_validator("to")
    @classmethod
    def _after_from(cls, to: datetime, info: ValidationInfo) -> datetime:
        start = info.data.get("from_")
        if start is not None and to <= start:
            raise PydanticCustomError("window", "'to' must be after 'from'.")
        return to


class BookingsResponse(Schema):
    """Bookings, soonest first."""

    bookings: list[BookingOut]


class SlotOut(Schema):
    """A free start suggested instead of a taken one."""

    start: datetime
    end: datetime


class SlotTakenDetail(ErrorDetail):
    """`slot_taken`: the time is no longer free; ``next_slots`` are free ones after it."""

    next_slots: list[SlotOut] = Field(default_factory=list)


class SlotTakenResponse(Schema):
    """409 answer of a booking or a reschedule whose time was just taken."""

    error: SlotTakenDetail

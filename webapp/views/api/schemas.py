"""The JSON API's request and response schemas (pydantic).

These models are the single source of truth: spectree validates requests and responses with
them and generates the OpenAPI 3.1 document (``/api/openapi.json``) from them. Validation
messages are written for the person reading the error's ``fields``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from webapp.services.catalogue import CalendarState

ISO_EXAMPLE = "2026-12-07T09:00:00+01:00"


class Schema(BaseModel):
    """Base of every API schema: immutable, unknown fields refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")


# --- errors -------------------------------------------------------------------------------


class ErrorDetail(Schema):
    """What went wrong, for programs (code) and people (message, fields)."""

    code: str = Field(description="Stable machine-readable code, e.g. `validation_failed`.")
    message: str = Field(description="What went wrong and what to do about it.")
    fields: dict[str, str] = Field(
        default_factory=dict,
        description="Per request field (query parameter or body member): what is wrong with it.",
    )


class ErrorResponse(Schema):
    """The one error shape of every /api response that is not a success."""

    error: ErrorDetail


# --- shared field types -------------------------------------------------------------------

# Every id we and Bookly hand out fits a signed 32-bit column; a larger one names nothing
# (and SQLite cannot even bind it), so it is refused as invalid, not looked up.
MAX_ID = 2**31 - 1
RowId = Annotated[int, Field(gt=0, le=MAX_ID)]


def _parse_instructor(value: object) -> int | Literal["any"]:
    if value == "any":
        return "any"
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID:
        return value
    if isinstance(value, str) and value.isdigit() and 0 < int(value) <= MAX_ID:
        return int(value)
    raise PydanticCustomError(
        "instructor", "Give an instructor id (see /api/v1/instructors) or 'any'."
    )


InstructorChoice = Annotated[
    int | Literal["any"],
    PlainValidator(_parse_instructor, json_schema_input_type=RowId | Literal["any"]),
]


def _parse_time_zone(value: object) -> str:
    if isinstance(value, str) and value and value.isascii():
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            pass
        else:
            return value
    raise PydanticCustomError(
        "time_zone", "Give an IANA time zone name such as Europe/Berlin or UTC."
    )


TimeZoneName = Annotated[
    str,
    PlainValidator(_parse_time_zone, json_schema_input_type=str),
    Field(examples=["Europe/Berlin", "America/New_York", "UTC"]),
]
Timestamp = Annotated[AwareDatetime, Field(examples=[ISO_EXAMPLE])]


# --- catalogue ----------------------------------------------------------------------------


class InstructorOut(Schema):
    """An instructor of the key's organisation."""

    id: int
    name: str
    time_zone: str = Field(description="The instructor's IANA time zone.")
    calendar: CalendarState = Field(
        description=(
            "`connected`: availability checks the instructor's calendar. `schedule_only`: "
            "no usable calendar connection, so availability comes from the Bookly schedule "
            "alone (double-booking risk)."
        )
    )


class InstructorsResponse(Schema):
    """Every active instructor of the key's organisation."""

    instructors: list[InstructorOut]


class ServiceOut(Schema):
    """A Bookly service offered by at least one of the organisation's instructors."""

    id: int = Field(description="The Bookly service id.")
    title: str
    duration_minutes: int
    instructors: list[int] = Field(description="Ids of the instructors who offer it.")


class ServicesQuery(Schema):
    """`GET /api/v1/services`: optionally only the services one instructor offers."""

    instructor: RowId | None = Field(
        default=None, description="Only services this instructor offers."
    )


class ServicesResponse(Schema):
    """The services the organisation's instructors offer."""

    services: list[ServiceOut]


# --- availability -------------------------------------------------------------------------


class AvailabilityQuery(Schema):
    """`GET /api/v1/availability`: free slots of one instructor (or any) for a service."""

    model_config = ConfigDict(populate_by_name=True)

    service: RowId = Field(description="Bookly service id (see /api/v1/services).")
    instructor: InstructorChoice = Field(
        description="An instructor id, or `any` for every instructor who offers the service."
    )
    from_: Timestamp = Field(
        alias="from", description="Window start: ISO 8601 with an offset or Z."
    )
    to: Timestamp = Field(description="Window end, after `from`: ISO 8601 with an offset or Z.")
    tz: TimeZoneName = Field(default="UTC", description="IANA time zone the slots are given in.")

    @field_validator("to")
    @classmethod
    def _after_from(cls, to: datetime, info: ValidationInfo) -> datetime:
        start = info.data.get("from_")
        if start is not None and to <= start:
            raise PydanticCustomError("window", "'to' must be after 'from'.")
        return to


class SlotOut(Schema):
    """A bookable start, with who is free for it."""

    start: datetime = Field(description="ISO 8601 with the offset of `tz`.")
    end: datetime = Field(description="ISO 8601 with the offset of `tz`.")
    instructors: list[int] = Field(description="Ids of the instructors free for this slot.")


class ScheduleOnlyNotice(Schema):
    """Why one instructor's slots come from the Bookly schedule alone."""

    instructor: int
    reason: str = Field(
        description="`not_connected`, `needs_reconnect`, `revoked` or `calendar_unreachable`."
    )
    message: str = Field(
        examples=["schedule only: calendar not checked (no calendar is connected)"]
    )


class AvailabilityResponse(Schema):
    """Free slots in the window, and whose calendar was not checked, with why."""

    slots: list[SlotOut]
    schedule_only: list[int] = Field(
        description="Instructors whose calendar was not checked (Bookly schedule only)."
    )
    notices: list[ScheduleOnlyNotice] = Field(
        default_factory=list,
        description="Why each `schedule_only` instructor's calendar was not checked.",
    )

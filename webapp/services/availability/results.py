"""What availability answers, and the errors it raises."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from webapp.services.availability.slots import instant


class AvailabilityError(Exception):
    """Base of availability's errors."""


class InvalidAvailabilityRequest(AvailabilityError):
    """Bad input, field by field; nothing was computed or cached."""

    def __init__(self, fields: dict[str, str], *, not_found: bool = False) -> None:
        self.fields = fields
        self.not_found = not_found
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))


class AvailabilityUnavailable(AvailabilityError):
    """Bookly could not be read (not configured, or unreachable just now)."""


class ScheduleOnlyReason(StrEnum):
    """Why an instructor's calendar was not consulted."""

    NOT_CONNECTED = "not_connected"
    NEEDS_RECONNECT = "needs_reconnect"
    REVOKED = "revoked"
    CALENDAR_UNREACHABLE = "calendar_unreachable"

    @property
    def explanation(self) -> str:
        """Why, in words a person can act on."""
        return _EXPLANATIONS[self]


_EXPLANATIONS = {
    ScheduleOnlyReason.NOT_CONNECTED: "no calendar is connected",
    ScheduleOnlyReason.NEEDS_RECONNECT: "the calendar connection needs to be reconnected",
    ScheduleOnlyReason.REVOKED: "the calendar was disconnected",
    ScheduleOnlyReason.CALENDAR_UNREACHABLE: "Cronofy could not be reached just now",
}


@dataclass(frozen=True, slots=True)
class ScheduleOnly:
    """An instructor whose slots come from the Bookly schedule alone."""

    instructor_id: int
    reason: ScheduleOnlyReason

    @property
    def message(self) -> str:
        """The banner text: schedule only, and why."""
        return f"schedule only: calendar not checked ({self.reason.explanation})"


@dataclass(frozen=True, slots=True)
class Slot:
    """A bookable start (aware UTC) and the instructors free for it."""

    start: datetime
    end: datetime
    instructor_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class AvailabilityView:
    """The slots of one service for some instructors in a window."""

    service_id: int
    window_start: datetime
    window_end: datetime
    instructor_ids: tuple[int, ...]
    slots: tuple[Slot, ...]
    schedule_only: tuple[ScheduleOnly, ...]
    from_cache: bool = False

    def to_payload(self) -> dict[str, Any]:
        """JSON-safe form for the cache."""
        return {
            "slots": [
                [int(s.start.timestamp()), int(s.end.timestamp()), list(s.instructor_ids)]
                for s in self.slots
            ],
            "schedule_only": [[s.instructor_id, s.reason.value] for s in self.schedule_only],
        }

    @classmethod
    def from_payload(
        cls,
        payload: dict[str, Any],
        *,
        service_id: int,
        window: tuple[datetime, datetime],
        instructor_ids: tuple[int, ...],
    ) -> AvailabilityView:
        """Rebuild a cached view."""
        return cls(
            service_id=service_id,
            window_start=window[0],
            window_end=window[1],
            instructor_ids=instructor_ids,
            slots=tuple(
                Slot(instant(start), instant(end), tuple(who))
                for start, end, who in payload["slots"]
            ),
            schedule_only=tuple(
                ScheduleOnly(i, ScheduleOnlyReason(reason))
                for i, reason in payload["schedule_only"]
            ),
            from_cache=True,
        )

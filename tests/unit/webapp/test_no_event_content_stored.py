"""Privacy by schema (reliability requirement 25, third point): no table of ours can hold an
event's title, description, location or attendees, in any access mode. Busy time is stored
as start and end only; bookings hold the customer's own details, which they gave us."""

from __future__ import annotations

import re

import pytest

from webapp.models import Base

EVENT_CONTENT = re.compile(r"summary|description|title|attendee|location|organizer|subject")


@pytest.mark.requirement(25)
def test_no_column_can_hold_event_content() -> None:
    columns = [
        f"{table.name}.{column.name}"
        for table in Base.metadata.sorted_tables
        for column in table.columns
    ]
    assert len(columns) > 50  # the models were loaded
    assert [name for name in columns if EVENT_CONTENT.search(name)] == []


@pytest.mark.requirement(25)
def test_busy_blocks_keep_times_only() -> None:
    busy = Base.metadata.tables["busy_blocks"]
    assert set(busy.columns.keys()) == {
        "id", "connection_id", "starts_at", "ends_at", "bookly_appointment_id",
        "created_at", "updated_at",
    }  # fmt: skip

"""The API's query schemas: what they accept, and the field messages a caller reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from webapp.views.api.openapi import field_messages
from webapp.views.api.schemas import AvailabilityQuery

GOOD = {
    "service": "3",
    "instructor": "7",
    "from": "2026-12-07T09:00:00+01:00",
    "to": "2026-12-14T00:00:00Z",
    "tz": "Europe/Berlin",
}


def _fields(**changes: str | None) -> dict[str, str]:
    query = {k: v for k, v in {**GOOD, **changes}.items() if v is not None}
    with pytest.raises(ValidationError) as caught:
        AvailabilityQuery.model_validate(query)
    return field_messages(caught.value)


def test_a_good_query_is_parsed_to_aware_datetimes() -> None:
    query = AvailabilityQuery.model_validate(GOOD)
    assert query.service == 3
    assert query.instructor == 7
    assert query.from_ == datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
    assert query.from_.utcoffset() == timedelta(hours=1)
    assert query.to == datetime(2026, 12, 14, tzinfo=UTC)
    assert query.tz == "Europe/Berlin"


def test_any_instructor_and_the_default_zone() -> None:
    without_tz = {k: v for k, v in GOOD.items() if k != "tz"}
    query = AvailabilityQuery.model_validate({**without_tz, "instructor": "any"})
    assert query.instructor == "any"
    assert query.tz == "UTC"


def test_offsets_other_than_utc_are_kept() -> None:
    query = AvailabilityQuery.model_validate({**GOOD, "from": "2026-12-07T09:00:00-05:00"})
    assert query.from_.utcoffset() == timedelta(hours=-5)


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"from": "2026-12-07T09:00:00"}, "from", "Needs a UTC offset or Z"),
        ({"to": "2026-12-14"}, "to", "Needs a UTC offset or Z"),
        ({"from": "next monday"}, "from", "ISO 8601"),
        ({"to": "2026-12-07T09:00:00+01:00"}, "to", "'to' must be after 'from'"),
        ({"to": "2026-12-01T00:00:00Z"}, "to", "'to' must be after 'from'"),
        ({"tz": "Mars/Olympus_Mons"}, "tz", "IANA time zone"),
        ({"tz": "../../etc/passwd"}, "tz", "IANA time zone"),
        ({"instructor": "someone"}, "instructor", "instructor id"),
        ({"instructor": "-2"}, "instructor", "instructor id"),
        ({"service": "lesson"}, "service", "whole number"),
        ({"service": None}, "service", "Required"),
        ({"colour": "blue"}, "colour", "Not a field of this request"),
    ],
)
def test_bad_input_names_the_field_and_says_what_to_send(
    changes: dict[str, str | None], field: str, words: str
) -> None:
    fields = _fields(**changes)
    assert set(fields) == {field}
    assert words in fields[field]


def test_every_bad_field_is_reported_at_once() -> None:
    fields = _fields(**{"from": "2026-12-07T09:00:00", "tz": "Nowhere", "service": "0"})
    assert set(fields) == {"from", "tz", "service"}

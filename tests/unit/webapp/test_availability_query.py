"""The Cronofy query built from Bookly's starts, and its answer cut back onto them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bookly_client import SlotRules
from bookly_client.timezone import LocalZone
from cronofy_client import AvailabilityMember, AvailabilityQuery, AvailableInterval, Period
from webapp.services.availability.calendar_query import (
    CalendarMember,
    build_query,
    free_starts,
    start_interval,
)

T0 = int(datetime(2026, 11, 24, 8, 0, tzinfo=UTC).timestamp())
M = 60
RULES = SlotRules(
    service_id=1, duration=timedelta(hours=1), slot_length=timedelta(minutes=15),
    padding_before=timedelta(minutes=5), padding_after=timedelta(minutes=10),
    min_notice=timedelta(0), max_days=365, site_zone=LocalZone.named("Europe/Berlin"),
)  # fmt: skip


def at(minutes: int) -> datetime:
    return datetime.fromtimestamp(T0 + minutes * M, UTC)


def member(i: int, *minutes: int) -> CalendarMember:
    return CalendarMember(i, f"acc_{i}", (f"cal_{i}",), tuple(T0 + m * M for m in minutes))


def test_start_interval_is_the_grid_when_starts_sit_on_it() -> None:
    assert start_interval([member(1, 0, 15, 30)], RULES) == timedelta(minutes=15)


def test_start_interval_shrinks_so_every_bookly_start_is_a_cronofy_start() -> None:
    # A range starting at 09:10 puts Bookly's grid at :10/:25/:40/:55.
    assert start_interval([member(1, 10, 25), member(2, 0, 15)], RULES) == timedelta(minutes=5)


def test_one_instructor_asks_for_periods_with_buffer_and_duration() -> None:
    query = build_query([member(1, 0, 15, 30, 120)], RULES)
    body = query.to_json(query.query_periods)
    assert body is not None
    assert body["response_format"] == "periods"
    assert body["query_periods"] == [
        {"start": "2026-11-24T08:00:00Z", "end": "2026-11-24T09:30:00Z"},
        {"start": "2026-11-24T10:00:00Z", "end": "2026-11-24T11:00:00Z"},
    ]
    assert body["buffer"] == {"before": {"minutes": 5}, "after": {"minutes": 10}}
    assert body["required_duration"] == {"minutes": 60}
    assert body["participants"] == [
        {"members": [{"sub": "acc_1", "calendar_ids": ["cal_1"]}], "required": "all"}
    ]


def test_any_instructor_gives_each_member_their_own_periods() -> None:
    query = build_query([member(1, 0), member(2, 120)], RULES)
    body = query.to_json(query.query_periods)
    assert body is not None
    assert body["response_format"] == "overlapping_slots"
    group = body["participants"][0]
    assert group["required"] == 1
    assert [m["available_periods"] for m in group["members"]] == [
        [{"start": "2026-11-24T08:00:00Z", "end": "2026-11-24T09:00:00Z"}],
        [{"start": "2026-11-24T10:00:00Z", "end": "2026-11-24T11:00:00Z"}],
    ]
    assert len(body["query_periods"]) == 2


def test_a_period_answer_confirms_only_starts_whose_whole_slot_fits() -> None:
    only = member(1, 0, 15, 30)
    answer = [AvailableInterval(at(0), at(75), ("acc_1",))]
    assert free_starts([only], answer, RULES.duration) == {1: {T0, T0 + 15 * M}}


def test_a_slot_answer_lists_who_is_free_among_those_bookly_offers() -> None:
    a, b = member(1, 0, 15), member(2, 15)
    answer = [
        AvailableInterval(at(0), at(60), ("acc_1", "acc_2")),  # acc_2 has no Bookly start at 0
        AvailableInterval(at(15), at(75), ("acc_1", "acc_2")),
        AvailableInterval(at(5), at(65), ("acc_1",)),  # not a Bookly start at all
    ]
    assert free_starts([a, b], answer, RULES.duration) == {1: {T0, T0 + 15 * M}, 2: {T0 + 15 * M}}


def test_a_split_request_clips_member_periods_and_skips_hopeless_parts() -> None:
    own = (Period(at(0), at(60)),)
    query = AvailabilityQuery(
        required_duration=timedelta(hours=1),
        query_periods=(Period(at(0), at(60)), Period(at(2000), at(2060))),
        members=(AvailabilityMember("acc_1", available_periods=own),),
        required=1,
    )
    first = query.to_json((Period(at(0), at(60)),))
    assert first is not None
    assert first["participants"][0]["members"][0]["available_periods"] == [
        {"start": "2026-11-24T08:00:00Z", "end": "2026-11-24T09:00:00Z"}
    ]
    assert query.to_json((Period(at(2000), at(2060)),)) is None

"""The availability algorithm against a brute-force minute-grid oracle (Hypothesis)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cronofy_sandbox.availability import Group, Member, Query, solve

M = 60  # the oracle works in minutes; the algorithm in seconds
HORIZON = 240


def ranges(max_count: int, min_count: int = 0) -> st.SearchStrategy[list[tuple[int, int]]]:
    pair = st.tuples(st.integers(0, HORIZON - 1), st.integers(1, 90)).map(
        lambda p: (p[0], min(HORIZON, p[0] + p[1]))
    )
    return st.lists(pair, min_size=min_count, max_size=max_count)


@st.composite
def scenarios(draw):
    query = draw(ranges(3, 1))
    members = []
    for index in range(draw(st.integers(1, 3))):
        own = draw(st.one_of(st.none(), ranges(2, 1)))
        members.append((f"acc_{index}", own, draw(ranges(4))))
    required = draw(st.one_of(st.none(), st.integers(1, len(members))))
    q = Query(
        duration=draw(st.sampled_from([15, 30, 45, 60])) * M,
        before=draw(st.sampled_from([0, 5, 15])) * M,
        after=draw(st.sampled_from([0, 10, 15])) * M,
        interval=draw(st.sampled_from([None, 5, 15, 30])),
        response_format=draw(st.sampled_from(["periods", "slots", "overlapping_slots"])),
        max_results=512,
    )
    if q.interval is not None:
        q = Query(q.duration, q.before, q.after, q.interval * M, q.response_format, q.max_results)
    return query, members, required, q


def covered(minute, rs):
    return any(lo <= minute < hi for lo, hi in rs)


def oracle_valid(start, query, members, required, q):
    """Is the slot starting at `start` (minutes) available? Checked minute by minute."""
    d, before, after = q.duration // M, q.before // M, q.after // M

    def member_ok(own, busy):
        inside = all(
            covered(t, query) and (own is None or covered(t, own)) for t in range(start, start + d)
        )
        clear = not any(covered(t, busy) for t in range(start - before, start + d + after))
        return inside and clear

    ok = sum(member_ok(own, busy) for _, own, busy in members)
    return ok >= (len(members) if required is None else required)


def build(query, members, required):
    def sec(rs):
        return tuple((lo * M, hi * M) for lo, hi in rs)

    group_members = []
    for sub, own, busy in members:
        free = (
            sec(query)
            if own is None
            else tuple(
                (max(a, c) * M, min(b, e) * M)
                for a, b in query
                for c, e in own
                if max(a, c) < min(b, e)
            )
        )
        group_members.append(Member(sub, free, sec(busy)))
    return [Group(tuple(group_members), required)]


@settings(max_examples=100, deadline=None)
@given(scenarios())
def test_matches_minute_grid_oracle(scenario):
    query, members, required, q = scenario
    found = solve(build(query, members, required), q)
    d = q.duration // M
    step = (q.interval or (15 * M if q.response_format != "periods" else M)) // M
    aligned_valid = [
        s
        for s in range(0, HORIZON)
        if s % step == 0 and oracle_valid(s, query, members, required, q)
    ]
    for item in found:
        assert item.start % M == 0
        assert item.end % M == 0
        lo, hi = item.start // M, item.end // M
        # Every slot of the duration inside what was returned is available (no busy overlap,
        # buffers clear, inside the available periods).
        for s in range(lo, hi - d + 1):
            assert oracle_valid(s, query, members, required, q), (item, s)
    if q.response_format == "overlapping_slots":
        assert [i.start // M for i in found] == aligned_valid
    elif q.response_format == "slots":
        greedy, last_end = [], None
        for s in aligned_valid:
            if last_end is None or s >= last_end:
                greedy.append(s)
                last_end = s + d
        assert [i.start // M for i in found] == greedy
        assert all(i.end - i.start == q.duration for i in found)
    else:
        # Nothing missed: every available aligned slot lies inside some returned period.
        for s in aligned_valid:
            assert any(i.start // M <= s and s + d <= i.end // M for i in found), s
        assert all(i.end - i.start >= q.duration for i in found)


def test_required_one_of_two_members_lists_the_free_one():
    busy = Member("acc_b", ((0, 3600),), ((0, 3600),))
    free = Member("acc_f", ((0, 3600),), ())
    found = solve(
        [Group((busy, free), 1)], Query(duration=1800, response_format="slots", interval=1800)
    )
    assert [(a.start, a.end, a.subs) for a in found] == [
        (0, 1800, ("acc_f",)),
        (1800, 3600, ("acc_f",)),
    ]


def test_max_results_truncates():
    member = Member("acc_a", ((0, 6 * 3600),), ())
    found = solve(
        [Group((member,))],
        Query(duration=1800, response_format="overlapping_slots", interval=900, max_results=3),
    )
    assert [a.start for a in found] == [0, 900, 1800]

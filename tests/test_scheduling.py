"""Posting-time selection: preferred times, gaps, lead time and DST edges."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from borker.scheduling import PostingPolicy, local_to_utc, pick_time

UTC = timezone.utc


def policy(zone: str = "UTC", **overrides: object) -> PostingPolicy:
    values: dict[str, object] = {
        "zone": ZoneInfo(zone),
        "weekdays": frozenset(range(5)),
        "times": (time(9), time(12), time(15)),
        "min_gap": timedelta(minutes=60),
        "lead": timedelta(minutes=20),
    }
    values.update(overrides)
    return PostingPolicy(**values)  # type: ignore[arg-type]


def test_first_free_time_today() -> None:
    now = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)  # a Monday
    assert pick_time(policy(), now=now, taken=[]) == datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def test_lead_time_skips_imminent_slot() -> None:
    now = datetime(2026, 12, 7, 8, 50, tzinfo=UTC)
    assert pick_time(policy(), now=now, taken=[]) == datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def test_gap_skips_taken_slot() -> None:
    now = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
    taken = [datetime(2026, 12, 7, 9, 30, tzinfo=UTC)]
    assert pick_time(policy(), now=now, taken=taken) == datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def test_weekend_rolls_to_monday() -> None:
    now = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)  # a Saturday
    assert pick_time(policy(), now=now, taken=[]) == datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def test_local_times_in_workspace_zone() -> None:
    now = datetime(2026, 12, 7, 0, 0, tzinfo=UTC)
    picked = pick_time(policy("America/New_York"), now=now, taken=[])
    assert picked == datetime(2026, 12, 7, 14, 0, tzinfo=UTC)  # 09:00 EST


@pytest.mark.parametrize(
    ("zone", "day", "wall", "expected_utc"),
    [
        # Spring forward: 02:30 does not exist in Berlin; the first valid minute is 03:00 CEST.
        ("Europe/Berlin", date(2026, 3, 29), time(2, 30), datetime(2026, 3, 29, 1, 0, tzinfo=UTC)),
        # Fall back: 01:30 happens twice in New York; the first occurrence is EDT.
        ("America/New_York", date(2026, 11, 1), time(1, 30), datetime(2026, 11, 1, 5, 30, tzinfo=UTC)),
        # Lord Howe moves by 30 minutes: 02:15 does not exist on 2026-10-04.
        ("Australia/Lord_Howe", date(2026, 10, 4), time(2, 15), datetime(2026, 10, 3, 15, 30, tzinfo=UTC)),
    ],
)
def test_dst_edges(zone: str, day: date, wall: time, expected_utc: datetime) -> None:
    assert local_to_utc(day, wall, ZoneInfo(zone)) == expected_utc


@settings(max_examples=60, deadline=None)
@given(
    start=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)),
    taken_offsets=st.lists(st.integers(min_value=0, max_value=14 * 24 * 60), max_size=12),
)
def test_picked_time_respects_rules(start: datetime, taken_offsets: list[int]) -> None:
    rules = policy("Europe/Berlin")
    taken = [start + timedelta(minutes=offset) for offset in taken_offsets]
    picked = pick_time(rules, now=start, taken=taken)
    assert picked >= start + rules.lead
    assert all(abs(picked - other) >= rules.min_gap for other in taken)
    local = picked.astimezone(rules.zone)
    assert local.weekday() in rules.weekdays
    assert local.time().replace(tzinfo=None) in rules.times
    assert pick_time(rules, now=start, taken=taken) == picked

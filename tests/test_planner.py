"""Posting-time planner: hard constraints, scoring, overflow, minute offsets and DST edges."""

from __future__ import annotations

import io
import random
import struct
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from borker.models import Platform
from borker.planner import (
    Busy,
    Planned,
    PlannerConfig,
    PlanRequest,
    PlatformRules,
    Unplanned,
    WeightTable,
    default_platform_rules,
    default_weights,
    minute_offset,
    plan,
)
from borker.scheduling import local_to_utc

DAY = timedelta(days=1)
FLAT = WeightTable(weights=((1.0,) * 24,) * 7, source="flat test table")
ZERO = WeightTable(weights=((0.0,) * 24,) * 7, source="all-zero test table")


def config(zone: str = "UTC", **overrides: object) -> PlannerConfig:
    """Build a config with flat weights and loose spacing unless a test overrides them."""
    loose = PlatformRules(min_gap=timedelta(0), daily_cap=100)
    values: dict[str, object] = {
        "zone": ZoneInfo(zone),
        "weekdays": frozenset(range(7)),
        "windows": (),
        "platforms": {platform: loose for platform in Platform},
        "weights": {platform: FLAT for platform in Platform},
        "global_gap": timedelta(minutes=1),
        "lead": timedelta(0),
    }
    values.update(overrides)
    return PlannerConfig(**values)  # type: ignore[arg-type]


def posix_zone(rule: str, standard_offset: timedelta) -> ZoneInfo:
    """Build a zone from a POSIX TZ rule, for offsets and change times that no tzdata zone uses today."""

    def header() -> bytes:
        # TZif version 2 with no transitions and one local time type named "ODD".
        return b"TZif2" + b"\0" * 15 + struct.pack(">6l", 0, 0, 0, 0, 1, 4)

    local_type = struct.pack(">lBB", int(standard_offset.total_seconds()), 0, 0) + b"ODD\0"
    data = header() + local_type + header() + local_type + b"\n" + rule.encode() + b"\n"
    return ZoneInfo.from_file(io.BytesIO(data), key="Test/Odd")


# UTC+00:07, and UTC+01:07 from the last Sunday of March to the last Sunday of October.
ODD_ZONE = posix_zone("ODD-0:07ODDS-1:07,M3.5.0/2,M10.5.0/3", timedelta(minutes=7))


def ids_with_offset(offset: int, grid_minutes: int, count: int) -> list[int]:
    ids = [item_id for item_id in range(10_000) if minute_offset(item_id, grid_minutes) == offset]
    return ids[:count]


def requests_for(item_ids: Sequence[int], platform: Platform = Platform.X, channel: str = "brand") -> list[PlanRequest]:
    return [PlanRequest(item_id=item_id, platform=platform, channel=channel) for item_id in item_ids]


def planned_times(results: Sequence[Planned | Unplanned]) -> list[datetime]:
    return [result.at for result in results if isinstance(result, Planned)]


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


# Defaults


def test_default_x_weights() -> None:
    table = default_weights()[Platform.X]
    assert table.weight(1, 10) == 1.0  # Tuesday 10:00
    assert table.weight(0, 9) == 0.9
    assert table.weight(4, 16) == 0.65
    assert table.weight(6, 15) == 0.45
    assert table.weight(2, 3) == 0.0  # quiet hours 00-06
    assert table.zone is None
    assert table.source.startswith("prior:")


def test_default_linkedin_weights() -> None:
    table = default_weights()[Platform.LINKEDIN]
    assert table.weight(2, 11) == 1.0  # Wednesday 11:00
    assert table.weight(3, 9) == 0.95
    assert table.weight(4, 18) == 0.2
    assert table.weight(5, 10) == 0.15
    assert table.weight(0, 6) == 0.0
    assert table.weight(1, 23) == 0.1
    assert table.source.startswith("prior:")


def test_default_farcaster_weights() -> None:
    table = default_weights()[Platform.FARCASTER]
    assert table.zone == ZoneInfo("UTC")
    assert table.source.startswith("heuristic")
    assert [table.weight(0, hour) for hour in (13, 16, 17, 20, 9, 12, 21, 0, 1, 8)] == [
        1.0, 1.0, 0.8, 0.8, 0.6, 0.6, 0.5, 0.5, 0.1, 0.1,
    ]
    assert [table.weight(5, hour) for hour in (14, 18, 10, 22, 3)] == [0.7, 0.56, 0.42, 0.35, 0.07]
    assert table.weights[6] == table.weights[5]


def test_default_platform_rules() -> None:
    rules = default_platform_rules()
    assert rules[Platform.X] == PlatformRules(min_gap=timedelta(minutes=60), daily_cap=8)
    assert rules[Platform.LINKEDIN] == PlatformRules(min_gap=timedelta(hours=20), daily_cap=1)
    assert rules[Platform.FARCASTER] == PlatformRules(min_gap=timedelta(minutes=120), daily_cap=6)


# Configuration checks


def test_config_rejects_grid_10() -> None:
    with pytest.raises(ValueError, match="grid_minutes must be 5 or 15"):
        config(grid_minutes=10)


def test_config_rejects_empty_weekdays() -> None:
    with pytest.raises(ValueError, match="weekdays is empty"):
        config(weekdays=frozenset())


def test_config_rejects_reversed_window() -> None:
    with pytest.raises(ValueError, match="ends before it starts"):
        config(windows=((time(18), time(9)),))


def test_config_rejects_window_off_grid() -> None:
    with pytest.raises(ValueError, match="contain no time on the 15-minute grid"):
        config(windows=((time(9, 1), time(9, 14)),))


def test_window_ending_at_midnight() -> None:
    results = plan(
        requests_for(ids_with_offset(0, 15, 1)),
        busy=[],
        config=config(windows=((time(23, 30), time(0)),), horizon_days=1, max_weeks=1),
        now=utc(2026, 12, 7, 12),
    )
    assert planned_times(results) == [utc(2026, 12, 7, 23, 30)]


def test_weight_table_rejects_bad_shape() -> None:
    with pytest.raises(ValueError, match="7 weekday rows of 24 hours"):
        WeightTable(weights=((1.0,) * 24,) * 6, source="short")


def test_weight_table_rejects_value_above_one() -> None:
    with pytest.raises(ValueError, match="use a value from 0 to 1"):
        WeightTable(weights=((1.5,) * 24,) * 7, source="too high")


def test_plan_rejects_naive_now() -> None:
    with pytest.raises(ValueError, match="now must be timezone-aware"):
        plan([], busy=[], config=config(), now=datetime(2026, 12, 7, 8))


def test_plan_rejects_naive_busy_time() -> None:
    busy = [Busy(at=datetime(2026, 12, 7, 9), platform=Platform.X, channel="brand")]
    with pytest.raises(ValueError, match="naive time"):
        plan(requests_for([1]), busy=busy, config=config(), now=utc(2026, 12, 7, 8))


def test_plan_rejects_unconfigured_platform() -> None:
    partial = config(platforms={Platform.X: PlatformRules(min_gap=timedelta(0), daily_cap=1)})
    with pytest.raises(ValueError, match="no posting rules or weight table configured for linkedin"):
        plan(requests_for([1], Platform.LINKEDIN), busy=[], config=partial, now=utc(2026, 12, 7, 8))


# Minute offsets


def test_minute_offset_range() -> None:
    for item_id in range(-50, 500):
        assert 0 <= minute_offset(item_id, 15) <= 9
        assert 0 <= minute_offset(item_id, 5) <= 4


def test_minute_offset_stable() -> None:
    # CRC-32 of "42" is 841265288, the same in every process and Python version.
    assert minute_offset(42, 15) == 8
    assert minute_offset(42, 5) == 3
    assert [minute_offset(item_id, 15) for item_id in (1, 2, 3)] == [3, 7, 1]


def test_minute_offset_spreads_items() -> None:
    offsets = Counter(minute_offset(item_id, 15) for item_id in range(1000))
    assert sorted(offsets) == list(range(10))


def test_planned_minute_is_grid_plus_offset() -> None:
    now = utc(2026, 12, 7, 8)
    for item_id in range(30):
        (result,) = plan(requests_for([item_id]), busy=[], config=config(), now=now)
        assert isinstance(result, Planned)
        assert result.at.minute % 15 == minute_offset(item_id, 15)


def test_rerun_picks_same_minute() -> None:
    now = utc(2026, 12, 7, 8)
    first = plan(requests_for(range(20)), busy=[], config=config(global_gap=timedelta(minutes=30)), now=now)
    second = plan(requests_for(range(20)), busy=[], config=config(global_gap=timedelta(minutes=30)), now=now)
    assert first == second


# Examples


def test_linkedin_prefers_tuesday_morning() -> None:
    defaults = config(
        "Europe/Berlin", platforms=default_platform_rules(), weights=default_weights(), lead=timedelta(minutes=20)
    )
    now = datetime(2026, 12, 10, 19, 30, tzinfo=ZoneInfo("Europe/Berlin"))  # Thursday evening
    (result,) = plan(requests_for([1], Platform.LINKEDIN), busy=[], config=defaults, now=now)
    assert isinstance(result, Planned)
    assert result.local.date() == date(2026, 12, 15)  # Tuesday, not Friday
    assert result.local.hour == 9
    assert result.local.minute == minute_offset(1, 15)


def test_linkedin_friday_evening_scores_lower() -> None:
    defaults = config(
        "Europe/Berlin", platforms=default_platform_rules(), weights=default_weights(), lead=timedelta(minutes=20)
    )
    now = datetime(2026, 12, 10, 19, 30, tzinfo=ZoneInfo("Europe/Berlin"))
    friday_evening = replace(defaults, weekdays=frozenset({4}), windows=((time(17), time(19)),))
    (tuesday,) = plan(requests_for([1], Platform.LINKEDIN), busy=[], config=defaults, now=now)
    (friday,) = plan(requests_for([1], Platform.LINKEDIN), busy=[], config=friday_evening, now=now)
    assert isinstance(tuesday, Planned)
    assert isinstance(friday, Planned)
    assert friday.local.weekday() == 4
    assert tuesday.score > friday.score


def test_x_overflows_to_next_week() -> None:
    rules = {**config().platforms, Platform.X: PlatformRules(min_gap=timedelta(minutes=60), daily_cap=1)}
    weights = {**config().weights, Platform.X: default_weights()[Platform.X]}
    results = plan(
        requests_for(range(10)),
        busy=[],
        config=config(platforms=rules, weights=weights, lead=timedelta(minutes=20)),
        now=utc(2026, 12, 7),  # Monday 00:00
    )
    weeks = [result.week for result in results if isinstance(result, Planned)]
    assert weeks == [0] * 7 + [1] * 3
    days = [result.local.date() for result in results if isinstance(result, Planned)]
    assert len(set(days)) == 10


def test_week_fills_before_overflow() -> None:
    # Week 0 has one slot per day, and a later week's better slot must not win over it.
    rules = {**config().platforms, Platform.X: PlatformRules(min_gap=timedelta(0), daily_cap=1)}
    results = plan(
        requests_for(range(3)),
        busy=[],
        config=config(platforms=rules, horizon_days=2, windows=((time(9), time(10)),)),
        now=utc(2026, 12, 7),
    )
    assert [result.week for result in results if isinstance(result, Planned)] == [0, 0, 1]


def test_busy_same_channel_keeps_min_gap() -> None:
    rules = {**config().platforms, Platform.X: PlatformRules(min_gap=timedelta(minutes=60), daily_cap=8)}
    busy = [Busy(at=utc(2026, 12, 7, 9, 30), platform=Platform.X, channel="brand")]
    item_id = ids_with_offset(0, 15, 1)[0]
    (result,) = plan(
        requests_for([item_id]),
        busy=busy,
        config=config(platforms=rules, global_gap=timedelta(minutes=30), windows=((time(9), time(12)),)),
        now=utc(2026, 12, 7, 8),
    )
    assert isinstance(result, Planned)
    assert result.at == utc(2026, 12, 7, 10, 30)


def test_busy_other_channel_keeps_global_gap() -> None:
    rules = {**config().platforms, Platform.X: PlatformRules(min_gap=timedelta(minutes=60), daily_cap=8)}
    busy = [Busy(at=utc(2026, 12, 7, 9, 30), platform=Platform.X, channel="brand")]
    item_id = ids_with_offset(0, 15, 1)[0]
    (result,) = plan(
        requests_for([item_id], channel="founder"),
        busy=busy,
        config=config(platforms=rules, global_gap=timedelta(minutes=30), windows=((time(9), time(12)),)),
        now=utc(2026, 12, 7, 8),
    )
    assert isinstance(result, Planned)
    assert result.at == utc(2026, 12, 7, 9)


def test_busy_day_counts_toward_cap() -> None:
    rules = {**config().platforms, Platform.LINKEDIN: PlatformRules(min_gap=timedelta(0), daily_cap=1)}
    busy = [Busy(at=utc(2026, 12, 7, 23, 0), platform=Platform.LINKEDIN, channel="brand")]
    (result,) = plan(
        requests_for([1], Platform.LINKEDIN),
        busy=busy,
        config=config(platforms=rules, windows=((time(9), time(17)),)),
        now=utc(2026, 12, 7, 8),
    )
    assert isinstance(result, Planned)
    assert result.local.date() == date(2026, 12, 8)


def test_zero_weights_unplanned() -> None:
    weights = {**config().weights, Platform.FARCASTER: ZERO}
    (result,) = plan(
        requests_for([7], Platform.FARCASTER), busy=[], config=config(weights=weights), now=utc(2026, 12, 7)
    )
    assert isinstance(result, Unplanned)
    assert result.item_id == 7
    assert "Farcaster weight table" in result.reason
    assert "weight above 0" in result.reason


def test_zero_cap_unplanned() -> None:
    rules = {**config().platforms, Platform.X: PlatformRules(min_gap=timedelta(0), daily_cap=0)}
    (result,) = plan(requests_for([7]), busy=[], config=config(platforms=rules), now=utc(2026, 12, 7))
    assert isinstance(result, Unplanned)
    assert "daily cap is 0" in result.reason


def test_no_free_time_unplanned() -> None:
    rules = {**config().platforms, Platform.X: PlatformRules(min_gap=timedelta(0), daily_cap=1)}
    results = plan(
        requests_for([1, 2, 3]),
        busy=[],
        config=config(platforms=rules, horizon_days=1, max_weeks=2),
        now=utc(2026, 12, 7),
    )
    assert isinstance(results[1], Planned)
    assert isinstance(results[2], Unplanned)
    assert results[2].reason.startswith(
        "no free time in the next 2 weeks: widen the posting windows or days, raise the daily cap"
    )
    assert "quiet hours" in results[2].reason


def test_zero_weight_outside_windows_unplanned() -> None:
    # Positive weights exist, but only at night, while the window is in the morning.
    night = WeightTable(weights=((1.0,) * 6 + (0.0,) * 18,) * 7, source="night only")
    weights = {**config().weights, Platform.X: night}
    (result,) = plan(
        requests_for([1]),
        busy=[],
        config=config(weights=weights, windows=((time(9), time(12)),), max_weeks=5),
        now=utc(2026, 12, 7),
    )
    assert isinstance(result, Unplanned)


def test_results_keep_request_order() -> None:
    ids = [5, 3, 9, 1]
    results = plan(requests_for(ids), busy=[], config=config(), now=utc(2026, 12, 7))
    assert [result.item_id for result in results] == ids


def test_now_inside_window() -> None:
    item_id = ids_with_offset(0, 15, 1)[0]
    (result,) = plan(
        requests_for([item_id]),
        busy=[],
        config=config(windows=((time(9), time(17)),), lead=timedelta(minutes=20)),
        now=utc(2026, 12, 7, 10, 7),
    )
    assert isinstance(result, Planned)
    assert result.at == utc(2026, 12, 7, 10, 30)


def test_offset_reaches_past_lead() -> None:
    # The grid time 10:15 is before now + lead (10:22), but 10:15 + 9 minutes is not.
    item_id = ids_with_offset(9, 15, 1)[0]
    (result,) = plan(
        requests_for([item_id]),
        busy=[],
        config=config(windows=((time(9), time(17)),), lead=timedelta(minutes=20)),
        now=utc(2026, 12, 7, 10, 2),
    )
    assert isinstance(result, Planned)
    assert result.at == utc(2026, 12, 7, 10, 24)


def test_now_with_seconds_keeps_lead() -> None:
    now = utc(2026, 12, 7, 10, 10, 0) + timedelta(seconds=1, microseconds=5)
    results = plan(requests_for(range(5)), busy=[], config=config(lead=timedelta(minutes=20)), now=now)
    for result in results:
        assert isinstance(result, Planned)
        assert result.at >= now + timedelta(minutes=20)


def test_grid_5_minutes() -> None:
    results = plan(
        requests_for(ids_with_offset(0, 5, 14)),
        busy=[],
        config=config(grid_minutes=5, windows=((time(9), time(10)),), horizon_days=1, max_weeks=1),
        now=utc(2026, 12, 7, 8),
    )
    assert [moment.minute for moment in planned_times(results)] == list(range(0, 60, 5))
    assert sum(isinstance(result, Unplanned) for result in results) == 2


def test_grid_15_minutes() -> None:
    results = plan(
        requests_for(ids_with_offset(0, 15, 6)),
        busy=[],
        config=config(grid_minutes=15, windows=((time(9), time(10)),), horizon_days=1, max_weeks=1),
        now=utc(2026, 12, 7, 8),
    )
    assert [moment.minute for moment in planned_times(results)] == [0, 15, 30, 45]
    assert sum(isinstance(result, Unplanned) for result in results) == 2


def test_soonness_breaks_equal_weights() -> None:
    item_id = ids_with_offset(0, 15, 1)[0]
    (result,) = plan(requests_for([item_id]), busy=[], config=config(), now=utc(2026, 12, 7, 8))
    assert isinstance(result, Planned)
    assert result.at == utc(2026, 12, 7, 8)
    assert result.score == 1.0


def test_score_prefers_heavier_hour() -> None:
    # Hour 14 weighs 1.0, all other hours 0.5, so 14:00 beats the sooner hours.
    rows = tuple(tuple(1.0 if hour == 14 else 0.5 for hour in range(24)) for _ in range(7))
    weights = {**config().weights, Platform.X: WeightTable(weights=rows, source="peak at 14")}
    item_id = ids_with_offset(0, 15, 1)[0]
    (result,) = plan(requests_for([item_id]), busy=[], config=config(weights=weights), now=utc(2026, 12, 7, 8))
    assert isinstance(result, Planned)
    assert result.at == utc(2026, 12, 7, 14)


def test_weight_table_zone_used() -> None:
    # The table is in New York time (UTC-5 in December): its hour 9 is 14:00 UTC.
    rows = tuple(tuple(1.0 if hour == 9 else 0.0 for hour in range(24)) for _ in range(7))
    table = WeightTable(weights=rows, source="nine in New York", zone=ZoneInfo("America/New_York"))
    item_id = ids_with_offset(0, 15, 1)[0]
    (result,) = plan(
        requests_for([item_id]),
        busy=[],
        config=config(weights={**config().weights, Platform.X: table}),
        now=utc(2026, 12, 7, 8),
    )
    assert isinstance(result, Planned)
    assert result.at == utc(2026, 12, 7, 14)


def test_audience_zone_used() -> None:
    rows = tuple(tuple(1.0 if hour == 9 else 0.0 for hour in range(24)) for _ in range(7))
    rules = {
        **config().platforms,
        Platform.X: PlatformRules(min_gap=timedelta(0), daily_cap=5, audience_zone=ZoneInfo("Asia/Kolkata")),
    }
    item_id = ids_with_offset(0, 15, 1)[0]
    (result,) = plan(
        requests_for([item_id]),
        busy=[],
        config=config(platforms=rules, weights={**config().weights, Platform.X: WeightTable(rows, "nine")}),
        now=utc(2026, 12, 7, 0),
    )
    assert isinstance(result, Planned)
    assert result.at == utc(2026, 12, 7, 3, 30)  # 09:00 in Kolkata is UTC+05:30


def test_weight_hour_after_offset() -> None:
    # In a UTC+00:07 table zone, 10:45 UTC is 10:52 local but 10:45 + 9 minutes is 11:01 local.
    rows = tuple(tuple(1.0 if hour == 11 else 0.0 for hour in range(24)) for _ in range(7))
    table = WeightTable(weights=rows, source="eleven", zone=posix_zone("ODD-0:07", timedelta(minutes=7)))
    late, early = ids_with_offset(9, 15, 1)[0], ids_with_offset(0, 15, 1)[0]
    planner_config = config(weights={**config().weights, Platform.X: table})
    (late_result,) = plan(requests_for([late]), busy=[], config=planner_config, now=utc(2026, 12, 7, 8))
    (early_result,) = plan(requests_for([early]), busy=[], config=planner_config, now=utc(2026, 12, 7, 8))
    assert isinstance(late_result, Planned)
    assert isinstance(early_result, Planned)
    assert late_result.at == utc(2026, 12, 7, 10, 54)
    assert early_result.at == utc(2026, 12, 7, 11, 0)


# DST


def transition_config(zone: str, weekday: int, start: time, end: time) -> PlannerConfig:
    return config(zone, weekdays=frozenset({weekday}), windows=((start, end),), horizon_days=1, max_weeks=1)


def test_berlin_spring_forward_candidates() -> None:
    # On Sunday 2026-03-29, 02:00-03:00 does not exist, so 02:xx moves to 03:00 CEST.
    results = plan(
        requests_for(ids_with_offset(0, 15, 10)),
        busy=[],
        config=transition_config("Europe/Berlin", 6, time(1), time(4)),
        now=utc(2026, 3, 28, 12),
    )
    expected = [utc(2026, 3, 29, 0, minute) for minute in (0, 15, 30, 45)]
    expected += [utc(2026, 3, 29, 1, minute) for minute in (0, 15, 30, 45)]
    assert planned_times(results) == expected
    assert sum(isinstance(result, Unplanned) for result in results) == 2


def test_berlin_window_in_gap() -> None:
    item_id = ids_with_offset(0, 15, 1)[0]
    (result,) = plan(
        requests_for([item_id]),
        busy=[],
        config=transition_config("Europe/Berlin", 6, time(2, 30), time(4)),
        now=utc(2026, 3, 28, 12),
    )
    assert isinstance(result, Planned)
    assert result.at == utc(2026, 3, 29, 1)
    assert result.local.replace(tzinfo=None) == datetime(2026, 3, 29, 3, 0)


def test_new_york_fall_back_candidates() -> None:
    # On Sunday 2026-11-01, 01:00-02:00 happens twice and only the first (EDT) counts.
    results = plan(
        requests_for(ids_with_offset(0, 15, 12)),
        busy=[],
        config=transition_config("America/New_York", 6, time(0, 30), time(3)),
        now=utc(2026, 10, 31, 12),
    )
    times = planned_times(results)
    expected = [utc(2026, 11, 1, 4, 30), utc(2026, 11, 1, 4, 45)]
    expected += [utc(2026, 11, 1, 5, minute) for minute in (0, 15, 30, 45)]
    expected += [utc(2026, 11, 1, 7, minute) for minute in (0, 15, 30, 45)]
    assert times == expected
    assert not [moment for moment in times if moment.hour == 6]
    assert sum(isinstance(result, Unplanned) for result in results) == 2


def test_lord_howe_spring_forward_candidates() -> None:
    # 2026-10-04: 02:00 (+10:30) jumps to 02:30 (+11), a 30-minute shift.
    results = plan(
        requests_for(ids_with_offset(0, 15, 8)),
        busy=[],
        config=transition_config("Australia/Lord_Howe", 6, time(1), time(3)),
        now=utc(2026, 10, 3, 6),
    )
    expected = [utc(2026, 10, 3, 14, 30), utc(2026, 10, 3, 14, 45), utc(2026, 10, 3, 15, 0)]
    expected += [utc(2026, 10, 3, 15, 15), utc(2026, 10, 3, 15, 30), utc(2026, 10, 3, 15, 45)]
    assert planned_times(results) == expected
    assert sum(isinstance(result, Unplanned) for result in results) == 2


def test_lord_howe_window_in_gap() -> None:
    item_id = ids_with_offset(0, 15, 1)[0]
    (result,) = plan(
        requests_for([item_id]),
        busy=[],
        config=transition_config("Australia/Lord_Howe", 6, time(2), time(3)),
        now=utc(2026, 10, 3, 6),
    )
    assert isinstance(result, Planned)
    assert result.local.replace(tzinfo=None) == datetime(2026, 10, 4, 2, 30)
    assert result.at == utc(2026, 10, 3, 15, 30)


def test_lord_howe_fall_back_candidates() -> None:
    # 2026-04-05: 02:00 (+11) falls back to 01:30 (+10:30), so 01:30-02:00 repeats.
    results = plan(
        requests_for(ids_with_offset(0, 15, 8)),
        busy=[],
        config=transition_config("Australia/Lord_Howe", 6, time(1), time(3)),
        now=utc(2026, 4, 4, 6),
    )
    expected = [utc(2026, 4, 4, 14, minute) for minute in (0, 15, 30, 45)]
    expected += [utc(2026, 4, 4, 15, 30), utc(2026, 4, 4, 15, 45), utc(2026, 4, 4, 16, 0), utc(2026, 4, 4, 16, 15)]
    assert planned_times(results) == expected


def test_dst_offsets_keep_local_minute() -> None:
    # An item with a 7-minute offset lands 7 minutes after each DST-resolved grid time.
    item_ids = ids_with_offset(7, 15, 3)
    results = plan(
        requests_for(item_ids),
        busy=[],
        config=replace(transition_config("Europe/Berlin", 6, time(2), time(4)), global_gap=timedelta(minutes=10)),
        now=utc(2026, 3, 28, 12),
    )
    assert planned_times(results) == [utc(2026, 3, 29, 1, 7), utc(2026, 3, 29, 1, 22), utc(2026, 3, 29, 1, 37)]


def test_table_hours_follow_dst_change() -> None:
    # The table is in Berlin time and allows only Sunday 03:00-04:00. On 29 March
    # Berlin jumps from 02:00 CET to 03:00 CEST at 01:00 UTC, so that hour starts then.
    rows = tuple(tuple(1.0 if (day, hour) == (6, 3) else 0.0 for hour in range(24)) for day in range(7))
    table = WeightTable(weights=rows, source="Sunday three o'clock", zone=ZoneInfo("Europe/Berlin"))
    item_id = ids_with_offset(0, 15, 1)[0]
    (result,) = plan(
        requests_for([item_id]),
        busy=[],
        config=config(weights={**config().weights, Platform.X: table}),
        now=utc(2026, 3, 28, 12),
    )
    assert isinstance(result, Planned)
    assert result.at == utc(2026, 3, 29, 1)


def test_berlin_cap_counts_local_day() -> None:
    # 23:30 UTC on 28 March is 00:30 on 29 March in Berlin, so it takes that day's only slot.
    rules = {**config().platforms, Platform.X: PlatformRules(min_gap=timedelta(0), daily_cap=1)}
    busy = [Busy(at=utc(2026, 3, 28, 23, 30), platform=Platform.X, channel="brand")]
    (result,) = plan(
        requests_for([1]),
        busy=busy,
        config=config("Europe/Berlin", platforms=rules, weekdays=frozenset({6, 0})),
        now=utc(2026, 3, 28, 23),
    )
    assert isinstance(result, Planned)
    assert result.local.date() == date(2026, 3, 30)


def test_offset_crosses_late_dst_change() -> None:
    # Clocks jump from 23:50 to 00:50 on Sunday 29 March, so the grid time 23:45
    # plus 9 minutes is 00:54 on Monday, whose only slot a busy post already takes.
    late_change = posix_zone("ODD-0:07ODDS-1:07,M3.5.0/23:50,M10.5.0/3", timedelta(minutes=7))
    rules = {**config().platforms, Platform.X: PlatformRules(min_gap=timedelta(0), daily_cap=1)}
    planner_config = config(
        platforms=rules,
        weekdays=frozenset({6}),
        windows=((time(23, 45), time(0)),),
        horizon_days=1,
        max_weeks=1,
    )
    planner_config = replace(planner_config, zone=late_change)
    item_id = ids_with_offset(9, 15, 1)[0]
    now = utc(2026, 3, 29, 12)
    busy = [Busy(at=utc(2026, 3, 30, 10), platform=Platform.X, channel="brand")]

    (free,) = plan(requests_for([item_id]), busy=[], config=planner_config, now=now)
    (blocked,) = plan(requests_for([item_id]), busy=busy, config=planner_config, now=now)
    assert isinstance(free, Planned)
    assert free.local.replace(tzinfo=None) == datetime(2026, 3, 30, 0, 54)
    assert isinstance(blocked, Unplanned)


# Properties

ZONES = (
    *(ZoneInfo(key) for key in ("UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata")),
    ODD_ZONE,
)
# Starting points a day or two before DST changes, so that the short horizons cross
# them, and one in July without any change.
STARTS = (
    utc(2026, 3, 27, 12),
    utc(2026, 4, 3, 12),
    utc(2026, 10, 2, 12),
    utc(2026, 10, 30, 12),
    utc(2026, 7, 1),
)
CHANNELS = ("a", "b")


@st.composite
def weight_tables(draw: st.DrawFn) -> WeightTable:
    values = draw(st.lists(st.sampled_from([0.0, 0.2, 0.5, 1.0]), min_size=168, max_size=168))
    zone = draw(st.sampled_from([None, *ZONES]))
    return WeightTable(
        weights=tuple(tuple(values[day * 24:(day + 1) * 24]) for day in range(7)),
        source="generated",
        zone=zone,
    )


@st.composite
def windows(draw: st.DrawFn) -> tuple[tuple[time, time], ...]:
    result = []
    for _ in range(draw(st.integers(0, 2))):
        start = draw(st.integers(0, 47)) * 30
        end = draw(st.integers(start // 30 + 1, 48)) * 30
        result.append((time(start // 60, start % 60), time(0) if end == 1440 else time(end // 60, end % 60)))
    return tuple(result)


@st.composite
def configs(draw: st.DrawFn) -> PlannerConfig:
    platforms = {}
    for platform in Platform:
        gap = draw(st.sampled_from([0, 15, 60, 120, 20 * 60]))
        audience = draw(st.sampled_from([None, *ZONES]))
        platforms[platform] = PlatformRules(
            min_gap=timedelta(minutes=gap),
            daily_cap=draw(st.integers(0, 4)),
            audience_zone=audience,
        )
    return PlannerConfig(
        zone=draw(st.sampled_from(ZONES)),
        weekdays=frozenset(draw(st.sets(st.integers(0, 6), min_size=1))),
        windows=draw(windows()),
        platforms=platforms,
        weights={platform: draw(weight_tables()) for platform in Platform},
        global_gap=timedelta(minutes=draw(st.sampled_from([0, 30, 45]))),
        lead=timedelta(minutes=draw(st.sampled_from([0, 20]))),
        grid_minutes=draw(st.sampled_from([5, 15])),
        horizon_days=draw(st.integers(1, 2)),
        max_weeks=draw(st.integers(1, 3)),
    )


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[PlannerConfig, datetime, list[Busy], list[PlanRequest]]:
    planner_config = draw(configs())
    now = draw(st.sampled_from(STARTS)) + timedelta(
        minutes=draw(st.integers(0, 2 * 24 * 60)), seconds=draw(st.sampled_from([0, 0, 17]))
    )
    busy = [
        Busy(
            at=now + timedelta(minutes=draw(st.integers(-24 * 60, 5 * 24 * 60))),
            platform=draw(st.sampled_from(list(Platform))),
            channel=draw(st.sampled_from(CHANNELS)),
        )
        for _ in range(draw(st.integers(0, 10)))
    ]
    requests = [
        PlanRequest(
            item_id=draw(st.integers(0, 60)),
            platform=draw(st.sampled_from(list(Platform))),
            channel=draw(st.sampled_from(CHANNELS)),
        )
        for _ in range(draw(st.integers(0, 8)))
    ]
    return planner_config, now, busy, requests


def table_weight(planner_config: PlannerConfig, platform: Platform, at: datetime) -> float:
    table = planner_config.weights[platform]
    zone = table.zone or planner_config.platforms[platform].audience_zone or planner_config.zone
    local = at.astimezone(zone)
    return table.weight(local.weekday(), local.hour)


def reference_grid(planner_config: PlannerConfig, start: datetime, end: datetime) -> list[datetime]:
    """Return every DST-resolved grid time in [start, end), converted one wall time at a time."""
    zone = planner_config.zone
    walls = []
    for minute in range(0, 24 * 60, planner_config.grid_minutes):
        wall = time(minute // 60, minute % 60)
        inside = not planner_config.windows or any(
            begin <= wall and (end_wall == time(0) or wall < end_wall) for begin, end_wall in planner_config.windows
        )
        if inside:
            walls.append(wall)
    first_day = start.astimezone(zone).date() - DAY
    times: set[datetime] = set()
    for offset in range((end.astimezone(zone).date() - first_day).days + 2):
        day = first_day + timedelta(days=offset)
        if day.weekday() in planner_config.weekdays:
            times.update(local_to_utc(day, wall, zone) for wall in walls)
    return sorted(moment for moment in times if start <= moment < end)


def reference_plan(
    requests: list[PlanRequest], busy: list[Busy], planner_config: PlannerConfig, now: datetime
) -> list[tuple[int, datetime, int] | None]:
    """Plan by brute force, checking every candidate against every post. None means unplanned."""
    posts = [(post.at, (post.platform, post.channel)) for post in busy]
    zone = planner_config.zone
    results: list[tuple[int, datetime, int] | None] = []
    for request in requests:
        rules = planner_config.platforms[request.platform]
        channel = (request.platform, request.channel)
        offset = timedelta(minutes=minute_offset(request.item_id, planner_config.grid_minutes))
        found = None
        for week in range(planner_config.max_weeks):
            start = now + planner_config.lead + week * planner_config.horizon_days * DAY
            end = start + planner_config.horizon_days * DAY
            best: tuple[float, datetime] | None = None
            for grid_time in reference_grid(planner_config, start - offset, end):
                at = grid_time + offset
                weight = table_weight(planner_config, request.platform, at)
                if not start <= at < end or weight <= 0:
                    continue
                day = at.astimezone(zone).date()
                same_day = [p for p, key in posts if key == channel and p.astimezone(zone).date() == day]
                if len(same_day) >= rules.daily_cap:
                    continue
                if any(abs(at - p) < planner_config.global_gap for p, _ in posts):
                    continue
                if any(abs(at - p) < rules.min_gap for p, key in posts if key == channel):
                    continue
                score = weight * 0.97 ** ((at - now) / DAY)
                if best is None or score > best[0]:
                    best = (score, at)
            if best is not None:
                found = (request.item_id, best[1], week)
                posts.append((best[1], channel))
                break
        results.append(found)
    return results


PROPERTY_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY_SETTINGS
@given(scenarios())
def test_plan_matches_brute_force(scenario: tuple[PlannerConfig, datetime, list[Busy], list[PlanRequest]]) -> None:
    planner_config, now, busy, requests = scenario
    results = plan(requests, busy=busy, config=planner_config, now=now)
    expected = reference_plan(requests, busy, planner_config, now)
    actual = [(result.item_id, result.at, result.week) if isinstance(result, Planned) else None for result in results]
    assert actual == expected


@PROPERTY_SETTINGS
@given(scenarios())
def test_plan_keeps_hard_constraints(
    scenario: tuple[PlannerConfig, datetime, list[Busy], list[PlanRequest]],
) -> None:
    planner_config, now, busy, requests = scenario
    results = plan(requests, busy=busy, config=planner_config, now=now)
    zone = planner_config.zone
    pairs = [(result, request) for result, request in zip(results, requests) if isinstance(result, Planned)]
    busy_posts = [(post.at, (post.platform, post.channel)) for post in busy]
    planned_posts = [(result.at, (request.platform, request.channel)) for result, request in pairs]

    for number, (result, request) in enumerate(pairs):
        rules = planner_config.platforms[request.platform]
        channel = (request.platform, request.channel)
        grid_time = result.at - timedelta(minutes=minute_offset(result.item_id, planner_config.grid_minutes))
        assert result.at.tzinfo is not None
        assert result.at >= now + planner_config.lead
        # Python's == across zones is False inside a repeated hour, so compare in UTC.
        assert result.local.astimezone(UTC) == result.at
        assert result.local.tzinfo == zone
        assert table_weight(planner_config, request.platform, result.at) > 0
        # The grid time lies inside a window on a posting weekday.
        assert grid_time in reference_grid(planner_config, grid_time, grid_time + timedelta(minutes=1))
        for other, key in busy_posts + planned_posts[:number] + planned_posts[number + 1:]:
            assert abs(result.at - other) >= planner_config.global_gap
            if key == channel:
                assert abs(result.at - other) >= rules.min_gap

    busy_per_day = Counter((key, moment.astimezone(zone).date()) for moment, key in busy_posts)
    planned_per_day = Counter((key, moment.astimezone(zone).date()) for moment, key in planned_posts)
    for (key, day), count in planned_per_day.items():
        assert busy_per_day[(key, day)] + count <= planner_config.platforms[key[0]].daily_cap


@settings(max_examples=60, deadline=None)
@given(scenarios(), st.randoms(use_true_random=False))
def test_plan_stable_across_runs(
    scenario: tuple[PlannerConfig, datetime, list[Busy], list[PlanRequest]], shuffler: random.Random
) -> None:
    planner_config, now, busy, requests = scenario
    first = plan(requests, busy=busy, config=planner_config, now=now)
    shuffled = list(busy)
    shuffler.shuffle(shuffled)
    assert plan(requests, busy=busy, config=planner_config, now=now) == first
    assert plan(requests, busy=shuffled, config=planner_config, now=now) == first

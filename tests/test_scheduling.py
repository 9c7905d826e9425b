"""Local-to-UTC conversion across daylight-saving transitions."""

from __future__ import annotations

from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

import pytest

from borker.scheduling import local_to_utc

UTC = timezone.utc


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

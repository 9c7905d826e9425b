"""Local wall-clock times to UTC, with daylight-saving edge cases resolved.

Posting times are chosen as wall-clock times in the workspace time zone, then
converted to UTC for storage and for Postiz (which expects UTC with ``Z``).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo


def local_to_utc(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """Convert a local wall-clock time to UTC, resolving DST edge cases.

    A wall time that does not exist (the spring-forward gap) moves forward to
    the first minute that exists; an ambiguous one (fall back) takes the first
    occurrence, which is ``fold=0``.
    """
    candidate = datetime.combine(day, wall, tzinfo=zone)
    for _ in range(24 * 60):
        if _exists(candidate):
            return candidate.replace(fold=0).astimezone(timezone.utc)
        candidate = (candidate.replace(tzinfo=None) + timedelta(minutes=1)).replace(tzinfo=zone)
    raise ValueError(f"no valid local time near {day} {wall} in {zone.key}")


def _exists(local: datetime) -> bool:
    round_trip = local.astimezone(timezone.utc).astimezone(local.tzinfo)
    return round_trip.replace(tzinfo=None) == local.replace(tzinfo=None)

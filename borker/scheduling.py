"""Posting-time selection: the first free local posting time that respects the gap rules.

Times are computed as wall-clock times in the workspace time zone, then
converted to UTC for storage and for Postiz (which expects UTC with ``Z``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

SEARCH_DAYS = 366


@dataclass(frozen=True)
class PostingPolicy:
    zone: ZoneInfo
    weekdays: frozenset[int]  # Monday is 0
    times: tuple[time, ...]  # local wall-clock times
    min_gap: timedelta
    lead: timedelta


class NoFreeSlot(Exception):
    """No posting time within the search horizon satisfies the policy."""


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


def candidate_times(policy: PostingPolicy, *, start: datetime) -> Iterable[datetime]:
    """Yield UTC posting times in order, from the first one at or after ``start``."""
    first_day = start.astimezone(policy.zone).date()
    for offset in range(SEARCH_DAYS):
        day = first_day + timedelta(days=offset)
        if day.weekday() not in policy.weekdays:
            continue
        for wall in sorted(policy.times):
            moment = local_to_utc(day, wall, policy.zone)
            if moment >= start:
                yield moment


def pick_time(policy: PostingPolicy, *, now: datetime, taken: Iterable[datetime]) -> datetime:
    """Return the first posting time at least ``lead`` from now and ``min_gap`` from every taken time."""
    busy = sorted(taken)
    earliest = now + policy.lead
    for moment in candidate_times(policy, start=earliest):
        if all(abs(moment - other) >= policy.min_gap for other in busy):
            return moment
    raise NoFreeSlot(f"no free posting time in the next {SEARCH_DAYS} days")

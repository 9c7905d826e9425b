"""Posting-time planner: scores candidate times and places approved posts one by one.

The planner is pure: it reads the configuration, the posts already scheduled
(Borker's and Postiz's) and the current time, and returns one result per request.
Candidates lie on a grid of wall-clock times in the workspace time zone, inside
the posting windows and on the posting weekdays. A candidate's score is its
weekday-and-hour weight times ``SOONNESS_PER_DAY ** days_from_now``. Each post
takes the best feasible candidate of the earliest horizon week that has one, and
then counts as scheduled for the posts after it.

Internally, instants are integers (microseconds since 1970-01-01 UTC), and
durations are integer microseconds too.
"""

from __future__ import annotations

import zlib
from bisect import bisect_right, insort
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from borker.models import Platform
from borker.scheduling import local_to_utc

SOONNESS_PER_DAY = 0.97
MAX_MINUTE_OFFSET = 9
GRID_CHOICES = (5, 15)

_UTC = ZoneInfo("UTC")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_EPOCH_WEEKDAY = date(1970, 1, 1).weekday()
_MICROSECOND = timedelta(microseconds=1)
_MINUTE = 60 * 1_000_000
_HOUR = 60 * _MINUTE
_DAY = 24 * _HOUR


# Configuration


@dataclass(frozen=True)
class WeightTable:
    """Posting weights by weekday and hour, from 0 (never auto-schedule) to 1 (best)."""

    # weights[weekday][hour] with Monday as 0, stored as tuples of floats.
    weights: tuple[tuple[float, ...], ...]
    # Origin of the numbers, shown to users, e.g. "prior: Sprout Social 2025".
    source: str
    # Time zone of the table's hours. None means the platform's audience zone, or
    # the workspace zone when the platform has none.
    zone: ZoneInfo | None = None

    def __post_init__(self) -> None:
        rows = tuple(tuple(float(value) for value in row) for row in self.weights)
        if len(rows) != 7 or any(len(row) != 24 for row in rows):
            lengths = [len(row) for row in rows]
            raise ValueError(
                f"weight table {self.source!r} must have 7 weekday rows of 24 hours, got rows of lengths {lengths}"
            )
        for weekday, row in enumerate(rows):
            for hour, value in enumerate(row):
                if not 0.0 <= value <= 1.0:
                    raise ValueError(
                        f"weight table {self.source!r} has {value} at weekday {weekday}, hour {hour}: "
                        "use a value from 0 to 1"
                    )
        object.__setattr__(self, "weights", rows)

    def weight(self, weekday: int, hour: int) -> float:
        return self.weights[weekday][hour]

    def has_positive_weight(self) -> bool:
        return any(value > 0 for row in self.weights for value in row)


@dataclass(frozen=True)
class PlatformRules:
    """Spacing rules for the channels of one platform."""

    # Minimum time between two posts on the same channel.
    min_gap: timedelta
    # Maximum posts per channel per local day in the workspace zone.
    daily_cap: int
    # Time zone of the platform's audience. None means the workspace zone.
    audience_zone: ZoneInfo | None = None

    def __post_init__(self) -> None:
        if self.min_gap < timedelta(0):
            raise ValueError(f"min_gap must not be negative, got {self.min_gap}")
        if self.daily_cap < 0:
            raise ValueError(f"daily_cap must not be negative, got {self.daily_cap}")


@dataclass(frozen=True)
class PlannerConfig:
    """Scheduling rules of one workspace: posting days and windows in its time zone, spacing and weights."""

    zone: ZoneInfo
    # Posting weekdays in the workspace zone, Monday is 0.
    weekdays: frozenset[int]
    # Posting windows [start, end) in workspace wall-clock time. An end of 00:00
    # means midnight at the end of the day, and an empty tuple means all day.
    windows: tuple[tuple[time, time], ...]
    platforms: Mapping[Platform, PlatformRules]
    weights: Mapping[Platform, WeightTable]
    # Minimum time between any two posts, whatever their channels.
    global_gap: timedelta = timedelta(minutes=30)
    # Minimum time from now to a planned post, so that a late edit can still land.
    lead: timedelta = timedelta(minutes=20)
    # Minutes between candidate wall-clock times, counted from midnight: 5 or 15.
    grid_minutes: int = 15
    # Length of one planning week. A post moves to the next one only when a week is full.
    horizon_days: int = 7
    # Planning weeks searched before a request is returned as Unplanned.
    max_weeks: int = 520

    def __post_init__(self) -> None:
        if self.grid_minutes not in GRID_CHOICES:
            raise ValueError(f"grid_minutes must be 5 or 15, got {self.grid_minutes}")
        if not self.weekdays:
            raise ValueError("weekdays is empty: choose at least one posting weekday (Monday is 0)")
        invalid_days = sorted(day for day in self.weekdays if day not in range(7))
        if invalid_days:
            raise ValueError(f"invalid weekdays {invalid_days}: use 0 (Monday) to 6 (Sunday)")
        for name in ("global_gap", "lead"):
            if getattr(self, name) < timedelta(0):
                raise ValueError(f"{name} must not be negative, got {getattr(self, name)}")
        if self.horizon_days < 1:
            raise ValueError(f"horizon_days must be at least 1, got {self.horizon_days}")
        if self.max_weeks < 1:
            raise ValueError(f"max_weeks must be at least 1, got {self.max_weeks}")
        if not _grid_walls(self.windows, self.grid_minutes):
            raise ValueError(
                f"the posting windows {_format_windows(self.windows)} contain no time on the "
                f"{self.grid_minutes}-minute grid: widen them"
            )


def _grid_walls(windows: tuple[tuple[time, time], ...], grid_minutes: int) -> tuple[int, ...]:
    """Return the grid's wall-clock minutes after midnight that lie inside the windows."""
    all_day = range(0, 24 * 60, grid_minutes)
    if not windows:
        return tuple(all_day)
    inside: set[int] = set()
    for start, end in windows:
        start_seconds = _seconds_of_day(start)
        end_seconds = 24 * 3600 if end == time(0) else _seconds_of_day(end)
        if end_seconds <= start_seconds:
            raise ValueError(
                f"posting window {start:%H:%M}-{end:%H:%M} ends before it starts: "
                "split a window that spans midnight into two"
            )
        inside.update(m for m in all_day if start_seconds <= m * 60 < end_seconds)
    return tuple(sorted(inside))


def _seconds_of_day(wall: time) -> float:
    return wall.hour * 3600 + wall.minute * 60 + wall.second + wall.microsecond / 1e6


def _format_windows(windows: tuple[tuple[time, time], ...]) -> str:
    return ", ".join(f"{start:%H:%M}-{end:%H:%M}" for start, end in windows)


# Requests and results


@dataclass(frozen=True)
class PlanRequest:
    """One approved post that needs a time. Requests are planned in the order given."""

    item_id: int
    platform: Platform
    # The account the post goes to, e.g. a Postiz integration id.
    channel: str


@dataclass(frozen=True)
class Busy:
    """A post already scheduled or published on a channel, by Borker or in Postiz."""

    at: datetime
    platform: Platform
    channel: str


@dataclass(frozen=True)
class Planned:
    """A posting time found for a request."""

    item_id: int
    at: datetime  # UTC
    # The same instant in the workspace zone. Compare instants through ``at``, because
    # Python's == between two zones returns False for a time in a repeated hour.
    local: datetime
    score: float
    # Horizon week the time lies in: 0 is the first horizon from now + lead.
    week: int


@dataclass(frozen=True)
class Unplanned:
    """A request that got no time, with the reason and what to change."""

    item_id: int
    reason: str


# Defaults

# Columns of the default X and LinkedIn tables: (first hour, last hour) inclusive.
_X_HOURS = ((0, 6), (7, 7), (8, 8), (9, 11), (12, 14), (15, 17), (18, 20), (21, 23))
_X_ROWS = {
    # Sprout Social 2025 windows (Tue-Thu best, weekends worst) plus Buffer's mid-morning peak.
    "tue-thu": (0.0, 0.4, 0.7, 1.0, 0.9, 0.8, 0.5, 0.3),
    "mon": (0.0, 0.4, 0.7, 0.9, 0.85, 0.75, 0.6, 0.3),
    "fri": (0.0, 0.35, 0.6, 0.85, 0.8, 0.65, 0.4, 0.25),
    "sat": (0.0, 0.1, 0.2, 0.35, 0.5, 0.35, 0.3, 0.2),
    "sun": (0.0, 0.1, 0.2, 0.3, 0.35, 0.45, 0.35, 0.2),
}
_LINKEDIN_HOURS = ((0, 6), (7, 7), (8, 8), (9, 11), (12, 13), (14, 16), (17, 18), (19, 23))
_LINKEDIN_ROWS = {
    # Sprout Social Tue/Wed 10:00-12:00, HubSpot and Buffer Tue-Thu mornings.
    "tue-wed": (0.0, 0.6, 0.85, 1.0, 0.8, 0.6, 0.45, 0.1),
    "thu": (0.0, 0.55, 0.8, 0.95, 0.75, 0.55, 0.4, 0.1),
    "mon": (0.0, 0.45, 0.65, 0.75, 0.65, 0.5, 0.35, 0.1),
    "fri": (0.0, 0.4, 0.6, 0.65, 0.5, 0.35, 0.2, 0.05),
    "sat-sun": (0.0, 0.05, 0.1, 0.15, 0.15, 0.1, 0.1, 0.05),
}
# Farcaster weekday weights by UTC hour range [first, stop), where hour 24 is the
# next midnight. Other hours weigh 0.1, and weekends 0.7 times the weekday value.
_FARCASTER_HOURS = ((9, 13, 0.6), (13, 17, 1.0), (17, 21, 0.8), (21, 25, 0.5))
_FARCASTER_OTHER_HOURS = 0.1
_FARCASTER_WEEKEND_FACTOR = 0.7


def _expand(columns: tuple[tuple[int, int], ...], values: tuple[float, ...]) -> tuple[float, ...]:
    row: list[float] = []
    for (first, last), value in zip(columns, values, strict=True):
        row.extend([value] * (last - first + 1))
    return tuple(row)


def default_weights() -> dict[Platform, WeightTable]:
    """Build the default weight tables: priors from public studies, and a heuristic for Farcaster.

    X and LinkedIn hours are local to the audience. No study of Farcaster exists,
    so its table favours 13:00-17:00 UTC (US morning and EU afternoon), with
    weekends at 0.7 times the weekday values.
    """
    x = _X_ROWS
    x_rows = (x["mon"], x["tue-thu"], x["tue-thu"], x["tue-thu"], x["fri"], x["sat"], x["sun"])
    linkedin = _LINKEDIN_ROWS
    linkedin_rows = (
        linkedin["mon"],
        linkedin["tue-wed"],
        linkedin["tue-wed"],
        linkedin["thu"],
        linkedin["fri"],
        linkedin["sat-sun"],
        linkedin["sat-sun"],
    )
    farcaster_weekday_row = [_FARCASTER_OTHER_HOURS] * 24
    for first, stop, value in _FARCASTER_HOURS:
        for hour in range(first, stop):
            farcaster_weekday_row[hour % 24] = value
    farcaster_weekday = tuple(farcaster_weekday_row)
    farcaster_weekend = tuple(round(value * _FARCASTER_WEEKEND_FACTOR, 4) for value in farcaster_weekday)
    return {
        Platform.X: WeightTable(
            weights=tuple(_expand(_X_HOURS, row) for row in x_rows),
            source="prior: Sprout Social 2025 and Buffer studies",
        ),
        Platform.LINKEDIN: WeightTable(
            weights=tuple(_expand(_LINKEDIN_HOURS, row) for row in linkedin_rows),
            source="prior: Sprout Social, HubSpot and Buffer studies",
        ),
        Platform.FARCASTER: WeightTable(
            weights=(farcaster_weekday,) * 5 + (farcaster_weekend,) * 2,
            source="heuristic: no published study of Farcaster",
            zone=_UTC,
        ),
    }


def default_platform_rules() -> dict[Platform, PlatformRules]:
    """Build the default spacing rules per platform (gaps and caps per channel)."""
    return {
        Platform.X: PlatformRules(min_gap=timedelta(minutes=60), daily_cap=8),
        Platform.LINKEDIN: PlatformRules(min_gap=timedelta(hours=20), daily_cap=1),
        Platform.FARCASTER: PlatformRules(min_gap=timedelta(minutes=120), daily_cap=6),
    }


def minute_offset(item_id: int, grid_minutes: int) -> int:
    """Return the minutes added to every grid time of this item, from 0 to min(9, grid - 1).

    The offset comes from CRC-32 of the id, so it is the same in every process
    (Python's ``hash`` of a string changes per process) and a re-run picks the same minute.
    """
    return zlib.crc32(str(item_id).encode()) % (min(MAX_MINUTE_OFFSET, grid_minutes - 1) + 1)


# Planning


def plan(
    requests: Sequence[PlanRequest],
    *,
    busy: Iterable[Busy],
    config: PlannerConfig,
    now: datetime,
) -> list[Planned | Unplanned]:
    """Plan posting times for the requests in order, each planned post constraining the later ones.

    Returns one result per request, in request order. The same inputs give the
    same results, whatever the order of ``busy``. Raises ValueError for a naive
    ``now`` or busy time, or for a requested platform missing from the config.
    """
    if now.tzinfo is None:
        raise ValueError(f"now must be timezone-aware, got naive {now.isoformat()}")
    missing = sorted(
        {str(request.platform) for request in requests}
        - {str(platform) for platform in config.platforms if platform in config.weights}
    )
    if missing:
        raise ValueError(f"no posting rules or weight table configured for {', '.join(missing)}")
    planner = _Planner(config, now, busy)
    return [planner.place(request) for request in requests]


def _to_micros(moment: datetime) -> int:
    return (moment - _EPOCH) // _MICROSECOND


def _from_micros(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)


def _offset_at(zone: ZoneInfo, micros: int) -> int:
    offset = _from_micros(micros).astimezone(zone).utcoffset()
    assert offset is not None
    return offset // _MICROSECOND


def _utc_offsets(zone: ZoneInfo, times: list[int]) -> list[int]:
    """Return the zone's UTC offset in microseconds at each of the ascending UTC times.

    Offsets are looked up at both ends of each day-long stretch of times, and one by one
    only where the two differ. That is exact because from 1970 on no zone in tzdata
    2025b changes its offset twice within six days.
    """
    offsets: list[int] = []
    index = 0
    while index < len(times):
        first = times[index]
        stop = bisect_right(times, first + _DAY, index)
        offset = _offset_at(zone, first)
        if offset == _offset_at(zone, first + _DAY):
            offsets.extend([offset] * (stop - index))
        else:
            offsets.extend(_offset_at(zone, moment) for moment in times[index:stop])
        index = stop
    return offsets


class _Week:
    """The candidate grid times of one horizon week, scored per platform and minute offset.

    A week contains the grid times t with t + offset in [start, end) for some offset, so
    it also lists a few times just before ``start`` that only larger offsets reach.
    """

    def __init__(self, planner: _Planner, index: int, start: int, end: int) -> None:
        self.planner = planner
        self.index = index
        self.start = start
        self.end = end
        self.times = planner.grid_times(start - planner.max_offset, end)
        self.soonness = [SOONNESS_PER_DAY ** ((moment - planner.now) / _DAY) for moment in self.times]

        # Times marked unsettled may have another day, weekday or hour after adding the
        # item's minute offset (a DST change or an hour boundary within the offset
        # range), so their days and weights are computed per offset.
        self.unsettled: set[int] = set()
        self._walls: dict[ZoneInfo, list[int]] = {}
        self._hour_slots: dict[ZoneInfo, list[int]] = {}
        walls = self._wall_times(planner.config.zone)
        self.days = [wall // _DAY + _EPOCH_ORDINAL for wall in walls]
        self.base_weights: dict[Platform, list[float]] = {}
        for platform, table in planner.config.weights.items():
            flat = [weight for row in table.weights for weight in row]
            self.base_weights[platform] = [flat[slot] for slot in self._weekday_hours(planner.table_zone(platform))]

        self._weights: dict[tuple[Platform, int], list[float]] = {}
        self._orders: dict[tuple[Platform, int], tuple[list[int], list[int]]] = {}
        self._shared_orders: dict[Platform, tuple[list[int], list[int]]] = {}
        self._dead: dict[int, bytearray] = {}

    def _wall_times(self, zone: ZoneInfo) -> list[int]:
        """Return each time on the zone's wall clock, in microseconds, and mark the unsettled ones."""
        cached = self._walls.get(zone)
        if cached is not None:
            return cached
        span = self.planner.max_offset
        offsets = _utc_offsets(zone, self.times)
        walls = [moment + offset for moment, offset in zip(self.times, offsets)]
        later_offsets = _utc_offsets(zone, [moment + span for moment in self.times])
        self.unsettled.update(index for index, wall in enumerate(walls) if wall % _HOUR + span >= _HOUR)
        if later_offsets != offsets:
            self.unsettled.update(
                index for index, (offset, later) in enumerate(zip(offsets, later_offsets)) if offset != later
            )
        self._walls[zone] = walls
        return walls

    def _weekday_hours(self, zone: ZoneInfo) -> list[int]:
        """Return weekday * 24 + hour of each time in the zone, computed once per zone."""
        slots = self._hour_slots.get(zone)
        if slots is None:
            slots = [
                (wall // _DAY + _EPOCH_WEEKDAY) % 7 * 24 + wall // _HOUR % 24 for wall in self._wall_times(zone)
            ]
            self._hour_slots[zone] = slots
        return slots

    def weights(self, platform: Platform, offset: int) -> list[float]:
        """Return the platform's weight at each time plus ``offset`` minutes."""
        key = (platform, offset)
        cached = self._weights.get(key)
        if cached is not None:
            return cached
        weights = self.base_weights[platform]
        if offset and self.unsettled:
            weights = list(weights)
            table = self.planner.config.weights[platform]
            zone = self.planner.table_zone(platform)
            for index in self.unsettled:
                wall = _from_micros(self.times[index] + offset * _MINUTE).astimezone(zone)
                weights[index] = table.weight(wall.weekday(), wall.hour)
        self._weights[key] = weights
        return weights

    def order(self, platform: Platform, offset: int) -> tuple[list[int], list[int]]:
        """Return the indexes of times with a positive weight, best score first, earlier first on ties.

        The second list contains the workspace-local day of each of those times plus ``offset``.
        """
        key = (platform, offset)
        cached = self._orders.get(key)
        if cached is not None:
            return cached
        weights = self.weights(platform, offset)
        shared = weights is self.base_weights[platform] and not self.unsettled
        if shared and platform in self._shared_orders:
            result = self._shared_orders[platform]
        else:
            # Adding the same offset to every time scales every soonness by the same
            # factor, so the ranking at the grid times is the ranking at the offset times.
            scores = [weight * soon for weight, soon in zip(weights, self.soonness)]
            # sorted() is stable and indexes ascend with time, so ties stay earliest first.
            indexes = sorted((index for index, score in enumerate(scores) if score > 0), key=lambda i: -scores[i])
            result = (indexes, [self.day(index, offset) for index in indexes])
            if shared:
                self._shared_orders[platform] = result
        self._orders[key] = result
        return result

    def dead(self, offset: int) -> bytearray:
        """Return the marks of times that no item with this offset can take any more.

        A time is marked when its offset time lies outside this week or within the
        global gap of a post. Posts are only ever added, so a mark never goes stale.
        """
        marks = self._dead.get(offset)
        if marks is None:
            marks = self._dead[offset] = bytearray(len(self.times))
        return marks

    def day(self, index: int, offset: int) -> int:
        """Return the workspace-local day ordinal of the time plus ``offset`` minutes."""
        if index not in self.unsettled:
            return self.days[index]
        moment = _from_micros(self.times[index] + offset * _MINUTE)
        return moment.astimezone(self.planner.config.zone).toordinal()


@dataclass
class _Cursor:
    """How far one (platform, channel, minute offset) group has searched.

    Every week before ``week`` and every position before ``position`` in the
    current week's order is infeasible for the group. Constraints only tighten as
    posts are added, so the group never needs to look at them again.
    """

    week: int = 0
    position: int = 0


class _Planner:
    """State of one ``plan`` call: the posts so far, the weeks built and each group's cursor."""

    def __init__(self, config: PlannerConfig, now: datetime, busy: Iterable[Busy]) -> None:
        self.config = config
        self.now = _to_micros(now)
        self.earliest = self.now + config.lead // _MICROSECOND
        self.horizon = config.horizon_days * _DAY
        self.max_offset = (min(MAX_MINUTE_OFFSET, config.grid_minutes - 1)) * _MINUTE
        self.global_gap = config.global_gap // _MICROSECOND

        # Posts by channel key (platform, channel), and the local days that reached the cap.
        self.daily_caps = {str(platform): rules.daily_cap for platform, rules in config.platforms.items()}
        self.all_posts: list[int] = []
        self.channel_posts: dict[tuple[str, str], list[int]] = {}
        self.day_counts: dict[tuple[str, str], dict[int, int]] = {}
        self.full_days: dict[tuple[str, str], set[int]] = {}
        for post in busy:
            if post.at.tzinfo is None:
                raise ValueError(
                    f"busy post on {post.platform} channel {post.channel!r} has a naive time "
                    f"{post.at.isoformat()}: give it a time zone"
                )
            self._add_post(_to_micros(post.at), (str(post.platform), post.channel), sort=False)
        self.all_posts.sort()
        for posts in self.channel_posts.values():
            posts.sort()

        self.grid_walls = _grid_walls(config.windows, config.grid_minutes)
        self.weeks: dict[int, _Week] = {}
        self.cursors: dict[tuple[str, str, int], _Cursor] = {}
        self.day_times: dict[int, list[int]] = {}

    def table_zone(self, platform: Platform) -> ZoneInfo:
        """Return the zone of the hours in the platform's weight table."""
        table_zone = self.config.weights[platform].zone
        rules = self.config.platforms.get(platform)
        audience_zone = rules.audience_zone if rules is not None else None
        return table_zone or audience_zone or self.config.zone

    def _add_post(self, at: int, channel: tuple[str, str], day: int | None = None, *, sort: bool = True) -> None:
        posts = self.channel_posts.setdefault(channel, [])
        if sort:
            insort(self.all_posts, at)
            insort(posts, at)
        else:
            self.all_posts.append(at)
            posts.append(at)
        if day is None:
            day = _from_micros(at).astimezone(self.config.zone).toordinal()
        counts = self.day_counts.setdefault(channel, {})
        counts[day] = counts.get(day, 0) + 1
        cap = self.daily_caps.get(channel[0])
        if cap is not None and counts[day] >= cap:
            self.full_days.setdefault(channel, set()).add(day)

    # Candidate grid

    def grid_times(self, start: int, end: int) -> list[int]:
        """Return the distinct UTC grid times in [start, end), ascending."""
        zone = self.config.zone
        first_day = _from_micros(start).astimezone(zone).toordinal() - 1
        last_day = _from_micros(end).astimezone(zone).toordinal() + 1
        times: set[int] = set()
        for ordinal in range(first_day, last_day + 1):
            times.update(moment for moment in self._day_times(ordinal) if start <= moment < end)
        return sorted(times)

    def _day_times(self, ordinal: int) -> list[int]:
        """Return the UTC grid times of one workspace-local day, none on a day off."""
        cached = self.day_times.get(ordinal)
        if cached is not None:
            return cached
        day = date.fromordinal(ordinal)
        if day.weekday() not in self.config.weekdays:
            times: list[int] = []
        else:
            zone = self.config.zone
            midnight = _to_micros(local_to_utc(day, time(0), zone))
            next_midnight = _to_micros(local_to_utc(day + timedelta(days=1), time(0), zone))
            if next_midnight - midnight == _DAY:
                # A day of exactly 24 hours has no offset change (changes are days
                # apart), so every wall time is midnight plus its minutes.
                times = [midnight + wall * _MINUTE for wall in self.grid_walls]
            else:
                # local_to_utc moves a wall time in a spring-forward gap to the first
                # valid minute, so several grid times can meet there and one of each is
                # kept. A repeated wall time takes its first occurrence.
                converted = {
                    _to_micros(local_to_utc(day, time(wall // 60, wall % 60), zone))
                    for wall in self.grid_walls
                }
                times = sorted(converted)
        self.day_times[ordinal] = times
        return times

    def _week(self, index: int) -> _Week:
        week = self.weeks.get(index)
        if week is None:
            start = self.earliest + index * self.horizon
            week = self.weeks[index] = _Week(self, index, start, start + self.horizon)
        return week

    # Placement

    def place(self, request: PlanRequest) -> Planned | Unplanned:
        platform = request.platform
        rules = self.config.platforms[platform]
        table = self.config.weights[platform]
        if not table.has_positive_weight():
            return Unplanned(
                request.item_id,
                f"the {platform.label} weight table ({table.source}) is 0 at every hour: "
                "give at least one hour a weight above 0",
            )
        if rules.daily_cap == 0:
            return Unplanned(
                request.item_id, f"the {platform.label} daily cap is 0: raise it to at least 1 post per day"
            )

        offset = minute_offset(request.item_id, self.config.grid_minutes)
        channel = (str(platform), request.channel)
        found = self._search(channel, platform, offset, rules)
        if found is None:
            return Unplanned(
                request.item_id,
                f"no free time in the next {self.config.max_weeks} weeks: widen the posting windows or days, "
                f"raise the daily cap, or check that the windows are not all in {platform.label}'s quiet hours "
                "(hours whose weight is 0, by default 00:00-06:00)",
            )

        week, index, at, day = found
        self._add_post(at, channel, day)
        weight = week.weights(platform, offset)[index]
        moment = _from_micros(at)
        return Planned(
            item_id=request.item_id,
            at=moment,
            local=moment.astimezone(self.config.zone),
            score=weight * SOONNESS_PER_DAY ** ((at - self.now) / _DAY),
            week=week.index,
        )

    def _search(
        self, channel: tuple[str, str], platform: Platform, offset: int, rules: PlatformRules
    ) -> tuple[_Week, int, int, int] | None:
        """Find the best feasible time for one post: (week, index in the week, UTC instant, local day).

        This loop dominates the planner's run time, so the cheap checks come first
        and the hard constraints are checked here, not in helpers.
        """
        cursor = self.cursors.setdefault((*channel, offset), _Cursor())
        offset_micros = offset * _MINUTE
        global_gap = self.global_gap
        channel_gap = rules.min_gap // _MICROSECOND
        all_posts = self.all_posts
        channel_posts = self.channel_posts.setdefault(channel, [])
        full_days = self.full_days.setdefault(channel, set())

        while cursor.week < self.config.max_weeks:
            week = self._week(cursor.week)
            order, order_days = week.order(platform, offset)
            dead = week.dead(offset)
            times = week.times
            week_start, week_end = week.start, week.end
            position = cursor.position
            count = len(order)
            while position < count:
                index = order[position]
                if dead[index] or order_days[position] in full_days:
                    position += 1
                    continue
                at = times[index] + offset_micros
                if not week_start <= at < week_end:
                    dead[index] = 1
                    position += 1
                    continue
                # Some post lies within the gap of at exactly when the first post
                # after at - gap lies before at + gap.
                after = bisect_right(all_posts, at - global_gap)
                if after < len(all_posts) and all_posts[after] < at + global_gap:
                    dead[index] = 1
                    position += 1
                    continue
                after = bisect_right(channel_posts, at - channel_gap)
                if after < len(channel_posts) and channel_posts[after] < at + channel_gap:
                    position += 1
                    continue
                cursor.position = position
                return week, index, at, order_days[position]
            cursor.week += 1
            cursor.position = 0
        return None

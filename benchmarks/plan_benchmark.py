"""Time the posting-time planner on 1,000 and 10,000 requests against 10,000 busy posts.

Run from the repository root: ``python benchmarks/plan_benchmark.py``. The script
exits with status 1 when planning 10,000 requests takes 2 s or more, or when the
time per request at 10,000 is more than 1.5 times the time per request at 1,000.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from datetime import time as wall_time
from pathlib import Path
from zoneinfo import ZoneInfo

# Time the working tree's borker package, not an installed copy.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from borker.models import Platform
from borker.planner import (
    Busy,
    PlannerConfig,
    PlanRequest,
    Unplanned,
    default_platform_rules,
    default_weights,
    plan,
)

BUSY_POSTS = 10_000
REQUEST_COUNTS = (1_000, 10_000)
MAX_SECONDS_AT_10K = 2.0
MAX_PER_REQUEST_RATIO = 1.5
# Existing posts are spread over this many weeks after now, at random minutes.
BUSY_WEEKS = 52
CHANNELS = (
    (Platform.X, "x-brand"),
    (Platform.X, "x-founder"),
    (Platform.X, "x-support"),
    (Platform.X, "x-jobs"),
    (Platform.LINKEDIN, "linkedin-company"),
    (Platform.LINKEDIN, "linkedin-founder"),
    (Platform.LINKEDIN, "linkedin-careers"),
    (Platform.FARCASTER, "farcaster-brand"),
    (Platform.FARCASTER, "farcaster-dev"),
)
NOW = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def build_config(*, all_hours: bool) -> PlannerConfig:
    """Return a typical workspace: Berlin, Monday to Friday 07:00-21:00, default rules and weights.

    With ``all_hours``, every day is a posting day, all day, on a 5-minute grid:
    7.2 times the candidate times of the typical workspace.
    """
    if all_hours:
        return PlannerConfig(
            zone=ZoneInfo("Europe/Berlin"),
            weekdays=frozenset(range(7)),
            windows=(),
            platforms=default_platform_rules(),
            weights=default_weights(),
            grid_minutes=5,
        )
    return PlannerConfig(
        zone=ZoneInfo("Europe/Berlin"),
        weekdays=frozenset(range(5)),
        windows=((wall_time(7), wall_time(21)),),
        platforms=default_platform_rules(),
        weights=default_weights(),
    )


def build_busy(seed: int) -> list[Busy]:
    randomizer = random.Random(seed)
    span_minutes = BUSY_WEEKS * 7 * 24 * 60
    busy = []
    for _ in range(BUSY_POSTS):
        platform, channel = randomizer.choice(CHANNELS)
        at = NOW + timedelta(minutes=randomizer.randrange(span_minutes))
        busy.append(Busy(at=at, platform=platform, channel=channel))
    return busy


def build_requests(count: int) -> list[PlanRequest]:
    """Return ``count`` requests that take the channels in turn."""
    requests = []
    for item_id in range(1, count + 1):
        platform, channel = CHANNELS[item_id % len(CHANNELS)]
        requests.append(PlanRequest(item_id=item_id, platform=platform, channel=channel))
    return requests


def time_plan(count: int, busy: list[Busy], config: PlannerConfig, repeats: int) -> tuple[float, int]:
    """Return the best wall time of ``repeats`` runs and the number of unplanned requests."""
    requests = build_requests(count)
    best = float("inf")
    unplanned = 0
    for _ in range(repeats):
        started = time.perf_counter()
        results = plan(requests, busy=busy, config=config, now=NOW)
        best = min(best, time.perf_counter() - started)
        unplanned = sum(isinstance(result, Unplanned) for result in results)
    return best, unplanned


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="runs per size; the best time counts (default 5)")
    parser.add_argument("--seed", type=int, default=1, help="seed for the random busy posts (default 1)")
    parser.add_argument(
        "--all-hours",
        action="store_true",
        help="post on every day, all day, on a 5-minute grid instead of Monday to Friday 07:00-21:00 every 15 minutes",
    )
    args = parser.parse_args()

    config = build_config(all_hours=args.all_hours)
    busy = build_busy(args.seed)
    print(f"{'requests':>8}  {'busy':>6}  {'seconds':>8}  {'per request (µs)':>16}  {'unplanned':>9}")
    per_request: dict[int, float] = {}
    seconds: dict[int, float] = {}
    for count in REQUEST_COUNTS:
        seconds[count], unplanned = time_plan(count, busy, config, args.repeats)
        per_request[count] = seconds[count] / count * 1e6
        print(f"{count:>8}  {len(busy):>6}  {seconds[count]:>8.3f}  {per_request[count]:>16.1f}  {unplanned:>9}")

    ratio = per_request[REQUEST_COUNTS[1]] / per_request[REQUEST_COUNTS[0]]
    print(f"per-request time ratio, 10,000 / 1,000 requests: {ratio:.2f}")
    failures = []
    if seconds[REQUEST_COUNTS[1]] >= MAX_SECONDS_AT_10K:
        failures.append(f"10,000 requests took {seconds[REQUEST_COUNTS[1]]:.3f} s, limit {MAX_SECONDS_AT_10K} s")
    if ratio > MAX_PER_REQUEST_RATIO:
        failures.append(f"per-request ratio {ratio:.2f} is above {MAX_PER_REQUEST_RATIO}")
    for failure in failures:
        print(f"FAILED: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

"""Time a daily run of 50 drafts against a slow LLM while a reviewer keeps clicking.

The OpenAI stand-in responds to every request after ``--llm-seconds``. The run must
finish within 1.25 × ceil(drafts / concurrency) LLM delays, and the 99th
percentile of the time Borker takes to acknowledge a Slack click during the
run must stay under 100 ms. Exits 1 when either target is missed.

    .venv/bin/python benchmarks/generation_benchmark.py [--concurrency 10]
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import sys
import threading
import time
from datetime import datetime, timezone

from borker.standins.openai_api import draft_json
from borker.workspace import WEEKDAYS
from bot.ids import ActionId
from bot.loopback import LoopbackStack

ACK_TARGET_SECONDS = 0.100


WORDS = (
    "latency cache index queue shard replica cursor schema vacuum checkpoint planner join "
    "bucket quota backoff jitter tracing sampling gauge histogram rollout canary flag toggle"
).split()


def distinct_post(number: int) -> str:
    """Return a short post whose words differ from every other number's."""
    rng = random.Random(number)
    words = rng.sample(WORDS, 8)
    return f"Note {number}: {' '.join(words)}. What would you measure first?"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drafts", type=int, default=50, help="calendar slots to fill (default 50)")
    parser.add_argument("--concurrency", type=int, default=10, help="drafts generated at once (default 10)")
    parser.add_argument("--llm-seconds", type=float, default=1.0, help="stand-in LLM delay per call (default 1)")
    parser.add_argument("--click-interval", type=float, default=0.02, help="seconds between clicks (default 0.02)")
    args = parser.parse_args()

    with LoopbackStack() as stack:
        assert stack.openai is not None
        today = WEEKDAYS[datetime.now(timezone.utc).weekday()]
        stack.configure_workspace({
            "generation_concurrency": args.concurrency,
            "topic_pools": [{"name": "Pool", "topics": [{"title": f"Topic {n}"} for n in range(args.drafts)]}],
            "calendar": {
                "weekdays": list(WEEKDAYS),
                "slots": [{"weekday": today, "platform": "x", "content_type": "x-post"}] * args.drafts,
            },
        })
        # One draft to click on, made before the LLM turns slow.
        target = stack.generate("x", "the item the reviewer clicks")
        shown = json.dumps({"id": target.id, "v": target.version})
        stack.openai.delay = args.llm_seconds
        # Distinct drafts, so none is re-asked as a near-duplicate of another and
        # every draft costs exactly one LLM call.
        stack.openai.script(*(draft_json(distinct_post(n)) for n in range(args.drafts)))

        latencies: list[float] = []
        done = threading.Event()

        def click_until_done() -> None:
            while not done.is_set():
                started = time.perf_counter()
                response = stack.user.click(target.slack_channel or "", target.slack_ts or "", ActionId.APPROVE, value=shown)
                latencies.append(time.perf_counter() - started)
                if response.status_code != 200:
                    print(f"click returned HTTP {response.status_code}", file=sys.stderr)
                time.sleep(args.click_interval)

        clicker = threading.Thread(target=click_until_done, daemon=True)
        clicker.start()
        started = time.perf_counter()
        report = stack.runtime.workflows.run_daily(actor="benchmark")
        elapsed = time.perf_counter() - started
        done.set()
        clicker.join()
        llm_calls = len(stack.openai.requests)

    generated = len(report.generated) + len(report.flagged)
    bound = 1.25 * math.ceil(args.drafts / args.concurrency) * args.llm_seconds
    p99 = statistics.quantiles(latencies, n=100)[98] if len(latencies) >= 2 else float("nan")
    p50 = statistics.median(latencies) if latencies else float("nan")
    print(f"drafts generated      {generated} of {args.drafts} (failed {len(report.failed)})")
    print(f"flagged for an edit   {len(report.flagged)}")
    print(f"LLM calls             {llm_calls} (re-asks included)")
    print(f"concurrency           {args.concurrency}")
    print(f"run time              {elapsed:.2f} s (target ≤ {bound:.2f} s)")
    print(f"clicks during run     {len(latencies)}")
    print(f"click ack p50 / p99   {p50 * 1000:.1f} ms / {p99 * 1000:.1f} ms (target p99 < {ACK_TARGET_SECONDS * 1000:.0f} ms)")

    ok = generated == args.drafts and elapsed <= bound and p99 < ACK_TARGET_SECONDS
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""Process Approved with the posting-time planner: budget, dry run, Postiz's calendar,
batching and times that must never be in the past. Runs the real server against the stand-ins."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest

from borker.db import unit_of_work
from borker.models import ContentItem, ContentStatus, Platform
from borker.postiz import NewPost, PostizClient
from borker.processing import MAX_RETRY_AFTER_SECONDS
from bot.ids import ActionId
from bot.loopback import POSTIZ_KEY, LoopbackStack

S = ContentStatus


def approve(stack: LoopbackStack, platform: str, topic: str) -> int:
    item = stack.generate(platform, topic)
    stack.click(item.id, ActionId.APPROVE)
    stack.wait_for_status(item.id, S.APPROVED)
    return item.id


def create_requests(stack: LoopbackStack) -> list[object]:
    return [r.body for r in stack.postiz.requests if r.method == "POST" and r.path.endswith("/posts")]


@pytest.fixture
def budget_stack(database_url: str) -> Iterator[LoopbackStack]:
    with LoopbackStack(database_url=database_url, POSTIZ_HOURLY_BUDGET=2) as running:
        yield running


def test_hourly_budget_defers_rest(budget_stack: LoopbackStack) -> None:
    stack = budget_stack
    items = [approve(stack, "x", f"budget {n}") for n in range(3)]
    report = stack.runtime.workflows.process_approved()
    assert len(report.scheduled) == 2
    assert report.deferred == [items[2]]
    assert report.deferred_until is not None
    assert stack.postiz.create_count == 2

    # The budget is kept in the database, so the next run waits too.
    again = stack.runtime.workflows.process_approved()
    assert again.scheduled == []
    assert again.deferred == [items[2]]
    assert stack.postiz.create_count == 2
    assert stack.item(items[2]).status == S.APPROVED


def test_budget_summary_names_time(budget_stack: LoopbackStack) -> None:
    stack = budget_stack
    for n in range(3):
        approve(stack, "x", f"summary {n}")
    stack.user.command("process")
    summary = stack.wait_until(
        lambda: stack.responses()[-1]["text"].startswith("*Process") and stack.responses()[-1]["text"], what="summary"
    )
    assert "scheduled 2, deferred 1 until" in summary
    assert "(Postiz rate limit)" in summary


def test_retry_after_blocks_all_creates(stack: LoopbackStack) -> None:
    first = approve(stack, "x", "blocked")
    stack.postiz.fail_next(429, {"statusCode": 429, "message": "ThrottlerException: Too Many Requests"},
                           headers={"Retry-After": "3600"}, after=2)
    report = stack.runtime.workflows.process_approved()
    assert report.deferred == [first]
    assert report.deferred_until is not None
    assert report.deferred_until - datetime.now(timezone.utc) > timedelta(minutes=59)

    second = approve(stack, "linkedin", "blocked too")
    blocked = stack.runtime.workflows.process_approved()
    assert sorted(blocked.deferred) == sorted([first, second])
    assert len(create_requests(stack)) == 1


def test_huge_retry_after_is_capped(stack: LoopbackStack) -> None:
    approve(stack, "x", "huge retry")
    stack.postiz.fail_next(429, {"statusCode": 429}, headers={"Retry-After": "99999999999999"}, after=2)
    report = stack.runtime.workflows.process_approved()
    assert report.deferred_until is not None
    limit = datetime.now(timezone.utc) + timedelta(seconds=MAX_RETRY_AFTER_SECONDS + 60)
    assert report.deferred_until < limit


def test_dry_run_sends_nothing(stack: LoopbackStack) -> None:
    items = [approve(stack, "x", "dry a"), approve(stack, "linkedin", "dry b")]
    stack.user.command("process --dry-run")
    summary = stack.wait_until(
        lambda: "dry run" in stack.responses()[-1]["text"] and stack.responses()[-1]["text"], what="summary"
    )
    assert "2 would be scheduled; nothing was sent to Postiz" in summary
    assert create_requests(stack) == []
    for item_id in items:
        item = stack.item(item_id)
        assert item.status == S.APPROVED
        assert item.claimed_until is None
        assert item.scheduled_at is None

    report = stack.runtime.workflows.process_approved(dry_run=True)
    real = stack.runtime.workflows.process_approved()
    assert sorted(report.planned) == sorted(real.scheduled)


def test_unknown_process_option_rejected(stack: LoopbackStack) -> None:
    reply = stack.user.command("process --now")
    assert "Unknown option `--now`" in reply.text


def test_postiz_posts_are_avoided(stack: LoopbackStack) -> None:
    item_id = approve(stack, "x", "busy calendar")
    [(_, planned)] = stack.runtime.workflows.process_approved(dry_run=True).planned
    x_channel = next(i for i in stack.postiz.integrations if i["identifier"] == "x")
    with PostizClient(base_url=stack.postiz.base_url, api_key=POSTIZ_KEY) as client:
        by_hand = NewPost(integration_id=x_channel["id"], platform=Platform.X, parts=["Posted by hand"])
        client.create_post(posts=[by_hand], date=planned)

    report = stack.runtime.workflows.process_approved()
    [(scheduled_id, when)] = report.scheduled
    assert scheduled_id == item_id
    assert abs(when - planned) >= timedelta(minutes=60)


def test_same_minute_posts_share_request(stack: LoopbackStack) -> None:
    # Items 3 and 8 get the same minute offset, so with one window and no global
    # gap they land on the same minute on different channels.
    stack.configure_workspace({
        "scheduling": {
            "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
            "windows": ["10:00-10:15"],
            "global_gap_minutes": 0,
        }
    })
    platforms = ["x"] * 7 + ["linkedin"]
    items = [stack.generate(platform, f"batch {n}") for n, platform in enumerate(platforms)]
    for item in (items[2], items[7]):
        stack.click(item.id, ActionId.APPROVE)
        stack.wait_for_status(item.id, S.APPROVED)

    report = stack.runtime.workflows.process_approved()
    times = {item_id: when for item_id, when in report.scheduled}
    assert set(times) == {items[2].id, items[7].id}
    assert times[items[2].id] == times[items[7].id]
    [request] = create_requests(stack)
    assert isinstance(request, dict)
    assert len(request["posts"]) == 2


class SteppingClock:
    """Returns ``start`` for the first call, then a time ``jump`` later, like a very slow run."""

    def __init__(self, start: datetime, jump: timedelta) -> None:
        self.start = start
        self.jump = jump
        self.calls = 0

    def __call__(self) -> datetime:
        self.calls += 1
        return self.start if self.calls == 1 else self.start + self.jump


def test_passed_time_is_never_sent(database_url: str) -> None:
    clock = SteppingClock(datetime.now(timezone.utc), timedelta(days=9))
    with LoopbackStack(database_url=database_url, clock=clock) as stack:
        item_id = approve(stack, "x", "slow run")
        clock.calls = 0
        report = stack.runtime.workflows.process_approved()
        assert report.scheduled == []
        assert "planned time passed" in report.skipped[0][1]
        assert create_requests(stack) == []
        assert stack.item(item_id).status == S.APPROVED


def test_expired_plan_is_replanned(stack: LoopbackStack) -> None:
    item_id = approve(stack, "linkedin", "expired")
    past = datetime.now(timezone.utc) - timedelta(days=3)

    linkedin = next(i for i in stack.postiz.integrations if i["identifier"].startswith("linkedin"))
    with unit_of_work(stack.runtime.sessions) as session:
        item = session.get(ContentItem, item_id)
        assert item is not None
        # A send that never reached Postiz, planned for a time that has passed.
        item.send_started_at = past
        item.scheduled_at = past
        item.postiz_integration_id = linkedin["id"]

    report = stack.runtime.workflows.process_approved()
    [(scheduled_id, when)] = report.scheduled
    assert scheduled_id == item_id
    assert when > datetime.now(timezone.utc)
    assert stack.postiz.create_count == 1


def test_read_429_defers_creates(stack: LoopbackStack) -> None:
    item_id = approve(stack, "x", "read limited")
    stack.postiz.fail_next(429, {"statusCode": 429}, headers={"Retry-After": "600"})
    first = stack.runtime.workflows.process_approved()
    assert first.deferred == [item_id]
    assert first.error is None
    again = stack.runtime.workflows.process_approved()
    assert again.deferred == [item_id]
    assert create_requests(stack) == []

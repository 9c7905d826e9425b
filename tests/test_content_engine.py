"""The content engine end to end: the weekly plan, today's slots, topic choice, auto-approval,
preflight and Regenerate, driven through Slack against the stand-ins."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import func, select

from borker.db import unit_of_work
from borker.models import CalendarEntry, ContentStatus, WorkflowRun
from borker.standins.openai_api import draft_json
from borker.workspace import WEEKDAYS
from bot.ids import ActionId
from bot.loopback import LoopbackStack
from bot.scheduler import daily_job

S = ContentStatus


def today_name() -> str:
    return WEEKDAYS[datetime.now(timezone.utc).weekday()]


def workspace(**overrides: Any) -> dict[str, Any]:
    day = today_name()
    data: dict[str, Any] = {
        "brand": {"name": "Acme Analytics", "mission": "Help small teams read their product data."},
        "topic_pools": [
            {"name": "Product", "topics": [
                {"title": "Faster dashboards", "angle": "Speed is a feature", "engagement": 9},
                {"title": "CSV exports", "engagement": 5},
            ]},
            {"name": "Lessons", "topics": [{"title": "Shipping weekly", "engagement": 8}]},
        ],
        "calendar": {
            "weekdays": list(WEEKDAYS),
            "slots": [
                {"weekday": day, "platform": "x", "content_type": "x-post"},
                {"weekday": day, "platform": "x", "content_type": "x-thread"},
                {"weekday": day, "platform": "linkedin", "content_type": "linkedin-post"},
            ],
        },
    }
    data.update(overrides)
    return data


def last_reply(stack: LoopbackStack, prefix: str) -> str:
    return stack.wait_until(
        lambda: next((b["text"] for b in reversed(stack.responses()) if str(b.get("text", "")).startswith(prefix)), None),
        what=f"a reply starting with {prefix!r}",
    )


def test_generate_runs_todays_slots(stack: LoopbackStack) -> None:
    stack.configure_workspace(workspace())
    stack.user.command("generate")
    summary = last_reply(stack, "*Daily generation")
    assert "complete: 3 items generated" in summary

    # Drafts are generated in parallel, so item ids follow completion; slots keep plan order.
    items = sorted((stack.item(item_id) for item_id in stack.item_ids()), key=lambda item: item.calendar_entry_id or 0)
    assert [item.content_type for item in items] == ["x-post", "x-thread", "linkedin-post"]
    assert all(item.status == S.PENDING_REVIEW for item in items)
    assert all(item.selection_reason for item in items)
    # The batch spreads over the pools: the first two slots use different pools.
    assert items[0].pool != items[1].pool
    thread = items[1]
    assert thread.text.startswith("1/")
    first_message = stack.wait_until(
        lambda: json.dumps(stack.message_of(items[0].id).blocks, ensure_ascii=False), what="message"
    )
    assert "Why this topic: pool: Product · topic: Faster dashboards · angle: Speed is a feature" in first_message


def test_second_run_skips_filled_slots(stack: LoopbackStack) -> None:
    stack.configure_workspace(workspace())
    first = stack.runtime.workflows.run_daily(actor="U0REVIEWER")
    assert len(first.generated) + len(first.flagged) == 3
    second = stack.runtime.workflows.run_daily(actor="U0REVIEWER")
    assert second.generated == []
    assert "already has a draft" in second.skipped[0]
    assert len(stack.item_ids()) == 3


def test_recent_posts_reach_prompt(stack: LoopbackStack) -> None:
    assert stack.openai is not None
    stack.configure_workspace(workspace())
    stack.runtime.workflows.run_daily(actor="U0REVIEWER")
    first_x = next(stack.item(i) for i in stack.item_ids() if stack.item(i).content_type == "x-post")
    stack.generate("x", "a follow-up")
    prompt = json.dumps(stack.openai.requests[-1]["messages"])
    assert first_x.text[:40] in prompt
    assert "Acme Analytics" in prompt


def test_auto_approval_stays_rejectable(stack: LoopbackStack) -> None:
    stack.configure_workspace(workspace(auto_approval=True))
    report = stack.runtime.workflows.run_daily(actor="borker")
    assert len(report.generated) == 3
    item_id = report.generated[0]
    assert stack.item(item_id).status == S.APPROVED
    message = stack.wait_until(lambda: stack.message_of(item_id), what="message")
    assert "Auto-approved" in json.dumps(message.blocks)

    stack.click(item_id, ActionId.REJECT)
    assert stack.wait_for_status(item_id, S.REJECTED).audit[-1].actor == "U0REVIEWER"


def test_no_slots_today_blocks_run(stack: LoopbackStack) -> None:
    other_day = WEEKDAYS[(datetime.now(timezone.utc).weekday() + 1) % 7]
    data = workspace()
    data["calendar"]["slots"] = [{"weekday": other_day, "platform": "x", "content_type": "x-post"}]
    stack.configure_workspace(data)
    stack.user.command("generate")
    reply = last_reply(stack, ":x: Daily generation did not run")
    assert f"No calendar slots for today ({today_name()})" in reply
    assert stack.item_ids() == []


def test_status_lists_preflight_warnings(stack: LoopbackStack) -> None:
    status = stack.user.command("status").text
    assert "No brand voice" in status
    assert "No topics in any topic pool" in status
    assert "No calendar slots for today" in status


def test_week_is_materialised_once(stack: LoopbackStack) -> None:
    data = workspace()
    data["calendar"]["slots"] = [
        {"weekday": "mon", "platform": "x", "content_type": "x-post"},
        {"weekday": "wed", "platform": "linkedin", "content_type": "linkedin-post", "time": "10:00"},
        {"weekday": "fri", "platform": "farcaster", "content_type": "farcaster-cast"},
    ]
    data["calendar"]["posts_per_week"] = 2
    stack.configure_workspace(data)
    content = stack.runtime.workflows.content
    next_week = content.today() + timedelta(days=7)
    assert content.plan_week(day=next_week) == 2
    assert content.plan_week(day=next_week) == 0
    with unit_of_work(stack.runtime.sessions) as session:
        entries = list(session.scalars(select(CalendarEntry).order_by(CalendarEntry.day)))
    assert [entry.content_type for entry in entries] == ["x-post", "linkedin-post"]
    assert entries[0].day.weekday() == 0
    assert entries[1].local_time == "10:00"


def test_daily_job_runs_once_per_day(stack: LoopbackStack) -> None:
    stack.configure_workspace(workspace())
    daily_job(stack.runtime)
    daily_job(stack.runtime)
    with unit_of_work(stack.runtime.sessions) as session:
        runs = session.scalar(select(func.count()).select_from(WorkflowRun))
    assert runs == 1
    assert len(stack.item_ids()) == 3
    notices = [c.body["text"] for c in stack.slack.calls_to("chat.postMessage") if "blocks" not in c.body]
    assert any("complete: 3 items generated" in notice for notice in notices)


def test_regenerate_replaces_text(stack: LoopbackStack) -> None:
    assert stack.openai is not None
    item = stack.generate("x", "regenerate me")
    stack.openai.script(draft_json("A completely different angle on the same topic, written again."))
    stack.click(item.id, ActionId.REGENERATE)
    regenerated = stack.wait_until(
        lambda: (current := stack.item(item.id)).text.startswith("A completely") and current, what="new text"
    )
    assert regenerated.status == S.PENDING_REVIEW
    assert regenerated.audit[-1].reason == "regenerated"
    stack.wait_until(
        lambda: "A completely different angle" in json.dumps(stack.message_of(item.id).blocks), what="updated message"
    )


def test_regenerate_refused_after_approval(stack: LoopbackStack) -> None:
    item = stack.generate("x", "too late")
    shown = json.dumps({"id": item.id, "v": item.version})
    stack.click(item.id, ActionId.APPROVE)
    stack.wait_for_status(item.id, S.APPROVED)
    stack.click(item.id, ActionId.REGENERATE, value=shown)
    reply = last_reply(stack, ":warning:")
    assert "is approved, so it cannot be regenerated" in reply


def test_calendar_command_lists_slots(stack: LoopbackStack) -> None:
    stack.configure_workspace(workspace())
    stack.runtime.workflows.run_daily(actor="U0REVIEWER")
    seen = len(stack.responses())
    stack.user.command("calendar")
    reply = stack.reply_since(seen)
    lines = reply.splitlines()
    assert lines[0] == "*Calendar, next 7 days*"
    # Today's three slots are filled, and the plan has no other slots this week.
    assert len(lines) == 4
    assert reply.count("pending review") == 3
    assert "no draft yet" not in reply


def test_reimported_plan_replaces_empty_slots(stack: LoopbackStack) -> None:
    day = today_name()
    data = workspace()
    data["calendar"]["slots"] = [{"weekday": day, "platform": "x", "content_type": "x-post"}]
    stack.configure_workspace(data)
    stack.runtime.workflows.content.plan_week(day=stack.runtime.workflows.content.today())

    data["calendar"]["slots"] = [
        {"weekday": day, "platform": "linkedin", "content_type": "linkedin-post"},
        {"weekday": day, "platform": "farcaster", "content_type": "farcaster-cast"},
    ]
    stack.configure_workspace(data)
    report = stack.runtime.workflows.run_daily(actor="U0REVIEWER")
    assert len(report.generated) + len(report.flagged) == 2
    types = sorted(stack.item(item_id).content_type for item_id in stack.item_ids())
    assert types == ["farcaster-cast", "linkedin-post"]


def test_times_shown_in_workspace_zone(stack: LoopbackStack) -> None:
    stack.configure_workspace({"timezone": "Asia/Tokyo"})
    item = stack.generate("x", "tokyo time")
    stack.click(item.id, ActionId.APPROVE)
    stack.wait_for_status(item.id, S.APPROVED)
    stack.runtime.workflows.process_approved()
    stack.wait_for_status(item.id, S.SCHEDULED)
    assert "JST" in json.dumps(stack.message_of(item.id).blocks)


def test_settings_command_summarises(stack: LoopbackStack) -> None:
    stack.configure_workspace(workspace(timezone="Europe/Berlin", auto_approval=True))
    reply = stack.user.command("settings").text
    assert "Time zone: Europe/Berlin · daily generation at 06:00" in reply
    assert "Approval: auto-approval" in reply
    assert "Topic pools: 2 pools with 3 topics" in reply
    assert "borker workspace import workspace.yml" in reply

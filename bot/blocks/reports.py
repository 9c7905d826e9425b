"""Replies to ``/borker`` subcommands: help, process summaries, status and the queue."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from borker.content import DailyReport
from borker.models import CalendarEntry, ContentItem, ContentStatus, Platform
from borker.processing import ProcessReport
from borker.workspace import WorkspaceConfig
from bot.blocks.content import STATUS_LABELS
from bot.blocks.text import escape, local_time, truncate

HELP_TEXT = """*Borker* drafts posts, you approve them here, and Postiz publishes them.
• `/borker generate`: draft one post for each of today's calendar slots
• `/borker generate <x|linkedin|farcaster> <topic>`: draft one post on a topic of your choice
• `/borker process`: schedule every approved item in Postiz now
• `/borker process --dry-run`: show the times Process Approved would pick, without sending anything
• `/borker queue`: list items waiting for review, approved, scheduled or failed
• `/borker calendar`: the calendar slots of the next 7 days and their drafts
• `/borker settings`: the workspace settings and how to change them
• `/borker status`: counts by status and configuration checks
• `/borker help`: this message"""


def process_summary(report: ProcessReport, zone: ZoneInfo) -> str:
    """Summarise a Process Approved run: scheduled, deferred, skipped and why."""
    if report.error:
        return f":x: Process Approved stopped: {escape(report.error)}"
    if report.dry_run:
        return _dry_run_summary(report, zone)
    headline = f"*Process Approved:* scheduled {len(report.scheduled)}"
    if report.deferred_until is not None:
        deferred_until = report.deferred_until.astimezone(zone)
        headline += f", deferred {len(report.deferred)} until {deferred_until:%H:%M} {deferred_until.tzname()} (Postiz rate limit)"
    if report.skipped:
        headline += f", skipped {len(report.skipped)}"
    if report.failed:
        headline += f", failed {len(report.failed)}"
    lines = [headline + "."]
    for item_id, when in report.scheduled:
        lines.append(f"• #{item_id} scheduled for {local_time(when, zone)}")
    lines.extend(_problems(report))
    if not (report.scheduled or report.deferred or report.skipped or report.failed):
        return "*Process Approved:* nothing to schedule: no approved items are waiting."
    return "\n".join(lines)


def _dry_run_summary(report: ProcessReport, zone: ZoneInfo) -> str:
    lines = [f"*Process Approved, dry run:* {len(report.planned)} would be scheduled; nothing was sent to Postiz."]
    for item_id, when in report.planned:
        lines.append(f"• #{item_id} would go out {local_time(when, zone)}")
    lines.extend(_problems(report))
    if len(lines) == 1 and not report.planned:
        return "*Process Approved, dry run:* nothing to schedule: no approved items are waiting."
    return "\n".join(lines)


def _problems(report: ProcessReport) -> list[str]:
    lines = [f"• #{item_id} skipped: {escape(reason)}" for item_id, reason in report.skipped]
    lines += [f"• #{item_id} failed: {escape(reason)}" for item_id, reason in report.failed]
    return lines


def daily_summary(report: DailyReport) -> str:
    """Summary of a daily generation run, with every reason a slot got no draft."""
    if report.blocked:
        return ":x: Daily generation did not run:\n" + "\n".join(f"• {escape(line)}" for line in report.blocked)
    total = len(report.generated) + len(report.flagged)
    outcome = "complete" if total or not (report.failed or report.skipped) else "nothing generated"
    headline = f"*Daily generation for {report.day:%a %-d %b}:* {outcome}: {_count(total, 'item')} generated"
    if report.flagged:
        headline += f" ({len(report.flagged)} of them flagged for an edit)"
    if report.failed:
        headline += f", {len(report.failed)} failed"
    lines = [headline + "."]
    lines += [f"• #{item_id} failed: {escape(reason)}" for item_id, reason in report.failed]
    lines += [f"• {escape(reason)}" for reason in report.skipped]
    return "\n".join(lines)


def calendar_summary(rows: list[tuple[CalendarEntry, ContentItem | None]]) -> str:
    """Summarise the coming days' calendar slots and the draft that fills each, if any."""
    if not rows:
        return (
            "The calendar is empty for the next 7 days: add slots under `calendar.slots` in the workspace "
            "file and run `borker workspace import`."
        )
    lines = ["*Calendar, next 7 days*"]
    for entry, item in rows:
        when = f"{entry.day:%a %-d %b}" + (f" {entry.local_time}" if entry.local_time else "")
        slot = f"{Platform(entry.platform).label} {escape(entry.content_type)}" + (
            f" from {escape(entry.pool)}" if entry.pool else ""
        )
        if item is None:
            filled = "no draft yet"
        else:
            filled = f"#{item.id} {STATUS_LABELS[ContentStatus(item.status)].lower()}: {escape(truncate(item.topic, 60))}"
        lines.append(f"• {when} · {slot} · {filled}")
    return "\n".join(lines)


def settings_summary(workspace: WorkspaceConfig, zone: ZoneInfo) -> str:
    """Summarise the workspace settings that matter day to day, and where to change them."""
    topics = sum(len(pool.topics) for pool in workspace.topic_pools)
    scheduling = workspace.scheduling
    lines = [
        "*Workspace settings*",
        f"• Time zone: {zone.key} · daily generation at {workspace.daily_run_time}",
        f"• Approval: {'auto-approval' if workspace.auto_approval else 'manual review'}",
        f"• Brand voice: {escape(workspace.brand.name) if workspace.brand.configured else 'not configured'}",
        f"• Topic pools: {_count(len(workspace.topic_pools), 'pool')} with {_count(topics, 'topic')}",
        f"• Calendar: {_count(len(workspace.calendar.slots), 'slot')} a week",
        f"• Posting: {', '.join(scheduling.days)} within {', '.join(scheduling.windows)}",
        "Change them in the workspace file: `borker workspace export > workspace.yml`, edit it, then "
        "`borker workspace import workspace.yml`.",
    ]
    return "\n".join(lines)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def status_summary(counts: dict[ContentStatus, int], checks: list[str]) -> str:
    parts = [f"{STATUS_LABELS[status]}: {counts.get(status, 0)}" for status in ContentStatus]
    lines = ["*Borker status*", " · ".join(parts)]
    lines.extend(checks or [":white_check_mark: Configuration looks complete."])
    return "\n".join(lines)


def queue_summary(items: list[ContentItem], total: int, zone: ZoneInfo) -> str:
    if not items:
        return "The queue is empty: nothing is waiting for review, approved, scheduled or failed."
    lines = ["*Queue*"]
    for item in items:
        label = Platform(item.platform).label
        when = f" · {local_time(item.scheduled_at, zone)}" if item.scheduled_at else ""
        summary = item.text.replace(chr(10), " ") or item.topic
        if item.status == ContentStatus.FAILED and item.failure_reason:
            summary = item.failure_reason
        lines.append(
            f"• #{item.id} {label} · {STATUS_LABELS[ContentStatus(item.status)]}{when}: "
            f"{escape(truncate(summary, 80))}"
        )
    if total > len(items):
        lines.append(f"… and {total - len(items)} more.")
    return "\n".join(lines)

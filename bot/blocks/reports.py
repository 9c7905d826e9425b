"""Replies to ``/borker`` subcommands: help, process summaries, status and the queue."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from borker.models import ContentItem, ContentStatus, Platform
from borker.workflows import ProcessReport
from bot.blocks.content import STATUS_LABELS
from bot.blocks.text import escape, local_time, truncate

HELP_TEXT = """*Borker* drafts posts, you approve them here, and Postiz publishes them.
• `/borker generate <x|linkedin|farcaster> <topic>`: draft one post for review
• `/borker process`: schedule every approved item in Postiz now
• `/borker queue`: list items waiting for review, approved, scheduled or failed
• `/borker status`: counts by status and configuration checks
• `/borker help`: this message"""


def process_summary(report: ProcessReport, zone: ZoneInfo) -> str:
    """One plain summary of a Process Approved run: scheduled, skipped and why."""
    if report.error:
        return f":x: Process Approved stopped: {escape(report.error)}"
    lines = [f"*Process Approved:* scheduled {len(report.scheduled)}, skipped {len(report.skipped)}"
             f", failed {len(report.failed)}, deferred {len(report.deferred)}."]
    for item_id, when in report.scheduled:
        lines.append(f"• #{item_id} scheduled for {local_time(when, zone)}")
    for item_id, reason in report.skipped:
        lines.append(f"• #{item_id} skipped: {escape(reason)}")
    for item_id, reason in report.failed:
        lines.append(f"• #{item_id} failed: {escape(reason)}")
    if report.deferred_until:
        lines.append(
            f"• {len(report.deferred)} deferred until {local_time(report.deferred_until, zone)} (Postiz rate limit)"
        )
    if len(lines) == 1 and not report.deferred:
        lines[0] = "*Process Approved:* nothing to schedule: no approved items are waiting."
    return "\n".join(lines)


def status_summary(counts: dict[ContentStatus, int], checks: list[str]) -> str:
    parts = [f"{STATUS_LABELS[status]}: {counts.get(status, 0)}" for status in ContentStatus]
    lines = ["*Borker status*", " · ".join(parts)]
    lines.extend(checks or [":white_check_mark: Configuration looks complete."])
    return "\n".join(lines)


def queue_summary(items: list[ContentItem], zone: ZoneInfo) -> str:
    if not items:
        return "The queue is empty: nothing is waiting for review, approved, scheduled or failed."
    lines = ["*Queue*"]
    for item in items:
        label = Platform(item.platform).label
        when = f" · {local_time(item.scheduled_at, zone)}" if item.scheduled_at else ""
        lines.append(
            f"• #{item.id} {label} · {STATUS_LABELS[ContentStatus(item.status)]}{when}: "
            f"{escape(truncate(item.text.replace(chr(10), ' '), 80))}"
        )
    return "\n".join(lines)

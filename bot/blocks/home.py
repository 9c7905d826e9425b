"""The App Home tab: counts by status, the queue and configuration checks."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from borker.models import ContentItem, ContentStatus
from bot.blocks.reports import queue_summary, status_summary
from bot.blocks.text import SECTION_TEXT_MAX, truncate_markup


def home_view(
    *, counts: dict[ContentStatus, int], queue: list[ContentItem], total: int, checks: list[str], zone: ZoneInfo
) -> dict[str, Any]:
    return {
        "type": "home",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "Borker"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": status_summary(counts, checks)}},
            {"type": "divider"},
            {"type": "section", "text": {"type": "mrkdwn", "text": truncate_markup(queue_summary(queue, total, zone), SECTION_TEXT_MAX)}},
        ],
    }

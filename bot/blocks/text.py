"""Text helpers for Slack ``mrkdwn``: escaping, mentions, dates and Slack's size limits."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

SECTION_TEXT_MAX = 3000
MESSAGE_BLOCKS_MAX = 50
FALLBACK_TEXT_MAX = 300
BUTTON_TEXT_MAX = 75
BUTTON_URL_MAX = 3000

_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


def escape(text: str) -> str:
    """Escape the three characters Slack treats as control characters in mrkdwn.

    The ampersand goes first so that the entities added for ``<`` and ``>`` are
    not escaped twice. With these escaped, ``<!channel>``, ``<@U…>`` and
    disguised links in model output reach Slack as plain text.
    """
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mention(actor: str) -> str:
    """Render a Slack user id as a mention, and anything else (``borker``, ``postiz``) as escaped text."""
    if _USER_ID.match(actor):
        return f"<@{actor}>"
    return escape(actor)


def chunks(text: str, size: int = SECTION_TEXT_MAX) -> list[str]:
    """Split text into pieces of at most ``size`` characters, preferring line breaks."""
    pieces: list[str] = []
    rest = text
    while len(rest) > size:
        cut = rest.rfind("\n", 0, size)
        if cut <= 0:
            cut = size
        pieces.append(rest[:cut])
        rest = rest[cut:].lstrip("\n")
    pieces.append(rest)
    return pieces


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def truncate_markup(mrkdwn: str, limit: int) -> str:
    """Shorten escaped mrkdwn to ``limit`` characters without cutting an entity such as ``&amp;`` in half."""
    if len(mrkdwn) <= limit:
        return mrkdwn
    cut = mrkdwn[: limit - 1]
    ampersand = cut.rfind("&")
    if ampersand != -1 and ";" not in cut[ampersand:]:
        cut = cut[:ampersand]
    return cut + "…"


def local_time(moment: datetime, zone: ZoneInfo) -> str:
    """Format a UTC time in the workspace time zone, e.g. ``Mon 7 Dec 2026, 09:00 CET``."""
    local = moment.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M} {local.tzname()}"

"""The Edit modal for a draft's text."""

from __future__ import annotations

from typing import Any

from borker.models import ContentItem, Platform
from bot.blocks.text import SECTION_TEXT_MAX
from bot.ids import BlockId, CallbackId, ItemRef

EDIT_ACTION = "text"


def edit_modal(item: ContentItem) -> dict[str, Any]:
    platform = Platform(item.platform)
    return {
        "type": "modal",
        "callback_id": CallbackId.EDIT_DRAFT,
        "private_metadata": ItemRef(id=item.id, v=item.version).dump(),
        "title": {"type": "plain_text", "text": f"Edit draft #{item.id}"[:24]},
        "submit": {"type": "plain_text", "text": "Save"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "input",
                "block_id": BlockId.EDIT_TEXT,
                "label": {"type": "plain_text", "text": f"{platform.label} post"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": EDIT_ACTION,
                    "multiline": True,
                    # A plain_text_input accepts at most 3000 characters, which covers
                    # every single post Borker drafts (LinkedIn's limit is 3000).
                    "max_length": SECTION_TEXT_MAX,
                    "initial_value": item.text[:SECTION_TEXT_MAX],
                },
            }
        ],
    }


def submitted_text(view: dict[str, Any]) -> str:
    value = view["state"]["values"][BlockId.EDIT_TEXT][EDIT_ACTION].get("value")
    return value or ""

"""The review message of one content item, rendered for its current status."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from borker.drafting import check_content
from borker.models import AuditEntry, ContentItem, ContentStatus, Platform
from borker.platforms import ContentType
from borker.postiz import preview_url
from bot.blocks.text import (
    BUTTON_URL_MAX,
    FALLBACK_TEXT_MAX,
    SECTION_TEXT_MAX,
    chunks,
    escape,
    local_time,
    mention,
    truncate,
    truncate_markup,
)
from bot.ids import ActionId, BlockId, ItemRef

S = ContentStatus

# Slack allows 50 blocks per message and about 12,000 characters of text in all.
# Four sections of 3,000 cover every single post, because LinkedIn's limit is 3,000.
MAX_TEXT_SECTIONS = 4

CONTENT_TYPE_NOUNS = {"x-post": "post", "x-thread": "thread", "linkedin-post": "post", "farcaster-cast": "cast"}

STATUS_LABELS = {
    S.DRAFT: "Draft",
    S.PENDING_REVIEW: "Pending review",
    S.APPROVED: "Approved",
    S.REJECTED: "Rejected",
    S.SCHEDULED: "Scheduled",
    S.PUBLISHED: "Published",
    S.FAILED: "Failed",
}


@dataclass(frozen=True)
class RenderContext:
    zone: ZoneInfo
    postiz_frontend_url: str


@dataclass(frozen=True)
class RenderedMessage:
    text: str
    blocks: list[dict[str, Any]]


def _button(text: str, action: ActionId, ref: ItemRef, style: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "action_id": action,
        "text": {"type": "plain_text", "text": text},
        "value": ref.dump(),
    }
    if style:
        button["style"] = style
    return button


def _link_button(text: str, action: ActionId, url: str) -> dict[str, Any]:
    return {"type": "button", "action_id": action, "text": {"type": "plain_text", "text": text}, "url": url}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": truncate_markup(text, SECTION_TEXT_MAX)}]}


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": truncate_markup(text, SECTION_TEXT_MAX)}}


def _plain_section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "plain_text", "text": text[:SECTION_TEXT_MAX], "emoji": True}}


def _web_url(url: str | None) -> str | None:
    """Return ``url`` if it is an http(s) link that fits a button, else None."""
    if url and url.startswith(("https://", "http://")) and len(url) <= BUTTON_URL_MAX:
        return url
    return None


def render_item(item: ContentItem, decision: AuditEntry | None, context: RenderContext) -> RenderedMessage:
    """Render the item's Slack message; ``decision`` is the audit entry that set its current status."""
    platform = Platform(item.platform)
    status = ContentStatus(item.status)
    ref = ItemRef(id=item.id, v=item.version)
    check = check_content(ContentType(item.content_type), item.text)

    blocks: list[dict[str, Any]] = [
        _section(f"*{platform.label} {CONTENT_TYPE_NOUNS.get(item.content_type, 'post')}* — {STATUS_LABELS[status]} · item #{item.id}"),
    ]
    if item.text:
        pieces = chunks(item.text)
        # Plain text shows the post exactly as it will be published: Slack applies
        # no formatting (a *word* stays in asterisks) and resolves no mentions.
        blocks.extend(_plain_section(piece or " ") for piece in pieces[:MAX_TEXT_SECTIONS])
        if len(pieces) > MAX_TEXT_SECTIONS:
            blocks.append(_context(f"… the text goes on for {len(item.text):,} characters; open Edit to see all of it."))
        measure = f" · {check.length}/{check.limit} {check.unit}"
    else:
        measure = ""
    if item.selection_reason:
        why = f"Why this topic: {escape(item.selection_reason)}"
    else:
        why = f"Topic: {escape(item.topic) or '—'}"
    blocks.append(_context(why + measure))
    if item.problem and status in (S.PENDING_REVIEW, S.FAILED):
        blocks.append(_section(f":warning: *Needs an edit:* {escape(item.problem)}. Approve is disabled until it is fixed."))

    blocks.extend(_status_blocks(item, status, decision, ref, context))
    fallback = truncate(f"{platform.label} draft #{item.id} ({STATUS_LABELS[status].lower()}): {item.text}", FALLBACK_TEXT_MAX)
    return RenderedMessage(text=escape(fallback), blocks=blocks)


def _status_blocks(
    item: ContentItem, status: ContentStatus, decision: AuditEntry | None, ref: ItemRef, context: RenderContext
) -> list[dict[str, Any]]:
    who = mention(decision.actor) if decision else "someone"
    when = local_time(decision.at, context.zone) if decision else ""

    if status == S.PENDING_REVIEW:
        buttons = [] if item.problem else [_button("Approve", ActionId.APPROVE, ref, "primary")]
        buttons += [
            _button("Edit", ActionId.EDIT, ref),
            _button("Regenerate", ActionId.REGENERATE, ref),
            _button("Reject", ActionId.REJECT, ref, "danger"),
        ]
        return [{"type": "actions", "block_id": BlockId.ITEM_ACTIONS, "elements": buttons}]
    if status == S.APPROVED and decision is not None and decision.reason == "auto-approved":
        # Auto-approved items skipped review, so they stay rejectable until scheduled.
        return [
            _context(f":robot_face: Auto-approved on {when}. Process Approved will schedule it."),
            {"type": "actions", "block_id": BlockId.ITEM_ACTIONS,
             "elements": [_button("Reject", ActionId.REJECT, ref, "danger")]},
        ]
    if status == S.APPROVED:
        if decision is not None and decision.from_status == S.SCHEDULED:
            return [
                _context(f":leftwards_arrow_with_hook: Scheduling cancelled by {who} on {when}; the Postiz post "
                         "was deleted. The item is approved again, so Process Approved will schedule it at a new "
                         "time unless you reject it."),
                {"type": "actions", "block_id": BlockId.ITEM_ACTIONS,
                 "elements": [_button("Reject", ActionId.REJECT, ref, "danger")]},
            ]
        return [_context(f":white_check_mark: Approved by {who} on {when}. Process Approved will schedule it.")]
    if status == S.REJECTED:
        return [_context(f":no_entry_sign: Rejected by {who} on {when}.")]
    if status == S.SCHEDULED and item.scheduled_at and item.postiz_id:
        badge = preview_url(context.postiz_frontend_url, item.postiz_id)
        return [
            _context(f":calendar: Scheduled for *{local_time(item.scheduled_at, context.zone)}* by {who}."),
            {
                "type": "actions",
                "block_id": BlockId.ITEM_ACTIONS,
                "elements": [
                    _link_button("View in Postiz", ActionId.VIEW_IN_POSTIZ, badge),
                    _button("Cancel", ActionId.CANCEL, ref, "danger"),
                ],
            },
        ]
    if status == S.PUBLISHED:
        blocks = [_context(f":rocket: Published on {when}.")]
        elements = []
        live_url = _web_url(item.release_url)
        if live_url:
            elements.append(_link_button("View live post", ActionId.VIEW_LIVE, live_url))
        if item.postiz_id:
            elements.append(
                _link_button("View in Postiz", ActionId.VIEW_IN_POSTIZ, preview_url(context.postiz_frontend_url, item.postiz_id))
            )
        if elements:
            blocks.append({"type": "actions", "block_id": BlockId.ITEM_ACTIONS, "elements": elements})
        return blocks
    if status == S.FAILED:
        reason = escape(item.failure_reason or "no reason reported")
        buttons = [_button("Edit", ActionId.EDIT, ref)] if item.text else []
        if item.postiz_id is None:
            buttons.append(_button("Regenerate", ActionId.REGENERATE, ref))
        buttons.append(_button("Reject", ActionId.REJECT, ref, "danger"))
        return [
            _section(f":x: *Failed* on {when}: {reason}"),
            {"type": "actions", "block_id": BlockId.ITEM_ACTIONS, "elements": buttons},
        ]
    return []

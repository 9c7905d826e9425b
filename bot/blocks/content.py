"""The review message of one content item, rendered for its current status."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from borker.models import AuditEntry, ContentItem, ContentStatus, Platform
from borker.platforms import check_text
from borker.postiz import preview_url
from bot.blocks.text import FALLBACK_TEXT_MAX, chunks, escape, local_time, mention, truncate
from bot.ids import ActionId, BlockId, ItemRef

S = ContentStatus

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
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def render_item(item: ContentItem, decision: AuditEntry | None, context: RenderContext) -> RenderedMessage:
    """Render the item's Slack message; ``decision`` is the audit entry that set its current status."""
    platform = Platform(item.platform)
    status = ContentStatus(item.status)
    ref = ItemRef(id=item.id, v=item.version)
    check = check_text(platform, item.text)

    blocks: list[dict[str, Any]] = [
        _section(f"*{platform.label} · {escape(item.content_type)}* — {STATUS_LABELS[status]} · item #{item.id}"),
    ]
    blocks.extend(_section(escape(piece) or " ") for piece in chunks(item.text or "(empty)"))
    blocks.append(
        _context(f"Topic: {escape(item.topic) or '—'} · {check.length}/{check.limit} {check.unit}")
    )
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
        buttons += [_button("Edit", ActionId.EDIT, ref), _button("Reject", ActionId.REJECT, ref, "danger")]
        return [{"type": "actions", "block_id": BlockId.ITEM_ACTIONS, "elements": buttons}]
    if status == S.APPROVED:
        if decision is not None and decision.from_status == S.SCHEDULED:
            return [_context(f":leftwards_arrow_with_hook: Scheduling cancelled by {who} on {when}; "
                             "the Postiz post was deleted. The item is approved again and Process Approved "
                             "will schedule it at a new time.")]
        return [_context(f":white_check_mark: Approved by {who} on {when}. Process Approved will schedule it.")]
    if status == S.REJECTED:
        return [_context(f":no_entry_sign: Rejected by {who} on {when}.")]
    if status == S.SCHEDULED and item.scheduled_at and item.postiz_id:
        badge = preview_url(context.postiz_frontend_url, item.postiz_id)
        return [
            _context(f":calendar: Scheduled for *{local_time(item.scheduled_at, context.zone)}* ({context.zone.key}) by {who}."),
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
        if item.release_url:
            elements.append(_link_button("View live post", ActionId.VIEW_LIVE, item.release_url))
        if item.postiz_id:
            elements.append(
                _link_button("View in Postiz", ActionId.VIEW_IN_POSTIZ, preview_url(context.postiz_frontend_url, item.postiz_id))
            )
        if elements:
            blocks.append({"type": "actions", "block_id": BlockId.ITEM_ACTIONS, "elements": elements})
        return blocks
    if status == S.FAILED:
        reason = escape(item.failure_reason or "no reason reported")
        return [
            _section(f":x: *Failed* on {when}: {reason}"),
            {
                "type": "actions",
                "block_id": BlockId.ITEM_ACTIONS,
                "elements": [_button("Edit", ActionId.EDIT, ref), _button("Reject", ActionId.REJECT, ref, "danger")],
            },
        ]
    return []

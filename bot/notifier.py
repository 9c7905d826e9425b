"""Keeps each item's Slack message in step with the item, through ``chat.update``.

A failed Slack call never undoes or blocks a change that is already stored:
the error is logged, and ``repair_messages`` redoes every message whose
``slack_synced_version`` is behind the item's version.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from borker import lifecycle
from borker.db import unit_of_work
from borker.models import AuditEntry, ContentItem, ContentStatus
from bot.blocks.content import RenderContext, RenderedMessage, render_item
from bot.blocks.text import escape

log = logging.getLogger(__name__)

# Errors after which the old message can no longer be edited, so a new one is posted.
ORPHANED = {"message_not_found", "cant_update_message", "edit_window_closed"}
REPAIR_BATCH = 50


def explain_slack_error(code: str, channel: str) -> str:
    """Explain a Slack Web API error code in one plain sentence, with the fix."""
    explanations = {
        "not_in_channel": f"Borker is not a member of the review channel <#{channel}>: invite it with `/invite @Borker`.",
        "channel_not_found": (
            f"The review channel {channel} was not found: check BORKER_REVIEW_CHANNEL, "
            "and invite Borker if the channel is private."
        ),
        "is_archived": f"The review channel <#{channel}> is archived: unarchive it or set another BORKER_REVIEW_CHANNEL.",
        "invalid_auth": "Slack rejected SLACK_BOT_TOKEN: reinstall the app and update the token.",
        "not_authed": "Slack rejected SLACK_BOT_TOKEN: reinstall the app and update the token.",
        "token_revoked": "The Slack bot token was revoked: reinstall the app and update SLACK_BOT_TOKEN.",
        "ratelimited": "Slack is rate limiting Borker; the message will be updated within a few minutes.",
    }
    return explanations.get(code, f"Slack returned the error {code!r}; Borker will try again in a few minutes.")


class SlackNotifier:
    """Posts or edits the review message of an item whenever the core reports a change."""

    def __init__(
        self,
        *,
        client: WebClient,
        sessions: sessionmaker[Session],
        channel: str,
        postiz_frontend_url: str,
        zone: Callable[[], ZoneInfo],
    ) -> None:
        self.client = client
        self.sessions = sessions
        self.channel = channel
        self.postiz_frontend_url = postiz_frontend_url
        # Read on every render, so a newly imported workspace time zone shows at once.
        self.zone = zone
        # The last Slack error per item, so a command reply can explain it.
        self.failures: dict[int, str] = {}

    def render(self, item_id: int) -> tuple[ContentItem, RenderedMessage]:
        with unit_of_work(self.sessions) as session:
            item = lifecycle.get_item(session, item_id)
            decision = session.scalars(
                select(AuditEntry)
                .where(AuditEntry.item_id == item_id, AuditEntry.to_status == item.status)
                .order_by(AuditEntry.id.desc())
                .limit(1)
            ).first()
            context = RenderContext(zone=self.zone(), postiz_frontend_url=self.postiz_frontend_url)
            return item, render_item(item, decision, context)

    def item_changed(self, item_id: int) -> None:
        try:
            self._sync(item_id)
            self.failures.pop(item_id, None)
        except SlackApiError as exc:
            code = str(exc.response.get("error") or exc.response.status_code)
            self.failures[item_id] = explain_slack_error(code, self.channel)
            log.error("could not update the Slack message of item %s: %s", item_id, code)

    def _sync(self, item_id: int) -> None:
        item, message = self.render(item_id)
        if item.slack_channel and item.slack_ts:
            try:
                self.client.chat_update(
                    channel=item.slack_channel, ts=item.slack_ts, text=message.text, blocks=message.blocks
                )
                self._mark_synced(item_id, item.version)
                return
            except SlackApiError as exc:
                error = exc.response.get("error")
                if error not in ORPHANED:
                    raise
                log.warning("message of item %s can no longer be edited (%s); posting a new one", item_id, error)
        response = self.client.chat_postMessage(channel=self.channel, text=message.text, blocks=message.blocks)
        self._mark_synced(item_id, item.version, channel=response["channel"], ts=response["ts"])

    def _mark_synced(self, item_id: int, version: int, *, channel: str | None = None, ts: str | None = None) -> None:
        values: dict[str, object] = {"slack_synced_version": version}
        if channel and ts:
            values.update(slack_channel=channel, slack_ts=ts)
        with unit_of_work(self.sessions) as session:
            session.execute(update(ContentItem).where(ContentItem.id == item_id).values(**values))

    def repair_messages(self) -> int:
        """Post or update every message that is missing or behind its item; return how many were tried."""
        with unit_of_work(self.sessions) as session:
            stale = list(session.scalars(
                select(ContentItem.id)
                .where(
                    ContentItem.status != ContentStatus.DRAFT,
                    or_(
                        ContentItem.slack_synced_version.is_(None),
                        ContentItem.slack_synced_version != ContentItem.version,
                    ),
                )
                .order_by(ContentItem.id)
                .limit(REPAIR_BATCH)
            ))
        for item_id in stale:
            self.item_changed(item_id)
        return len(stale)

    def announce(self, text: str) -> None:
        self.announce_markup(escape(text))

    def announce_markup(self, mrkdwn: str) -> None:
        """Post text that a block builder has already escaped."""
        try:
            self.client.chat_postMessage(channel=self.channel, text=mrkdwn)
        except SlackApiError as exc:
            log.error("could not post a notice to the review channel: %s", exc.response.get("error"))

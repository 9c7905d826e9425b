"""Keeps each item's Slack message in step with the item, through ``chat.update``."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from borker import lifecycle
from borker.db import unit_of_work
from borker.models import AuditEntry, ContentItem
from bot.blocks.content import RenderContext, RenderedMessage, render_item
from bot.blocks.text import escape

log = logging.getLogger(__name__)

# Errors after which the old message can no longer be edited, so a new one is posted.
ORPHANED = {"message_not_found", "cant_update_message", "edit_window_closed", "channel_not_found"}


class SlackNotifier:
    """Posts or edits the review message of an item whenever the core reports a change."""

    def __init__(
        self, *, client: WebClient, sessions: sessionmaker[Session], channel: str, context: RenderContext
    ) -> None:
        self.client = client
        self.sessions = sessions
        self.channel = channel
        self.context = context

    def render(self, item_id: int) -> tuple[ContentItem, RenderedMessage]:
        with unit_of_work(self.sessions) as session:
            item = lifecycle.get_item(session, item_id)
            decision = session.scalars(
                select(AuditEntry)
                .where(AuditEntry.item_id == item_id, AuditEntry.to_status == item.status)
                .order_by(AuditEntry.id.desc())
                .limit(1)
            ).first()
            return item, render_item(item, decision, self.context)

    def item_changed(self, item_id: int) -> None:
        item, message = self.render(item_id)
        if item.slack_channel and item.slack_ts:
            try:
                self.client.chat_update(
                    channel=item.slack_channel, ts=item.slack_ts, text=message.text, blocks=message.blocks
                )
                return
            except SlackApiError as exc:
                error = exc.response.get("error")
                if error not in ORPHANED:
                    log.error("chat.update failed for item %s: %s", item_id, error)
                    raise
                log.warning("message of item %s can no longer be edited (%s); posting a new one", item_id, error)
        response = self.client.chat_postMessage(channel=self.channel, text=message.text, blocks=message.blocks)
        with unit_of_work(self.sessions) as session:
            stored = lifecycle.get_item(session, item_id)
            stored.slack_channel = response["channel"]
            stored.slack_ts = response["ts"]

    def announce(self, text: str) -> None:
        self.client.chat_postMessage(channel=self.channel, text=escape(text))

    def announce_markup(self, mrkdwn: str) -> None:
        """Post text that a block builder has already escaped."""
        self.client.chat_postMessage(channel=self.channel, text=mrkdwn)

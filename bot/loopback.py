"""The whole Borker stack wired to local stand-ins, for ``borker demo`` and the tests.

Borker itself runs unchanged: the real web server, Bolt app, database and
workflows. Only the three outside services are replaced by loopback servers.
"""

from __future__ import annotations

import os
import secrets
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import select

from borker.config import Settings, load_settings
from borker.db import unit_of_work
from borker.models import ContentItem, utcnow
from borker.standins.openai_api import OpenAIStandin
from borker.standins.postiz import PostizStandin
from borker.standins.slack_api import SlackStandin
from borker.standins.slack_user import SlackUser
from borker.workspace import parse_workspace_data, save_workspace
from bot.runtime import Runtime, build_runtime
from bot.server import build_web_app
from bot.serving import BackgroundServer

REVIEW_CHANNEL = "C0REVIEW"
SIGNING_SECRET = "loopback-signing-secret"
POSTIZ_KEY = "loopback-postiz-key"

T = TypeVar("T")


class LoopbackStack:
    """Starts the stand-ins and a real Borker server wired to them; a context manager."""

    def __init__(
        self,
        *,
        database_url: str | None = None,
        use_real_openai: bool = False,
        run_scheduler: bool = False,
        clock: Callable[[], datetime] = utcnow,
        **setting_overrides: Any,
    ) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="borker-")
        self.database_url = database_url or f"sqlite:///{Path(self._tmp.name) / 'borker.db'}"
        self.webhook_token = secrets.token_urlsafe(24)

        self.slack = SlackStandin().start()
        self.postiz = PostizStandin(api_key=POSTIZ_KEY).start()
        # The stand-in serves the public preview pages itself, so badge links open.
        self.postiz.frontend_url = self.postiz.url
        self.openai: OpenAIStandin | None = None if use_real_openai else OpenAIStandin().start()

        overrides: dict[str, Any] = {
            "SLACK_BOT_TOKEN": "xoxb-loopback",
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": self.slack.api_url,
            "BORKER_REVIEW_CHANNEL": REVIEW_CHANNEL,
            "POSTIZ_API_URL": self.postiz.base_url,
            "POSTIZ_API_KEY": POSTIZ_KEY,
            "POSTIZ_FRONTEND_URL": self.postiz.url,
            "BORKER_WEBHOOK_TOKEN": self.webhook_token,
            "BORKER_DATABASE_URL": self.database_url,
            "BORKER_LLM_MODEL": "borker-sample",
        }
        if self.openai is not None:
            overrides["OPENAI_BASE_URL"] = self.openai.base_url
            overrides["OPENAI_API_KEY"] = "sk-loopback"
        else:
            overrides["OPENAI_API_KEY"] = os.environ["OPENAI_API_KEY"]
            overrides["BORKER_LLM_MODEL"] = os.environ.get("BORKER_LLM_MODEL", "gpt-4o-mini")
            if os.environ.get("OPENAI_BASE_URL"):
                overrides["OPENAI_BASE_URL"] = os.environ["OPENAI_BASE_URL"]
        overrides.update(setting_overrides)

        self.settings: Settings = load_settings(**overrides)
        self.runtime: Runtime = build_runtime(self.settings, clock=clock)
        self.server = BackgroundServer(build_web_app(self.runtime, run_scheduler=run_scheduler)).start()
        self.webhook_url = f"{self.server.url}/webhooks/postiz/{self.webhook_token}"
        self.postiz.webhook_urls.append(self.webhook_url)
        self.user = SlackUser(app_url=self.server.url, signing_secret=SIGNING_SECRET, slack=self.slack)

    def __enter__(self) -> "LoopbackStack":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.user.close()
        self.server.stop()
        self.runtime.close()
        for standin in (self.slack, self.postiz, self.openai):
            if standin is not None:
                standin.stop()
        self._tmp.cleanup()

    def configure_workspace(self, data: dict[str, Any]) -> None:
        """Validate and store a workspace configuration, as ``borker workspace import`` does."""
        with unit_of_work(self.runtime.sessions) as session:
            save_workspace(session, parse_workspace_data(data), actor="loopback")

    # Reading state

    def item(self, item_id: int) -> ContentItem:
        with unit_of_work(self.runtime.sessions) as session:
            item = session.get(ContentItem, item_id)
            assert item is not None, f"no content item {item_id}"
            _ = item.audit  # load the audit trail before the session closes
            return item

    def item_ids(self) -> list[int]:
        with unit_of_work(self.runtime.sessions) as session:
            return list(session.scalars(select(ContentItem.id).order_by(ContentItem.id)))

    def wait_until(self, condition: Callable[[], T], *, timeout: float = 15.0, what: str = "condition") -> T:
        """Poll ``condition`` until it returns a truthy value; raise TimeoutError otherwise."""
        deadline = time.monotonic() + timeout
        while True:
            result = condition()
            if result:
                return result
            if time.monotonic() > deadline:
                raise TimeoutError(f"timed out waiting for {what}")
            time.sleep(0.05)

    def wait_for_status(self, item_id: int, status: str, *, timeout: float = 15.0) -> ContentItem:
        """Wait until the item has ``status`` and its Slack message shows it (or showing it failed)."""
        return self.wait_for_item(
            item_id, lambda item: item.status == status, timeout=timeout, what=f"item {item_id} to become {status}"
        )

    def wait_for_item(
        self, item_id: int, condition: Callable[[ContentItem], bool], *, timeout: float = 15.0, what: str = "the item"
    ) -> ContentItem:
        """Wait until ``condition`` holds for the item and its Slack message is up to date with it."""

        def settled() -> ContentItem | None:
            item = self.item(item_id)
            if not condition(item):
                return None
            shown = item.slack_synced_version == item.version or item_id in self.runtime.notifier.failures
            return item if shown else None

        return self.wait_until(settled, timeout=timeout, what=what)

    def reply_since(self, seen: int) -> str:
        """Wait for the first ephemeral reply after the first ``seen`` ones and return its text."""
        body = self.wait_until(
            lambda: len(self.responses()) > seen and self.responses()[seen], what="a new ephemeral reply"
        )
        return str(body.get("text", ""))

    def responses(self) -> list[dict[str, Any]]:
        """Bodies posted to response URLs (ephemeral replies), oldest first."""
        return [call.body for call in self.slack.calls_to("response_url")]

    # Acting as a reviewer

    def generate(self, platform: str, topic: str) -> ContentItem:
        """Run ``/borker generate`` and wait until the draft's review message is posted."""
        before = set(self.item_ids())
        response = self.user.command(f"generate {platform} {topic}")
        response.raise_for_status()
        new_id = self.wait_until(
            lambda: next((i for i in self.item_ids() if i not in before), None), what="the new draft"
        )
        item = self.wait_until(
            lambda: (item := self.item(new_id)).slack_ts and item, what=f"the review message of item {new_id}"
        )
        # The command's own reply comes last; waiting for it keeps later replies in order.
        self.wait_until(
            lambda: any(f"#{new_id}" in str(body.get("text", "")) for body in self.responses()),
            what=f"the reply to the generate command of item {new_id}",
        )
        return item

    def click(self, item_id: int, action_id: str, **kwargs: Any) -> Any:
        item = self.item(item_id)
        assert item.slack_channel and item.slack_ts, f"item {item_id} has no Slack message"
        return self.user.click(item.slack_channel, item.slack_ts, action_id, **kwargs)

    def message_of(self, item_id: int) -> Any:
        item = self.item(item_id)
        assert item.slack_channel and item.slack_ts
        return self.slack.message(item.slack_channel, item.slack_ts)

"""Builds and owns the long-lived objects of one Borker process."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from borker.config import Settings
from borker.db import create_db_engine, migrate, session_factory, unit_of_work
from borker.errors import BorkerError, IllegalTransition
from borker.generation import DraftGenerator
from borker.lifecycle import StaleItem
from borker.models import utcnow
from borker.postiz import PostizClient
from borker.scheduling_config import workspace_zone
from borker.workflows import Workflows
from borker.workspace import load_workspace
from bot.blocks.text import escape, truncate
from bot.notifier import SlackNotifier

log = logging.getLogger(__name__)

Reply = Callable[[str], Any]
ERROR_TEXT_MAX = 2000


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    client: WebClient
    notifier: SlackNotifier
    workflows: Workflows
    # Slow work (LLM calls, Postiz calls) runs here, never on Bolt's listener
    # threads, so a slow model cannot delay the acknowledgement of a click.
    executor: ThreadPoolExecutor

    def submit(self, work: Callable[[], str | None], reply: Reply) -> Future[None]:
        """Run ``work`` on the worker pool and send its result, or its error, through ``reply``."""
        return self.executor.submit(self.run_reporting, work, reply)

    def run_reporting(self, work: Callable[[], str | None], reply: Reply) -> None:
        """Run ``work`` now and send its result, or its error, through ``reply``.

        Listeners use this after ``ack()`` instead of letting errors escape: Bolt
        resets an acknowledged response when a listener raises, which turns the
        click into a 404 and a timeout warning in Slack.
        """
        try:
            result = work()
        except Exception as exc:  # noqa: BLE001 - every failure must reach the user
            if isinstance(exc, (StaleItem, IllegalTransition)):
                # The click came from an outdated message: show the current state.
                self.refresh_quietly(exc.item_id)
            result = describe_error(exc)
        if result:
            reply(result)

    def refresh_quietly(self, item_id: int) -> None:
        try:
            self.notifier.item_changed(item_id)
        except Exception:  # noqa: BLE001 - a failed refresh must not hide the original error
            log.exception("could not refresh the message of item %s", item_id)

    def zone(self) -> ZoneInfo:
        """Return the workspace time zone for times shown in Slack (the workspace file's, else BORKER_TIMEZONE)."""
        return workspace_time_zone(self.sessions, self.settings)

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=False)
        if self.workflows.postiz is not None:
            self.workflows.postiz.close()
        self.engine.dispose()


def workspace_time_zone(sessions: sessionmaker[Session], settings: Settings) -> ZoneInfo:
    with unit_of_work(sessions) as session:
        return workspace_zone(load_workspace(session), settings.zone)


def describe_error(exc: BaseException) -> str:
    """Turn an exception into the one sentence shown to the user; unknown errors get a logged error id."""
    if isinstance(exc, BorkerError):
        return f":warning: {escape(truncate(str(exc), ERROR_TEXT_MAX))}"
    error_id = uuid.uuid4().hex[:8]
    log.error("unexpected error %s", error_id, exc_info=exc)
    return f":x: Something went wrong (error id {error_id}). The details are in Borker's log."


def build_runtime(
    settings: Settings, *, client: WebClient | None = None, clock: Callable[[], datetime] = utcnow
) -> Runtime:
    engine = create_db_engine(settings.database_url)
    migrate(engine)
    sessions = session_factory(engine)

    if client is None:
        client = WebClient(
            token=settings.slack_bot_token.get_secret_value(),
            base_url=settings.slack_api_url,
            timeout=10,
        )
        client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=2))
    notifier = SlackNotifier(
        client=client,
        sessions=sessions,
        channel=settings.review_channel,
        postiz_frontend_url=settings.postiz_frontend_url,
        zone=lambda: workspace_time_zone(sessions, settings),
    )

    postiz = None
    if settings.postiz_api_key is not None:
        postiz = PostizClient(
            base_url=settings.postiz_api_url,
            api_key=settings.postiz_api_key.get_secret_value(),
            timeout=settings.postiz_timeout_seconds,
        )

    generator = None
    if settings.openai_api_key is not None or settings.openai_base_url:
        api_key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else "unused"
        generator = DraftGenerator(
            base_url=settings.openai_base_url,
            api_key=api_key,
            model=settings.llm_model,
            timeout=settings.llm_timeout_seconds,
        )

    workflows = Workflows(
        settings=settings, sessions=sessions, postiz=postiz, generator=generator, notifier=notifier, clock=clock
    )
    executor = ThreadPoolExecutor(max_workers=settings.worker_threads, thread_name_prefix="borker-worker")
    return Runtime(
        settings=settings, engine=engine, sessions=sessions, client=client,
        notifier=notifier, workflows=workflows, executor=executor,
    )

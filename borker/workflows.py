"""The operations the front end and the scheduler call: review, edit, cancel and publication tracking.

Generation lives in ``borker.content`` and Process Approved in
``borker.processing``; ``Workflows`` is the one entry point to all of them.
Each operation opens its own unit of work per item, takes ids rather than ORM
objects, and calls out to Postiz or the LLM outside any open transaction.
Front-end updates go through the ``Notifier`` after the commit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from borker import lifecycle
from borker.config import Settings
from borker.content import ContentEngine, DailyReport
from borker.db import unit_of_work
from borker.drafting import check_content
from borker.errors import (
    BorkerError,
    ConfigurationError,
    DraftInvalid,
    IllegalTransition,
)
from borker.generation import DraftGenerator
from borker.lifecycle import SYSTEM_ACTOR, StaleItem
from borker.models import CalendarEntry, ContentItem, ContentStatus, Platform, utcnow
from borker.notify import Notifier
from borker.platforms import ContentType, canonicalize
from borker.postiz import (
    PostizClient,
    PostizError,
    PostizPost,
)
from borker.preflight import PreflightCheck, run_preflight
from borker.processing import (
    CLAIM_DURATION,
    LOOKUP_MARGIN,
    POSTIZ_NOT_CONFIGURED,
    ApprovedProcessor,
    ProcessReport,
)
from borker.rate_budget import PostizBudget

log = logging.getLogger(__name__)

S = ContentStatus


@dataclass
class SyncReport:
    published: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    unknown_ids: list[str] = field(default_factory=list)


class Workflows:
    """Business operations on content items; the Slack front end and the scheduler call these."""

    def __init__(
        self,
        *,
        settings: Settings,
        sessions: sessionmaker[Session],
        postiz: PostizClient | None,
        generator: DraftGenerator | None,
        notifier: Notifier,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.postiz = postiz
        self.notifier = notifier
        self.clock = clock
        self.content = ContentEngine(
            settings=settings, sessions=sessions, generator=generator, notifier=notifier, clock=clock
        )
        self.processor = ApprovedProcessor(
            sessions=sessions,
            postiz=postiz,
            notifier=notifier,
            budget=PostizBudget(sessions=sessions, hourly_limit=settings.postiz_hourly_budget),
            default_zone=settings.zone,
            clock=clock,
        )

    # Generation and review

    def generate(self, *, platform: Platform, topic: str, actor: str) -> int:
        """Draft one post on a topic given by a person and post it for review."""
        return self.content.generate_adhoc(platform=platform, topic=topic, actor=actor)

    def run_daily(self, *, actor: str) -> DailyReport:
        return self.content.run_daily(actor=actor)

    def calendar(self, *, days: int = 7) -> list[tuple[CalendarEntry, ContentItem | None]]:
        return self.content.calendar(days=days)

    def regenerate(self, *, item_id: int, version: int, actor: str) -> None:
        self.content.regenerate(item_id=item_id, version=version, actor=actor)

    def preflight(self, *, today: bool = True) -> list[PreflightCheck]:
        workspace = self.content.workspace()
        return run_preflight(self.settings, workspace, today=self.content.today(workspace) if today else None)

    def approve(self, *, item_id: int, version: int, actor: str) -> ContentItem:
        with unit_of_work(self.sessions) as session:
            item = lifecycle.get_item(session, item_id)
            if item.status == S.PENDING_REVIEW and item.problem:
                raise DraftInvalid(item_id, item.problem)
            item = self._decide(session, item, S.APPROVED, version=version, actor=actor, reason="approved in Slack")
        self.notifier.item_changed(item_id)
        return item

    def reject(self, *, item_id: int, version: int, actor: str, reason: str = "rejected in Slack") -> ContentItem:
        with unit_of_work(self.sessions) as session:
            item = lifecycle.get_item(session, item_id)
            if item.send_started_at is not None:
                raise BorkerError(
                    f"Content item {item_id} is being sent to Postiz right now: "
                    "wait until it shows as scheduled, then use Cancel."
                )
            item = self._decide(session, item, S.REJECTED, version=version, actor=actor, reason=reason)
        self.notifier.item_changed(item_id)
        return item

    def edit(self, *, item_id: int, version: int, text: str, actor: str) -> ContentItem:
        """Replace a draft's text; an edited failed item goes back to review."""
        text = canonicalize(text)
        with unit_of_work(self.sessions) as session:
            item = lifecycle.get_item(session, item_id)
            if item.status not in (S.PENDING_REVIEW, S.FAILED):
                raise IllegalTransition(item_id, item.status, "edited")
            if item.version != version:
                raise StaleItem(item_id, item.status)
            check = check_content(ContentType(item.content_type), text)
            changes: dict[str, Any] = {"text": text, "problem": check.problem}
            if item.status == S.FAILED:
                # A post Postiz failed to publish is left there; approving the
                # edited text schedules a new one.
                lifecycle.transition(
                    session, item, S.PENDING_REVIEW, actor=actor, reason="edited after a failure",
                    failure_reason=None, postiz_id=None, postiz_integration_id=None, scheduled_at=None,
                    unconfirmed_sends=0,
                    **changes,
                )
            else:
                lifecycle.record_edit(session, item, actor=actor, reason="text edited", **changes)
        self.notifier.item_changed(item_id)
        return item

    def _decide(
        self, session: Session, item: ContentItem, target: ContentStatus, *, version: int, actor: str, reason: str
    ) -> ContentItem:
        if item.status == target:
            # A double click: the first click already made the change.
            return item
        lifecycle.check_transition(item, target)
        if item.version != version:
            raise StaleItem(item.id, item.status)
        try:
            return lifecycle.transition(session, item, target, actor=actor, reason=reason, expected_version=version)
        except StaleItem:
            if item.status == target:
                return item  # a concurrent click made the same change first
            raise

    def edit_problem(self, *, item_id: int, version: int, text: str) -> str | None:
        """Return why ``text`` cannot be saved for the item, or None when it is fine."""
        with unit_of_work(self.sessions) as session:
            item = lifecycle.get_item(session, item_id)
            content_type = ContentType(item.content_type)
            if item.status not in (S.PENDING_REVIEW, S.FAILED):
                return f"This item is now {item.status.replace('_', ' ')}, so it can no longer be edited. Copy your text before closing."
            if item.version != version:
                return "Someone changed this item while you were editing. Copy your text, close, and open Edit again."
        text = canonicalize(text)
        if not text:
            return "The text is empty: write the post or reject the draft."
        return check_content(content_type, text).problem

    # Process Approved

    def process_approved(self, *, actor: str = SYSTEM_ACTOR, dry_run: bool = False) -> ProcessReport:
        """Schedule every approved item without a Postiz post; see ``borker.processing``."""
        return self.processor.run(actor=actor, dry_run=dry_run)

    # Cancel

    def cancel(self, *, item_id: int, version: int, actor: str) -> ContentItem:
        """Delete the item's Postiz post and return the item to approved."""
        if self.postiz is None:
            raise ConfigurationError(POSTIZ_NOT_CONFIGURED)
        now = self.clock()
        with unit_of_work(self.sessions) as session:
            item = lifecycle.get_item(session, item_id)
            if item.status == S.APPROVED and item.postiz_id is None:
                return item  # already cancelled: a double click
            lifecycle.check_transition(item, S.APPROVED)
            if item.status != S.SCHEDULED:
                raise IllegalTransition(item_id, item.status, "cancelled")
            if not lifecycle.claim(session, item_id, S.SCHEDULED, now=now, hold=CLAIM_DURATION):
                return item  # another click is cancelling it right now
            post_id, around = item.postiz_id, item.scheduled_at
        try:
            if post_id and around:
                # A post that went out already must not be deleted (which only hides
                # it in Postiz) and then scheduled again: record what happened instead.
                current = self._postiz_post(post_id, around)
                if current is not None and current.state in ("PUBLISHED", "ERROR"):
                    self._release_and_apply(item_id, current)
                    raise BorkerError(
                        f"Content item {item_id} was already {'published' if current.state == 'PUBLISHED' else 'rejected by the network'}"
                        " before Cancel, so it was not cancelled. Borker cannot unpublish a post: delete it on the network."
                    )
                self.postiz.delete_post(post_id=post_id, published_around=around)
        except PostizError:
            with unit_of_work(self.sessions) as session:
                lifecycle.release(session, item_id)
            raise
        with unit_of_work(self.sessions) as session:
            item = lifecycle.get_item(session, item_id)
            lifecycle.transition(
                session, item, S.APPROVED, actor=actor,
                reason=f"cancelled; Postiz post {post_id} deleted",
                postiz_id=None, postiz_integration_id=None, scheduled_at=None, claimed_until=None,
            )
        self.notifier.item_changed(item_id)
        return item

    def _postiz_post(self, post_id: str, around: datetime) -> PostizPost | None:
        assert self.postiz is not None
        posts = self.postiz.list_posts(start=around - LOOKUP_MARGIN, end=around + LOOKUP_MARGIN)
        return next((post for post in posts if post.id == post_id), None)

    def _release_and_apply(self, item_id: int, post: PostizPost) -> None:
        with unit_of_work(self.sessions) as session:
            lifecycle.release(session, item_id)
        self._apply_post_state(item_id, post)

    # Publication tracking

    def handle_postiz_webhook(self, payload: object) -> SyncReport:
        """Act on Postiz's "published" webhook: a JSON array of posts, possibly empty.

        The body is a hint, not trusted data: the state of each post is confirmed
        with GET /posts. An empty array (a Postiz bug in v2.12–v2.23) checks every
        scheduled item instead.
        """
        ids = {
            entry["id"]
            for entry in (payload if isinstance(payload, list) else [])
            if isinstance(entry, dict) and isinstance(entry.get("id"), str)
        }
        with unit_of_work(self.sessions) as session:
            query = select(ContentItem.id).where(ContentItem.status == S.SCHEDULED)
            if ids:
                query = query.where(ContentItem.postiz_id.in_(ids))
                known = set(session.scalars(select(ContentItem.postiz_id).where(ContentItem.postiz_id.in_(ids))))
            else:
                known = set()
            item_ids = list(session.scalars(query))
        report = self.sync_published(item_ids)
        report.unknown_ids = sorted(ids - known)
        for unknown in report.unknown_ids:
            log.info("Postiz webhook names post %s, which is not a Borker item; ignored", unknown)
        return report

    def reconcile(self) -> SyncReport:
        """Check every scheduled item against Postiz (the webhook is best effort)."""
        with unit_of_work(self.sessions) as session:
            item_ids = list(session.scalars(select(ContentItem.id).where(ContentItem.status == S.SCHEDULED)))
        return self.sync_published(item_ids)

    def sync_published(self, item_ids: Sequence[int]) -> SyncReport:
        report = SyncReport()
        if not item_ids or self.postiz is None:
            return report
        with unit_of_work(self.sessions) as session:
            items = [lifecycle.get_item(session, item_id) for item_id in item_ids]
            window = [item.scheduled_at for item in items if item.scheduled_at is not None]
            targets = {item.postiz_id: item.id for item in items if item.postiz_id}
        if not window or not targets:
            return report
        posts = self.postiz.list_posts(start=min(window) - LOOKUP_MARGIN, end=max(window) + LOOKUP_MARGIN)
        seen = set()
        for post in posts:
            item_id = targets.get(post.id)
            if item_id is None:
                continue
            seen.add(post.id)
            if self._apply_post_state(item_id, post):
                (report.published if post.state == "PUBLISHED" else report.failed).append(item_id)
        for post_id, item_id in targets.items():
            if post_id not in seen and self._mark_deleted_in_postiz(item_id, post_id):
                report.failed.append(item_id)
        return report

    def _mark_deleted_in_postiz(self, item_id: int, post_id: str) -> bool:
        """Fail a scheduled item whose Postiz post no longer exists (deleted in Postiz)."""
        reason = (
            f"The Postiz post {post_id} was deleted in Postiz, so nothing will be published. "
            "Edit the item and approve it again to schedule a new post."
        )
        with unit_of_work(self.sessions) as session:
            item = lifecycle.get_item(session, item_id)
            if item.status != S.SCHEDULED or item.postiz_id != post_id:
                return False
            try:
                lifecycle.transition(session, item, S.FAILED, actor="postiz", reason=reason, failure_reason=reason)
            except StaleItem:
                return False
        self.notifier.item_changed(item_id)
        return True

    def _apply_post_state(self, item_id: int, post: PostizPost) -> bool:
        if post.state not in ("PUBLISHED", "ERROR"):
            return False
        with unit_of_work(self.sessions) as session:
            item = lifecycle.get_item(session, item_id)
            if item.status != S.SCHEDULED:
                return False
            try:
                if post.state == "PUBLISHED":
                    lifecycle.transition(
                        session, item, S.PUBLISHED, actor="postiz",
                        reason=f"published: {post.release_url or 'no URL reported'}",
                        release_url=post.release_url,
                    )
                else:
                    reason = (
                        "Postiz could not publish this post. Check Postiz → Notifications; the usual causes are "
                        "a disabled channel or one that needs reconnecting in Postiz → Channels."
                    )
                    lifecycle.transition(
                        session, item, S.FAILED, actor="postiz", reason=reason, failure_reason=reason
                    )
            except StaleItem:
                return False
        self.notifier.item_changed(item_id)
        return True

    # Read models

    def counts_by_status(self) -> dict[ContentStatus, int]:
        with unit_of_work(self.sessions) as session:
            rows = session.execute(select(ContentItem.status, func.count()).group_by(ContentItem.status)).all()
        return {ContentStatus(status): count for status, count in rows}

    def queue(self, *, limit: int = 20) -> tuple[list[ContentItem], int]:
        """Return the first ``limit`` open items and how many there are in all."""
        open_statuses = [S.PENDING_REVIEW, S.APPROVED, S.SCHEDULED, S.FAILED]
        with unit_of_work(self.sessions) as session:
            items = list(
                session.scalars(
                    select(ContentItem)
                    .where(ContentItem.status.in_(open_statuses))
                    .order_by(ContentItem.id)
                    .limit(limit)
                )
            )
            total = session.scalar(
                select(func.count()).select_from(ContentItem).where(ContentItem.status.in_(open_statuses))
            )
        return items, int(total or 0)

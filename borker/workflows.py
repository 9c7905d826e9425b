"""The approval loop's workflows: generate, review, Process Approved, cancel and publish tracking.

Each workflow opens its own unit of work per item, takes ids rather than ORM
objects, and calls out to Postiz or the LLM outside any open transaction.
Front-end updates go through the ``Notifier`` after the commit.
"""

from __future__ import annotations

import html
import logging
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from borker import lifecycle
from borker.config import Settings
from borker.db import unit_of_work
from borker.errors import BorkerError, ConfigurationError, DraftInvalid, IllegalTransition
from borker.generation import DraftGenerator
from borker.lifecycle import SYSTEM_ACTOR, StaleItem
from borker.models import ContentItem, ContentStatus, Platform, utcnow
from borker.notify import Notifier
from borker.platforms import canonicalize, check_text, default_content_type
from borker.postiz import (
    Integration,
    NewPost,
    NoConnectedChannel,
    PostizAuthError,
    PostizClient,
    PostizError,
    PostizNotFound,
    PostizPlanLimit,
    PostizPost,
    PostizRateLimited,
    PostizValidationError,
    find_integration,
)
from borker.scheduling import NoFreeSlot, PostingPolicy, pick_time

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)

log = logging.getLogger(__name__)

S = ContentStatus
CLAIM_DURATION = timedelta(minutes=5)
MAX_UNCONFIRMED_SENDS = 3
# Postiz reports publication by publishDate; list a margin around Borker's
# own time in case the instance shifts stored times (a known self-hosted fault).
SYNC_WINDOW_MARGIN = timedelta(days=2)
POSTIZ_NOT_CONFIGURED = "POSTIZ_API_KEY is not set: create an API key in Postiz → Settings → Developers and set it in Borker."
LLM_NOT_CONFIGURED = "No LLM configured: set OPENAI_API_KEY, and OPENAI_BASE_URL for an OpenAI-compatible server."


@dataclass
class ProcessReport:
    """The outcome of one Process Approved run, item by item."""

    scheduled: list[tuple[int, datetime]] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)
    deferred: list[int] = field(default_factory=list)
    deferred_until: datetime | None = None
    missing_platforms: set[Platform] = field(default_factory=set)
    error: str | None = None


@dataclass
class SyncReport:
    published: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    unknown_ids: list[str] = field(default_factory=list)


def same_content(stored: str, sent: str) -> bool:
    """Tell whether a post read back from Postiz is the text Borker sent.

    Postiz may strip links from X posts and store plain text as HTML, so links,
    tags and whitespace are ignored in the comparison.
    """

    def normalized(text: str) -> str:
        text = html.unescape(re.sub(r"<[^>]+>", " ", text))
        return " ".join(_URL.sub(" ", text).split())

    return normalized(stored) == normalized(sent)


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
        self.generator = generator
        self.notifier = notifier
        self.clock = clock
        self._process_lock = threading.Lock()
        self._blocked_until: datetime | None = None
        self._missing_platforms: frozenset[Platform] = frozenset()

    @property
    def policy(self) -> PostingPolicy:
        return PostingPolicy(
            zone=self.settings.zone,
            weekdays=frozenset(self.settings.weekday_numbers),
            times=tuple(self.settings.local_posting_times),
            min_gap=timedelta(minutes=self.settings.min_gap_minutes),
            lead=timedelta(minutes=self.settings.lead_minutes),
        )

    # Generation and review

    def generate(self, *, platform: Platform, topic: str, actor: str) -> int:
        """Ask the LLM for one draft, store it as pending_review and post it for review."""
        if self.generator is None:
            raise ConfigurationError(LLM_NOT_CONFIGURED)
        draft = self.generator.generate(platform=platform, topic=topic)
        with unit_of_work(self.sessions) as session:
            item = lifecycle.create_item(
                session,
                actor=actor,
                reason=f"generation requested for topic: {topic}",
                platform=platform,
                content_type=default_content_type(platform),
                text=draft.text,
                topic=topic,
                problem=draft.problem,
                llm_model=draft.model,
                prompt_tokens=draft.prompt_tokens,
                completion_tokens=draft.completion_tokens,
                generation_ms=draft.latency_ms,
            )
            reason = f"flagged: {draft.problem}" if draft.problem else f"drafted by {draft.model}"
            lifecycle.transition(session, item, S.PENDING_REVIEW, actor=SYSTEM_ACTOR, reason=reason)
            item_id = item.id
        self.notifier.item_changed(item_id)
        return item_id

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
            check = check_text(Platform(item.platform), text)
            changes: dict[str, Any] = {"text": text, "problem": check.problem}
            if item.status == S.FAILED:
                lifecycle.transition(
                    session, item, S.PENDING_REVIEW, actor=actor,
                    reason="edited after a failure", failure_reason=None, **changes,
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
        return lifecycle.transition(session, item, target, actor=actor, reason=reason, expected_version=version)

    def edit_problem(self, *, item_id: int, text: str) -> str | None:
        """Return why ``text`` cannot be saved for the item, or None when it is fine."""
        with unit_of_work(self.sessions) as session:
            item = lifecycle.get_item(session, item_id)
            platform = Platform(item.platform)
        text = canonicalize(text)
        if not text:
            return "The text is empty: write the post or reject the draft."
        return check_text(platform, text).problem

    # Process Approved

    def process_approved(self, *, actor: str = SYSTEM_ACTOR) -> ProcessReport:
        """Schedule every approved item without a Postiz post; safe to run any number of times."""
        with self._process_lock:
            report = ProcessReport()
            now = self.clock()
            due = self._approved_unsent_ids()
            if not due:
                return report
            if self.postiz is None:
                report.error = POSTIZ_NOT_CONFIGURED
                return report
            if self._blocked_until and now < self._blocked_until:
                report.deferred = due
                report.deferred_until = self._blocked_until
                return report
            try:
                integrations = self.postiz.list_integrations()
            except PostizError as exc:
                report.error = str(exc)
                return report

            for position, item_id in enumerate(due):
                keep_going = self._schedule_one(item_id, integrations=integrations, now=now, actor=actor, report=report)
                if not keep_going:
                    if report.deferred_until:
                        report.deferred.extend(due[position + 1:])
                    break
            self._announce_missing(report.missing_platforms)
            return report

    def _approved_unsent_ids(self) -> list[int]:
        with unit_of_work(self.sessions) as session:
            return list(
                session.scalars(
                    select(ContentItem.id)
                    .where(ContentItem.status == S.APPROVED, ContentItem.postiz_id.is_(None))
                    .order_by(ContentItem.id)
                )
            )

    def _claim(self, session: Session, item_id: int, status: ContentStatus, now: datetime) -> bool:
        result = session.execute(
            update(ContentItem)
            .where(
                ContentItem.id == item_id,
                ContentItem.status == status,
                or_(ContentItem.claimed_until.is_(None), ContentItem.claimed_until < now),
            )
            .values(claimed_until=now + CLAIM_DURATION)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1  # type: ignore[attr-defined]

    def _release(self, item_id: int) -> None:
        with unit_of_work(self.sessions) as session:
            session.execute(update(ContentItem).where(ContentItem.id == item_id).values(claimed_until=None))

    def _taken_times(self, session: Session) -> list[datetime]:
        """Posting times already used: scheduled and published items, and sends awaiting confirmation."""
        return [
            moment
            for moment in session.scalars(
                select(ContentItem.scheduled_at).where(
                    ContentItem.scheduled_at.is_not(None),
                    or_(
                        ContentItem.status.in_([S.SCHEDULED, S.PUBLISHED]),
                        ContentItem.send_started_at.is_not(None),
                    ),
                )
            )
            if moment is not None
        ]

    def _schedule_one(
        self, item_id: int, *, integrations: Sequence[Integration], now: datetime, actor: str, report: ProcessReport
    ) -> bool:
        """Schedule one item and record the outcome; return False when the run must stop.

        Postiz has no idempotency key, so exactly-once rests on two rules: the
        item is marked (``send_started_at``) before the create request leaves,
        and a marked item is looked up in Postiz before it is ever sent again.
        """
        assert self.postiz is not None
        with unit_of_work(self.sessions) as session:
            if not self._claim(session, item_id, S.APPROVED, now):
                log.debug("item %s is held by another run or no longer approved", item_id)
                return True
            item = lifecycle.get_item(session, item_id)
            unconfirmed = item.send_started_at is not None

        if unconfirmed:
            found = self._find_unconfirmed_post(item_id, report)
            if found is None:
                return False  # Postiz could not be asked; try again on the next run
            if found:
                return True

        with unit_of_work(self.sessions) as session:
            item = lifecycle.get_item(session, item_id)
            platform = Platform(item.platform)
            try:
                integration = find_integration(integrations, platform)
            except NoConnectedChannel as exc:
                item.claimed_until = None
                report.skipped.append((item_id, str(exc)))
                report.missing_platforms.add(platform)
                return True
            if item.unconfirmed_sends >= MAX_UNCONFIRMED_SENDS:
                reason = (
                    f"Postiz did not confirm {item.unconfirmed_sends} create requests for this item. "
                    "Check Postiz for duplicate posts before editing and approving it again."
                )
                self._fail_in_session(session, item, reason)
                report.failed.append((item_id, reason))
                return True
            try:
                when = pick_time(self.policy, now=now, taken=self._taken_times(session))
            except NoFreeSlot as exc:
                item.claimed_until = None
                report.skipped.append((item_id, f"{exc}: check BORKER_POSTING_DAYS and BORKER_POSTING_TIMES"))
                return True
            item.send_started_at = now
            item.scheduled_at = when
            item.postiz_integration_id = integration.id
            item.unconfirmed_sends += 1
            parts = [item.text]

        try:
            created = self.postiz.create_post(
                posts=[NewPost(integration_id=integration.id, platform=platform, parts=parts)], date=when
            )
        except PostizRateLimited as exc:
            self._clear_send(item_id)
            self._blocked_until = now + timedelta(seconds=exc.retry_after)
            report.deferred_until = self._blocked_until
            report.deferred.append(item_id)
            return False
        except PostizValidationError as exc:
            self._clear_send(item_id)
            self._fail(item_id, reason=str(exc))
            report.failed.append((item_id, str(exc)))
            return True
        except (PostizAuthError, PostizPlanLimit, PostizNotFound) as exc:
            self._clear_send(item_id)
            report.error = str(exc)
            return False
        except PostizError as exc:
            # The request may have reached Postiz: keep the mark, so the next run
            # looks for the post before sending anything again.
            self._release(item_id)
            report.skipped.append((item_id, f"{exc}. Borker will check Postiz for this post on the next run"))
            return False

        self._confirm_scheduled(item_id, post_id=created[0].post_id, when=when, actor=actor, report=report)
        return True

    def _find_unconfirmed_post(self, item_id: int, report: ProcessReport) -> bool | None:
        """Look for the post of an unconfirmed send; adopt it if Postiz has it.

        Returns True when the post was found and the item is now scheduled,
        False when Postiz has no such post (so it is safe to send), and None
        when Postiz could not be asked.
        """
        assert self.postiz is not None
        with unit_of_work(self.sessions) as session:
            item = lifecycle.get_item(session, item_id)
            when, integration_id, text = item.scheduled_at, item.postiz_integration_id, item.text
        assert when is not None
        try:
            posts = self.postiz.list_posts(start=when - SYNC_WINDOW_MARGIN, end=when + SYNC_WINDOW_MARGIN)
        except PostizError as exc:
            self._release(item_id)
            report.skipped.append((item_id, f"{exc}. Borker will check Postiz for this post on the next run"))
            return None
        match = next(
            (
                post for post in posts
                if post.integration_id == integration_id and post.state != "ERROR" and same_content(post.content, text)
            ),
            None,
        )
        if match is None:
            log.info("item %s: the unconfirmed send did not reach Postiz; sending again", item_id)
            self._clear_send(item_id, keep_claim=True)
            return False
        log.info("item %s: found Postiz post %s from an unconfirmed send", item_id, match.id)
        self._confirm_scheduled(item_id, post_id=match.id, when=match.publish_date, actor=SYSTEM_ACTOR, report=report)
        return True

    def _confirm_scheduled(
        self, item_id: int, *, post_id: str, when: datetime, actor: str, report: ProcessReport
    ) -> None:
        assert self.postiz is not None
        try:
            with unit_of_work(self.sessions) as session:
                item = lifecycle.get_item(session, item_id)
                lifecycle.transition(
                    session, item, S.SCHEDULED, actor=actor,
                    reason=f"scheduled in Postiz as {post_id} for {when.isoformat()}",
                    postiz_id=post_id, scheduled_at=when, claimed_until=None,
                    send_started_at=None, unconfirmed_sends=0,
                )
        except (StaleItem, IllegalTransition):
            # The item was rejected while Postiz was being called: undo the post.
            log.warning("item %s changed while scheduling; deleting Postiz post %s", item_id, post_id)
            self.postiz.delete_post(post_id=post_id, published_around=when)
            self._clear_send(item_id)
            return
        report.scheduled.append((item_id, when))
        self.notifier.item_changed(item_id)

    def _clear_send(self, item_id: int, *, keep_claim: bool = False) -> None:
        """Forget a send whose outcome is known not to have created a post."""
        values: dict[str, Any] = {"send_started_at": None, "postiz_integration_id": None}
        if not keep_claim:
            values["claimed_until"] = None
        with unit_of_work(self.sessions) as session:
            session.execute(
                update(ContentItem)
                .where(ContentItem.id == item_id, ContentItem.postiz_id.is_(None))
                .values(scheduled_at=None, **values)
            )

    def _fail(self, item_id: int, *, reason: str) -> None:
        with unit_of_work(self.sessions) as session:
            self._fail_in_session(session, lifecycle.get_item(session, item_id), reason)
        self.notifier.item_changed(item_id)

    def _fail_in_session(self, session: Session, item: ContentItem, reason: str) -> None:
        lifecycle.transition(
            session, item, S.FAILED, actor=SYSTEM_ACTOR, reason=reason,
            failure_reason=reason, claimed_until=None,
        )

    def _announce_missing(self, missing: set[Platform]) -> None:
        # Announce a missing channel once, not on every scheduled run.
        new = frozenset(missing) - self._missing_platforms
        self._missing_platforms = frozenset(missing)
        for platform in sorted(new):
            self.notifier.announce(
                f"No {platform.label} account connected in Postiz: connect it in Postiz → Channels. "
                f"Approved {platform.label} items stay approved until then."
            )

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
            if not self._claim(session, item_id, S.SCHEDULED, now):
                return item  # another click is cancelling it right now
            post_id, around = item.postiz_id, item.scheduled_at
        try:
            if post_id:
                self.postiz.delete_post(post_id=post_id, published_around=around)
        except PostizError:
            self._release(item_id)
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
        posts = self.postiz.list_posts(start=min(window) - SYNC_WINDOW_MARGIN, end=max(window) + SYNC_WINDOW_MARGIN)
        for post in posts:
            item_id = targets.get(post.id)
            if item_id is None:
                continue
            if self._apply_post_state(item_id, post):
                (report.published if post.state == "PUBLISHED" else report.failed).append(item_id)
        return report

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
        from sqlalchemy import func

        with unit_of_work(self.sessions) as session:
            rows = session.execute(select(ContentItem.status, func.count()).group_by(ContentItem.status)).all()
        return {ContentStatus(status): count for status, count in rows}

    def queue(self, *, limit: int = 20) -> list[ContentItem]:
        with unit_of_work(self.sessions) as session:
            return list(
                session.scalars(
                    select(ContentItem)
                    .where(ContentItem.status.in_([S.PENDING_REVIEW, S.APPROVED, S.SCHEDULED, S.FAILED]))
                    .order_by(ContentItem.id)
                    .limit(limit)
                )
            )

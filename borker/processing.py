"""Process Approved: plan a posting time for every approved item and create its Postiz post.

Postiz has no idempotency key, so exactly-once rests on three rules:

* each item is claimed (``claimed_until``) so two runs or replicas never send it at once;
* an item is marked (``send_started_at``) before its create request leaves;
* a marked item is looked up in Postiz before it is ever sent again.
"""

from __future__ import annotations

import html
import logging
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import groupby
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from borker import lifecycle
from borker.db import unit_of_work
from borker.errors import IllegalTransition
from borker.lifecycle import SYSTEM_ACTOR, StaleItem
from borker.models import ContentItem, ContentStatus, Platform
from borker.notify import Notifier
from borker.planner import Busy, Planned, PlannerConfig, PlanRequest, Unplanned, plan
from borker.postiz import (
    Integration,
    NewPost,
    NoConnectedChannel,
    PostizAuthError,
    PostizClient,
    PostizError,
    PostizNotFound,
    PostizPlanLimit,
    PostizRateLimited,
    PostizValidationError,
    find_integration,
)
from borker.rate_budget import PostizBudget
from borker.scheduling_config import planner_config
from borker.workspace import load_workspace

log = logging.getLogger(__name__)

S = ContentStatus
CLAIM_DURATION = timedelta(minutes=5)
MAX_UNCONFIRMED_SENDS = 3
# Postiz's posts are looked up within this margin of Borker's own time, in case
# the instance shifts stored times (a known fault of some self-hosted images).
LOOKUP_MARGIN = timedelta(days=2)
# How far ahead Postiz's own posts are read to keep new posts clear of them.
BUSY_LOOKAHEAD = timedelta(weeks=12)
# A planned time closer than this when its request would leave is planned again,
# because Postiz publishes a past date at once.
SEND_MARGIN = timedelta(minutes=1)
POSTIZ_NOT_CONFIGURED = (
    "POSTIZ_API_KEY is not set: create an API key in Postiz → Settings → Developers and set it in Borker."
)
# Postiz blocks for one hour at most; a longer Retry-After is treated as a day.
MAX_RETRY_AFTER_SECONDS = 24 * 3600
CHECK_NEXT_RUN = "Borker will check Postiz for this post on the next run"

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)


@dataclass
class ProcessReport:
    """The outcome of one Process Approved run, item by item."""

    dry_run: bool = False
    scheduled: list[tuple[int, datetime]] = field(default_factory=list)
    planned: list[tuple[int, datetime]] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)
    deferred: list[int] = field(default_factory=list)
    deferred_until: datetime | None = None
    # Platforms without a usable Postiz channel, with the reason.
    missing_platforms: dict[Platform, str] = field(default_factory=dict)
    error: str | None = None


@dataclass(frozen=True)
class _Target:
    item_id: int
    platform: Platform
    integration: Integration
    text: str


class StopRun(Exception):
    """Raised inside a run when nothing more may be sent to Postiz this time."""


def same_content(stored: str, sent: str) -> bool:
    """Tell whether a post read back from Postiz is the text Borker sent.

    Postiz may strip links from X posts and store plain text as HTML, so links,
    tags and whitespace are ignored in the comparison.
    """

    def normalized(text: str) -> str:
        text = html.unescape(re.sub(r"<[^>]+>", " ", text))
        return " ".join(_URL.sub(" ", text).split())

    return normalized(stored) == normalized(sent)


class ApprovedProcessor:
    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        postiz: PostizClient | None,
        notifier: Notifier,
        budget: PostizBudget,
        default_zone: ZoneInfo,
        clock: Callable[[], datetime],
    ) -> None:
        self.sessions = sessions
        self.postiz = postiz
        self.notifier = notifier
        self.budget = budget
        self.default_zone = default_zone
        self.clock = clock
        self._lock = threading.Lock()
        self._announced_missing: frozenset[Platform] = frozenset()

    def run(self, *, actor: str = SYSTEM_ACTOR, dry_run: bool = False) -> ProcessReport:
        """Schedule every approved item without a Postiz post; safe to run any number of times."""
        with self._lock:
            report = ProcessReport(dry_run=dry_run)
            due = self._due_ids()
            if not due:
                return report
            if self.postiz is None:
                report.error = POSTIZ_NOT_CONFIGURED
                return report
            now = self.clock()
            blocked = None if dry_run else self.budget.blocked_until(now)
            if blocked is not None:
                report.deferred = due
                report.deferred_until = blocked
                return report
            try:
                integrations = self.postiz.list_integrations()
            except PostizRateLimited as exc:
                # Postiz counts per organization, so a 429 here blocks creates as well.
                until = self.clock() + timedelta(seconds=min(exc.retry_after, MAX_RETRY_AFTER_SECONDS))
                if not dry_run:
                    self.budget.block(until, self.clock())
                report.deferred = due
                report.deferred_until = until
                return report
            except PostizError as exc:
                report.error = str(exc)
                return report

            held: list[int] = []
            try:
                self._run(due, integrations=integrations, now=now, actor=actor, report=report, held=held)
            except Exception:
                # Claims are released below and marked sends are looked up on the
                # next run, so an unexpected error loses nothing.
                log.exception("Process Approved stopped on an unexpected error")
                report.error = "an unexpected error stopped the run; the details are in Borker's log"
            finally:
                self._release_all(held)
            if not dry_run:
                self._announce_missing(report.missing_platforms)
            return report

    def _run(
        self, due: list[int], *, integrations: Sequence[Integration], now: datetime, actor: str,
        report: ProcessReport, held: list[int],
    ) -> None:
        targets: list[_Target] = []
        for item_id in due:
            if report.dry_run:
                target = self._target(item_id, integrations, report, dry_run=True)
            else:
                if not self._claim(item_id, now):
                    log.debug("item %s is held by another run or no longer approved", item_id)
                    report.skipped.append((item_id, "another Process Approved run or a Cancel is handling it right now"))
                    continue
                held.append(item_id)
                target = self._target(item_id, integrations, report, dry_run=False)
            if target is not None:
                targets.append(target)
        if not targets:
            return

        config = self._config()
        busy = self._busy(now)
        results = plan(
            [PlanRequest(item_id=t.item_id, platform=t.platform, channel=t.integration.id) for t in targets],
            busy=busy, config=config, now=now,
        )
        by_id = {target.item_id: target for target in targets}
        planned: list[tuple[_Target, Planned]] = []
        for result in results:
            if isinstance(result, Unplanned):
                report.skipped.append((result.item_id, result.reason))
            else:
                planned.append((by_id[result.item_id], result))
        if report.dry_run:
            report.planned = [(target.item_id, slot.at) for target, slot in planned]
            return

        # Posts for several channels at the same minute go out in one request,
        # which costs one hit of Postiz's hourly limit.
        in_time_order = sorted(planned, key=lambda pair: pair[1].at)
        batches = [list(group) for _, group in groupby(in_time_order, key=lambda pair: pair[1].at)]
        for index, batch in enumerate(batches):
            try:
                self._send(batch, now=now, actor=actor, report=report)
            except StopRun:
                if report.deferred_until is not None:
                    report.deferred.extend(target.item_id for later in batches[index + 1:] for target, _ in later)
                break

    # Preparing items

    def _due_ids(self) -> list[int]:
        with unit_of_work(self.sessions) as session:
            return list(
                session.scalars(
                    select(ContentItem.id)
                    .where(ContentItem.status == S.APPROVED, ContentItem.postiz_id.is_(None))
                    .order_by(ContentItem.approved_at, ContentItem.id)
                )
            )

    def _claim(self, item_id: int, now: datetime) -> bool:
        with unit_of_work(self.sessions) as session:
            return lifecycle.claim(session, item_id, S.APPROVED, now=now, hold=CLAIM_DURATION)

    def _release_all(self, item_ids: list[int]) -> None:
        if not item_ids:
            return
        with unit_of_work(self.sessions) as session:
            for item_id in item_ids:
                lifecycle.release(session, item_id)

    def _target(
        self, item_id: int, integrations: Sequence[Integration], report: ProcessReport, *, dry_run: bool
    ) -> _Target | None:
        with unit_of_work(self.sessions) as session:
            item = lifecycle.get_item(session, item_id)
            platform = Platform(item.platform)
            text = item.text
            unconfirmed = item.send_started_at is not None
            sends = item.unconfirmed_sends
        if unconfirmed:
            if dry_run:
                report.skipped.append((item_id, "a create request is awaiting confirmation from Postiz"))
                return None
            if self._adopt_unconfirmed_post(item_id, report):
                return None
        if sends >= MAX_UNCONFIRMED_SENDS:
            reason = (
                f"Postiz did not confirm {sends} create requests for this item. "
                "Check Postiz for duplicate posts, then edit the item and approve it again."
            )
            if not dry_run:
                self._fail(item_id, reason=reason)
            report.failed.append((item_id, reason))
            return None
        try:
            integration = find_integration(integrations, platform)
        except NoConnectedChannel as exc:
            report.skipped.append((item_id, str(exc)))
            report.missing_platforms[platform] = str(exc)
            return None
        return _Target(item_id=item_id, platform=platform, integration=integration, text=text)

    def _adopt_unconfirmed_post(self, item_id: int, report: ProcessReport) -> bool:
        """Look for the post of an unconfirmed send, and take it over if Postiz has it.

        Returns True when the item is dealt with for this run (adopted, or
        Postiz could not be asked), False when it is safe to send it.
        """
        assert self.postiz is not None
        with unit_of_work(self.sessions) as session:
            item = lifecycle.get_item(session, item_id)
            when, integration_id, text = item.scheduled_at, item.postiz_integration_id, item.text
        if when is None:
            self._clear_send(item_id)
            return False
        try:
            posts = self.postiz.list_posts(start=when - LOOKUP_MARGIN, end=when + LOOKUP_MARGIN)
        except PostizError as exc:
            report.skipped.append((item_id, f"{exc}. {CHECK_NEXT_RUN}"))
            return True
        match = next(
            (
                post for post in posts
                if post.integration_id == integration_id and post.state != "ERROR" and same_content(post.content, text)
            ),
            None,
        )
        if match is None:
            log.info("item %s: the unconfirmed create did not reach Postiz; it will be sent again", item_id)
            self._clear_send(item_id)
            return False
        log.info("item %s: found Postiz post %s from an unconfirmed create", item_id, match.id)
        self._confirm(item_id, post_id=match.id, when=match.publish_date, actor=SYSTEM_ACTOR, report=report)
        return True

    def _config(self) -> PlannerConfig:
        with unit_of_work(self.sessions) as session:
            workspace = load_workspace(session)
        return planner_config(workspace, default_zone=self.default_zone)

    def _busy(self, now: datetime) -> list[Busy]:
        """Posts already on the calendar: Borker's scheduled and in-flight items, and Postiz's own posts."""
        busy: dict[str, Busy] = {}
        with unit_of_work(self.sessions) as session:
            rows = session.execute(
                select(ContentItem.id, ContentItem.platform, ContentItem.postiz_integration_id,
                       ContentItem.scheduled_at, ContentItem.postiz_id)
                .where(
                    ContentItem.scheduled_at.is_not(None),
                    ContentItem.postiz_integration_id.is_not(None),
                    (ContentItem.status == S.SCHEDULED) | ContentItem.send_started_at.is_not(None),
                )
            ).all()
        for item_id, platform_name, channel, at, postiz_id in rows:
            if at is not None and channel is not None:
                busy[postiz_id or f"item-{item_id}"] = Busy(at=at, platform=Platform(platform_name), channel=channel)
        assert self.postiz is not None
        try:
            posts = self.postiz.list_posts(start=now - timedelta(days=1), end=now + BUSY_LOOKAHEAD)
        except PostizError as exc:
            # Borker's own posts are still respected; Postiz's others are not known this run.
            log.warning("could not read Postiz's calendar, planning around Borker's own posts only: %s", exc)
            posts = []
        for post in posts:
            post_platform = _platform_of(post.provider)
            if post.id not in busy and post_platform is not None and post.state in ("QUEUE", "PUBLISHED"):
                busy[post.id] = Busy(at=post.publish_date, platform=post_platform, channel=post.integration_id)
        return list(busy.values())

    # Sending

    def _send(self, batch: list[tuple[_Target, Planned]], *, now: datetime, actor: str, report: ProcessReport) -> None:
        assert self.postiz is not None
        when = batch[0][1].at
        ids = [target.item_id for target, _ in batch]
        if when <= self.clock() + SEND_MARGIN:
            # The run took long enough for this time to pass; never send a past date.
            for item_id in ids:
                report.skipped.append((item_id, "its planned time passed during this run; it is planned again next run"))
            return
        next_allowed = self.budget.reserve(self.clock())
        if next_allowed is not None:
            report.deferred.extend(ids)
            report.deferred_until = next_allowed
            raise StopRun

        self._mark_sending(batch, now=now)
        try:
            created = self.postiz.create_post(
                posts=[
                    NewPost(integration_id=target.integration.id, platform=target.platform, parts=[target.text])
                    for target, _ in batch
                ],
                date=when,
            )
        except PostizRateLimited as exc:
            self._clear_sends(ids)
            until = self.clock() + timedelta(seconds=min(exc.retry_after, MAX_RETRY_AFTER_SECONDS))
            self.budget.block(until, self.clock())
            report.deferred.extend(ids)
            report.deferred_until = until
            raise StopRun from None
        except PostizValidationError as exc:
            self._clear_sends(ids)
            for item_id in ids:
                self._fail(item_id, reason=str(exc))
                report.failed.append((item_id, str(exc)))
            return
        except (PostizAuthError, PostizPlanLimit, PostizNotFound) as exc:
            self._clear_sends(ids)
            report.error = str(exc)
            raise StopRun from None
        except PostizError as exc:
            # The request may have reached Postiz: keep the marks, so the next
            # run looks for the posts before sending anything again.
            self._count_unconfirmed(ids)
            for item_id in ids:
                report.skipped.append((item_id, f"{exc}. {CHECK_NEXT_RUN}"))
            raise StopRun from None

        if len(created) != len(batch):
            # Postiz returns one entry per channel; anything else leaves the outcome unknown.
            log.error("Postiz returned %d posts for a request of %d", len(created), len(batch))
            self._count_unconfirmed(ids)
            for item_id in ids:
                report.skipped.append((item_id, f"Postiz returned an unexpected answer. {CHECK_NEXT_RUN}"))
            raise StopRun
        for (target, _), result in zip(batch, created, strict=True):
            self._confirm(target.item_id, post_id=result.post_id, when=when, actor=actor, report=report)

    def _mark_sending(self, batch: list[tuple[_Target, Planned]], *, now: datetime) -> None:
        # The claim is renewed here so that it outlasts this request even when
        # the run as a whole takes longer than one claim.
        held_until = self.clock() + CLAIM_DURATION
        with unit_of_work(self.sessions) as session:
            for target, slot in batch:
                session.execute(
                    update(ContentItem)
                    .where(ContentItem.id == target.item_id)
                    .values(
                        send_started_at=now, scheduled_at=slot.at, postiz_integration_id=target.integration.id,
                        claimed_until=held_until,
                    )
                )

    def _count_unconfirmed(self, item_ids: list[int]) -> None:
        with unit_of_work(self.sessions) as session:
            session.execute(
                update(ContentItem)
                .where(ContentItem.id.in_(item_ids))
                .values(unconfirmed_sends=ContentItem.unconfirmed_sends + 1)
            )

    def _confirm(self, item_id: int, *, post_id: str, when: datetime, actor: str, report: ProcessReport) -> None:
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
            # The item changed while Postiz was being called: undo the post.
            log.warning("item %s changed while scheduling; deleting Postiz post %s", item_id, post_id)
            self.postiz.delete_post(post_id=post_id, published_around=when)
            self._clear_send(item_id)
            return
        report.scheduled.append((item_id, when))
        self.notifier.item_changed(item_id)

    def _clear_send(self, item_id: int) -> None:
        self._clear_sends([item_id])

    def _clear_sends(self, item_ids: list[int]) -> None:
        """Forget sends known not to have created a post."""
        with unit_of_work(self.sessions) as session:
            session.execute(
                update(ContentItem)
                .where(ContentItem.id.in_(item_ids), ContentItem.postiz_id.is_(None))
                .values(send_started_at=None, scheduled_at=None, postiz_integration_id=None)
            )

    def _fail(self, item_id: int, *, reason: str) -> None:
        with unit_of_work(self.sessions) as session:
            item = lifecycle.get_item(session, item_id)
            lifecycle.transition(
                session, item, S.FAILED, actor=SYSTEM_ACTOR, reason=reason, failure_reason=reason,
                claimed_until=None, send_started_at=None, unconfirmed_sends=0,
            )
        self.notifier.item_changed(item_id)

    def _announce_missing(self, missing: dict[Platform, str]) -> None:
        # Announce a missing channel once, not on every scheduled run.
        new = frozenset(missing) - self._announced_missing
        self._announced_missing = frozenset(missing)
        for platform in sorted(new):
            self.notifier.announce(f"{missing[platform]}. Approved {platform.label} items stay approved until then.")


def _platform_of(provider: str) -> Platform | None:
    return Integration(id="", name="", identifier=provider, disabled=False, profile=None).platform

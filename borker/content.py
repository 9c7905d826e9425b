"""The content engine: the weekly plan, the daily generation run, ad-hoc drafts and Regenerate.

Generation runs on a bounded pool of its own (``generation_concurrency``
drafts at once), never on the threads that acknowledge Slack requests.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from borker import lifecycle
from borker.config import Settings
from borker.db import unit_of_work
from borker.decision import SlotDemand, TopicChoice, choose_topics
from borker.drafting import DraftRules
from borker.errors import (
    BorkerError,
    ConfigurationError,
    GenerationFailed,
    IllegalTransition,
)
from borker.generation import DraftGenerator, DraftRequest, GeneratedDraft
from borker.lifecycle import SYSTEM_ACTOR
from borker.models import (
    CalendarEntry,
    ContentItem,
    ContentStatus,
    Platform,
    TopicUsage,
    WorkflowRun,
    utcnow,
)
from borker.notify import Notifier
from borker.platforms import ContentType, default_content_type
from borker.preflight import has_blocking, run_preflight
from borker.scheduling_config import workspace_zone
from borker.workspace import (
    WEEKDAYS,
    CalendarSlot,
    Topic,
    WorkspaceConfig,
    load_workspace,
)

log = logging.getLogger(__name__)

S = ContentStatus
# Recent posts on the same platform that a new draft must not nearly repeat;
# the prompt shows only the newest few of them.
RECENT_POSTS = 30
LLM_NOT_CONFIGURED = "No LLM configured: set OPENAI_API_KEY, and OPENAI_BASE_URL for an OpenAI-compatible server."


@dataclass
class DailyReport:
    day: date
    generated: list[int] = field(default_factory=list)
    flagged: list[int] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    already_ran: bool = False


@dataclass(frozen=True)
class _SlotJob:
    entry_id: int | None
    content_type: ContentType
    choice: TopicChoice | None
    topic: str


class ContentEngine:
    def __init__(
        self,
        *,
        settings: Settings,
        sessions: sessionmaker[Session],
        generator: DraftGenerator | None,
        notifier: Notifier,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.generator = generator
        self.notifier = notifier
        self.clock = clock
        # Two runs at once would both draft the same empty slots.
        # NOTE: this guards one process; replicas rely on the daily job's run claim.
        self._run_lock = threading.Lock()

    def workspace(self) -> WorkspaceConfig:
        with unit_of_work(self.sessions) as session:
            return load_workspace(session)

    def today(self, workspace: WorkspaceConfig | None = None) -> date:
        zone = workspace_zone(workspace or self.workspace(), self.settings.zone)
        return self.clock().astimezone(zone).date()

    # Weekly plan

    def plan_week(self, *, day: date) -> int:
        """Materialise the calendar slots of the week (Monday to Sunday) containing ``day``; idempotent."""
        workspace = self.workspace()
        monday = day - timedelta(days=day.weekday())
        planned = _planned_slots(workspace)
        self._drop_outdated_entries(monday, dict(planned))
        created = 0
        for index, slot in planned:
            entry_day = monday + timedelta(days=WEEKDAYS.index(slot.weekday))
            with unit_of_work(self.sessions) as session:
                exists = session.scalar(
                    select(CalendarEntry.id).where(CalendarEntry.day == entry_day, CalendarEntry.slot_index == index)
                )
                if exists is not None:
                    continue
                try:
                    with session.begin_nested():
                        session.add(CalendarEntry(
                            day=entry_day, slot_index=index, platform=Platform(slot.platform),
                            content_type=slot.content_type, local_time=slot.time, pool=slot.pool,
                        ))
                    created += 1
                except IntegrityError:
                    pass  # another replica materialised it first
        if created:
            log.info("materialised %d calendar slots for the week of %s", created, monday)
        return created

    def _drop_outdated_entries(self, monday: date, plan: dict[int, CalendarSlot]) -> None:
        """Remove the week's empty slots that the current plan no longer has, so a re-imported plan applies.

        Slots that already have a draft stay, with their draft.
        """
        with unit_of_work(self.sessions) as session:
            entries = session.scalars(
                select(CalendarEntry).where(
                    CalendarEntry.day >= max(monday, self.today()),
                    CalendarEntry.day < monday + timedelta(days=7),
                    CalendarEntry.content_item_id.is_(None),
                )
            )
            for entry in entries:
                slot = plan.get(entry.slot_index)
                current = slot is not None and (
                    monday + timedelta(days=WEEKDAYS.index(slot.weekday)) == entry.day
                    and slot.platform == entry.platform
                    and slot.content_type == entry.content_type
                    and slot.time == entry.local_time
                    and slot.pool == entry.pool
                )
                if not current:
                    session.delete(entry)

    def calendar(self, *, days: int = 7) -> list[tuple[CalendarEntry, ContentItem | None]]:
        """Lay out this week's and next week's slots, then return the next ``days`` days' slots with their items."""
        today = self.today()
        self.plan_week(day=today)
        self.plan_week(day=today + timedelta(days=7))
        with unit_of_work(self.sessions) as session:
            entries = list(session.scalars(
                select(CalendarEntry)
                .where(CalendarEntry.day >= today, CalendarEntry.day < today + timedelta(days=days))
                .order_by(CalendarEntry.day, CalendarEntry.slot_index)
            ))
            items = {
                item.id: item
                for item in session.scalars(
                    select(ContentItem).where(ContentItem.id.in_([e.content_item_id for e in entries if e.content_item_id]))
                )
            }
        return [(entry, items.get(entry.content_item_id or 0)) for entry in entries]

    # Daily run

    def claim_run(self, kind: str, day: date) -> bool:
        """Record that the ``kind`` workflow runs for ``day``; False when it already ran or runs elsewhere."""
        with unit_of_work(self.sessions) as session:
            try:
                with session.begin_nested():
                    session.add(WorkflowRun(kind=kind, day=day, started_at=self.clock()))
                return True
            except IntegrityError:
                return False

    def run_daily(self, *, actor: str, day: date | None = None) -> DailyReport:
        """Generate one draft for every calendar slot of the day that has none yet."""
        with self._run_lock:
            return self._run_daily(actor=actor, day=day)

    def _run_daily(self, *, actor: str, day: date | None) -> DailyReport:
        workspace = self.workspace()
        day = day or self.today(workspace)
        report = DailyReport(day=day)
        checks = run_preflight(self.settings, workspace, today=day)
        if has_blocking(checks):
            report.blocked = [check.message for check in checks if check.severity == "blocking"]
            return report
        assert self.generator is not None
        self.plan_week(day=day)

        with unit_of_work(self.sessions) as session:
            entries = list(session.scalars(
                select(CalendarEntry)
                .where(CalendarEntry.day == day, CalendarEntry.content_item_id.is_(None))
                .order_by(CalendarEntry.slot_index)
            ))
            last_used = {
                (usage.pool, usage.title): usage.last_used_at for usage in session.scalars(select(TopicUsage))
            }
        if not entries:
            report.skipped.append(f"every calendar slot of {day} already has a draft")
            return report

        choices = choose_topics(
            [SlotDemand(pool=entry.pool) for entry in entries],
            workspace.topic_pools,
            last_used=last_used,
            now=self.clock(),
            seed=day.toordinal(),
        )
        jobs = []
        for entry, choice in zip(entries, choices, strict=True):
            if choice is None:
                where = f"pool {entry.pool!r}" if entry.pool else "any topic pool"
                report.skipped.append(
                    f"slot {entry.slot_index + 1} ({entry.platform}, {entry.content_type}) has no topic: "
                    f"add topics to {where}"
                )
                continue
            jobs.append(_SlotJob(entry.id, ContentType(entry.content_type), choice, choice.topic.title))

        # Each draft waits on the LLM; the pool bounds how many wait at once.
        with ThreadPoolExecutor(
            max_workers=workspace.generation_concurrency, thread_name_prefix="borker-generate"
        ) as pool:
            outcomes = list(pool.map(lambda job: self._generate_for(job, workspace, actor), jobs))
        for item_id, problem, failure in outcomes:
            if failure is not None:
                report.failed.append((item_id, failure))
            elif problem is not None:
                report.flagged.append(item_id)
            else:
                report.generated.append(item_id)
        return report

    # Single drafts

    def generate_adhoc(self, *, platform: Platform, topic: str, actor: str) -> int:
        """Draft one post on a topic given by a person, outside the calendar."""
        if self.generator is None:
            raise ConfigurationError(LLM_NOT_CONFIGURED)
        workspace = self.workspace()
        job = _SlotJob(entry_id=None, content_type=default_content_type(platform), choice=None, topic=topic)
        item_id, _, failure = self._generate_for(job, workspace, actor)
        if failure is not None:
            raise GenerationFailed(failure)
        return item_id

    def regenerate(self, *, item_id: int, version: int, actor: str) -> None:
        """Write new text for the same slot and topic, replacing the draft in place."""
        if self.generator is None:
            raise ConfigurationError(LLM_NOT_CONFIGURED)
        workspace = self.workspace()
        with unit_of_work(self.sessions) as session:
            item = lifecycle.get_item(session, item_id)
            if item.status not in (S.PENDING_REVIEW, S.FAILED) or item.postiz_id is not None:
                raise IllegalTransition(item_id, item.status, "regenerated")
            if item.version != version:
                raise lifecycle.StaleItem(item_id, item.status)
            request = self._request(
                workspace, ContentType(item.content_type), topic=item.topic,
                topic_config=_find_topic(workspace, item.pool, item.topic), pool=item.pool, exclude=item_id,
                session=session,
            )
        draft = self.generator.generate(request)
        with unit_of_work(self.sessions) as session:
            item = lifecycle.get_item(session, item_id)
            changes = _draft_columns(draft)
            if item.status == S.FAILED:
                lifecycle.transition(
                    session, item, S.PENDING_REVIEW, actor=actor, reason="regenerated after a failure",
                    expected_version=version, failure_reason=None, **changes,
                )
            else:
                if item.version != version:
                    raise lifecycle.StaleItem(item_id, item.status)
                lifecycle.record_edit(session, item, actor=actor, reason="regenerated", **changes)
        self.notifier.item_changed(item_id)

    def _generate_for(self, job: _SlotJob, workspace: WorkspaceConfig, actor: str) -> tuple[int, str | None, str | None]:
        """Generate and store one draft; return (item id, problem, failure)."""
        assert self.generator is not None
        choice = job.choice
        with unit_of_work(self.sessions) as session:
            request = self._request(
                workspace, job.content_type, topic=job.topic, topic_config=choice.topic if choice else None,
                pool=choice.pool if choice else None, session=session,
            )
        common: dict[str, object] = {
            "platform": job.content_type.platform,
            "content_type": job.content_type.value,
            "topic": job.topic,
            "pool": choice.pool if choice else None,
            "angle": choice.topic.angle if choice else None,
            "selection_reason": choice.reason if choice else None,
            "calendar_entry_id": job.entry_id,
        }
        try:
            draft = self.generator.generate(request)
        except BorkerError as exc:
            log.warning("generation failed for %s on %s: %s", job.content_type, job.topic, exc)
            item_id = self._store_failure(common, reason=str(exc), actor=actor, entry_id=job.entry_id)
            self.notifier.item_changed(item_id)
            return item_id, None, str(exc)

        with unit_of_work(self.sessions) as session:
            item = lifecycle.create_item(
                session, actor=actor, reason=f"generation requested for topic: {job.topic}",
                text=draft.text, problem=draft.problem, **common, **_llm_columns(draft),
            )
            if workspace.auto_approval and not draft.problem:
                lifecycle.transition(session, item, S.APPROVED, actor=SYSTEM_ACTOR, reason="auto-approved")
            else:
                reason = f"flagged: {draft.problem}" if draft.problem else f"drafted by {draft.model}"
                lifecycle.transition(session, item, S.PENDING_REVIEW, actor=SYSTEM_ACTOR, reason=reason)
            self._link(session, job.entry_id, item.id)
            if choice is not None:
                self._mark_used(session, choice)
            item_id = item.id
        self.notifier.item_changed(item_id)
        return item_id, draft.problem, None

    def _store_failure(self, common: dict[str, object], *, reason: str, actor: str, entry_id: int | None) -> int:
        with unit_of_work(self.sessions) as session:
            item = lifecycle.create_item(session, actor=actor, reason="generation requested", text="", **common)
            lifecycle.transition(
                session, item, S.FAILED, actor=SYSTEM_ACTOR, reason=f"generation failed: {reason}",
                failure_reason=f"Generation failed: {reason}",
            )
            self._link(session, entry_id, item.id)
            return item.id

    def _request(
        self, workspace: WorkspaceConfig, content_type: ContentType, *, topic: str, topic_config: Topic | None,
        pool: str | None, session: Session, exclude: int | None = None,
    ) -> DraftRequest:
        platform = content_type.platform
        query = (
            select(ContentItem.text)
            .where(
                ContentItem.platform == platform,
                ContentItem.status.in_([S.PENDING_REVIEW, S.APPROVED, S.SCHEDULED, S.PUBLISHED]),
                ContentItem.text != "",
            )
            .order_by(ContentItem.id.desc())
            .limit(RECENT_POSTS)
        )
        if exclude is not None:
            query = query.where(ContentItem.id != exclude)
        recent = tuple(session.scalars(query))
        return DraftRequest(
            content_type=content_type,
            topic=topic,
            angle=topic_config.angle if topic_config else "",
            keywords=tuple(topic_config.keywords) if topic_config else (),
            pool=pool,
            brand=workspace.brand if workspace.brand.configured else None,
            recent_posts=recent,
            rules=DraftRules(
                content_type=content_type, long_casts=workspace.long_casts, hashtag_policy=workspace.brand.hashtags,
            ),
        )

    def _link(self, session: Session, entry_id: int | None, item_id: int) -> None:
        if entry_id is None:
            return
        entry = session.get(CalendarEntry, entry_id)
        if entry is not None:
            entry.content_item_id = item_id

    def _mark_used(self, session: Session, choice: TopicChoice) -> None:
        usage = session.scalar(
            select(TopicUsage).where(TopicUsage.pool == choice.pool, TopicUsage.title == choice.topic.title)
        )
        if usage is None:
            session.add(TopicUsage(pool=choice.pool, title=choice.topic.title, last_used_at=self.clock()))
        else:
            usage.last_used_at = self.clock()


def _planned_slots(workspace: WorkspaceConfig) -> list[tuple[int, CalendarSlot]]:
    """Return the plan's slots on its weekdays, with their index in the plan.

    At most ``posts_per_week`` of them are used when that is set, in the order
    the plan lists them.
    """
    plan = workspace.calendar
    slots = [(index, slot) for index, slot in enumerate(plan.slots) if slot.weekday in plan.weekdays]
    if plan.posts_per_week:
        slots = slots[: plan.posts_per_week]
    return slots


def _find_topic(workspace: WorkspaceConfig, pool: str | None, title: str) -> Topic | None:
    for topic_pool in workspace.topic_pools:
        if pool in (None, topic_pool.name):
            for topic in topic_pool.topics:
                if topic.title == title:
                    return topic
    return None


def _llm_columns(draft: GeneratedDraft) -> dict[str, object]:
    return {
        "llm_model": draft.model,
        "prompt_tokens": draft.prompt_tokens,
        "completion_tokens": draft.completion_tokens,
        "generation_ms": draft.latency_ms,
    }


def _draft_columns(draft: GeneratedDraft) -> dict[str, object]:
    return {"text": draft.text, "problem": draft.problem, **_llm_columns(draft)}

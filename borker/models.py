"""Typed SQLAlchemy models: content items, their audit trail, the calendar and workspace state."""

from __future__ import annotations

from datetime import date, datetime, timezone
from enum import StrEnum

from sqlalchemy import (
    Date,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Platform(StrEnum):
    X = "x"
    LINKEDIN = "linkedin"
    FARCASTER = "farcaster"

    @property
    def label(self) -> str:
        return {"x": "X", "linkedin": "LinkedIn", "farcaster": "Farcaster"}[self.value]


class ContentStatus(StrEnum):
    DRAFT = "draft"
    PENDING_REVIEW = "pending_review"
    APPROVED = "approved"
    REJECTED = "rejected"
    SCHEDULED = "scheduled"
    PUBLISHED = "published"
    FAILED = "failed"


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as UTC that always reads back timezone-aware.

    SQLite keeps no offset, so values are normalised to UTC on the way in and
    tagged as UTC on the way out; PostgreSQL stores ``timestamptz`` either way.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} given where UTC is required")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class ContentItem(TimestampMixin, Base):
    """One post for one platform, from generation until it is published."""

    __tablename__ = "content_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[Platform] = mapped_column(String(16))
    content_type: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text, default="")
    topic: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[ContentStatus] = mapped_column(String(16), index=True)
    # Bumped on every transition and edit; buttons carry it so that a click on
    # an outdated message is recognised instead of acting on newer content.
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Why the current text cannot be approved as it is (over the platform limit, ...).
    problem: Mapped[str | None] = mapped_column(Text)
    slack_channel: Mapped[str | None] = mapped_column(String(32))
    slack_ts: Mapped[str | None] = mapped_column(String(32))
    # The item version that the Slack message shows. It lags behind ``version``
    # after a failed update, which is how the message-repair job finds messages to redo.
    slack_synced_version: Mapped[int | None] = mapped_column(Integer)
    # When the item was first approved; Process Approved plans items in this order.
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set only once Postiz has confirmed the post.
    postiz_id: Mapped[str | None] = mapped_column(String(64), index=True)
    postiz_integration_id: Mapped[str | None] = mapped_column(String(64))
    # Set just before a create request goes to Postiz and cleared once its outcome
    # is known. Still set on the next run means the outcome was never confirmed
    # (timeout, crash), so Postiz is searched for the post before any re-send:
    # Postiz has no idempotency key.
    send_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Create requests sent since the last confirmed one; capped so a Postiz that
    # never confirms cannot make Borker send the same post again and again.
    unconfirmed_sends: Mapped[int] = mapped_column(Integer, default=0)
    # A Process Approved run or a Cancel claims the item until this time, so
    # that two runs (or two replicas) never act on the same item at once.
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    release_url: Mapped[str | None] = mapped_column(Text)
    failure_reason: Mapped[str | None] = mapped_column(Text)
    pool: Mapped[str | None] = mapped_column(String(200))
    angle: Mapped[str | None] = mapped_column(Text)
    # Why the decision engine chose this topic, shown on the draft message.
    selection_reason: Mapped[str | None] = mapped_column(Text)
    calendar_entry_id: Mapped[int | None] = mapped_column(ForeignKey("calendar_entries.id", ondelete="SET NULL"))
    llm_model: Mapped[str | None] = mapped_column(String(128))
    prompt_tokens: Mapped[int | None] = mapped_column(Integer)
    completion_tokens: Mapped[int | None] = mapped_column(Integer)
    generation_ms: Mapped[int | None] = mapped_column(Integer)

    audit: Mapped[list[AuditEntry]] = relationship(
        back_populates="item", order_by="AuditEntry.id", cascade="all, delete-orphan"
    )


class CalendarEntry(TimestampMixin, Base):
    """One calendar slot materialised for a date: the plan that a content item fills."""

    __tablename__ = "calendar_entries"
    __table_args__ = (UniqueConstraint("day", "slot_index", name="uq_calendar_entries_day_slot"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    # Position of the slot in the workspace's calendar plan; with the day it makes
    # the weekly materialisation idempotent.
    slot_index: Mapped[int] = mapped_column(Integer)
    platform: Mapped[Platform] = mapped_column(String(16))
    content_type: Mapped[str] = mapped_column(String(32))
    local_time: Mapped[str | None] = mapped_column(String(5))
    pool: Mapped[str | None] = mapped_column(String(200))
    content_item_id: Mapped[int | None] = mapped_column(Integer)


class WorkflowRun(Base):
    """One run of the daily or weekly workflow for one day; the unique key lets only one replica run it."""

    __tablename__ = "workflow_runs"
    __table_args__ = (UniqueConstraint("kind", "day", name="uq_workflow_runs_kind_day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    day: Mapped[date] = mapped_column(Date)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    summary: Mapped[str | None] = mapped_column(Text)


class TopicUsage(Base):
    """When a topic was last used for a draft, for the decision engine's recency score."""

    __tablename__ = "topic_usage"
    __table_args__ = (UniqueConstraint("pool", "title", name="uq_topic_usage_pool_title"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pool: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(500))
    last_used_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Workspace(TimestampMixin, Base):
    """The stored workspace configuration (see ``borker.workspace``), as validated JSON."""

    __tablename__ = "workspaces"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    config: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[str] = mapped_column(String(64))


class PostizRateWindow(Base):
    """Create requests spent against Postiz's hourly limit, shared by every replica."""

    __tablename__ = "postiz_rate_windows"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime())
    used: Mapped[int] = mapped_column(Integer, default=0)
    # Set after a 429: Postiz blocks the organization until then.
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AuditEntry(Base):
    """One status change (or edit) of a content item: who, when, from, to and why."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("content_items.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))
    from_status: Mapped[ContentStatus | None] = mapped_column(String(16))
    to_status: Mapped[ContentStatus] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")

    item: Mapped[ContentItem] = relationship(back_populates="audit")

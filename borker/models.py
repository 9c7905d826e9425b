"""Typed SQLAlchemy models: content items and their audit trail."""

from __future__ import annotations

from datetime import datetime, timezone
from enum import StrEnum

from sqlalchemy import DateTime, ForeignKey, Integer, MetaData, String, Text, TypeDecorator
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
    llm_model: Mapped[str | None] = mapped_column(String(128))
    prompt_tokens: Mapped[int | None] = mapped_column(Integer)
    completion_tokens: Mapped[int | None] = mapped_column(Integer)
    generation_ms: Mapped[int | None] = mapped_column(Integer)

    audit: Mapped[list[AuditEntry]] = relationship(
        back_populates="item", order_by="AuditEntry.id", cascade="all, delete-orphan"
    )


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

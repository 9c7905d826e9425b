"""The content lifecycle: which status changes are legal, and the one place that makes them.

Every change goes through ``transition``, which applies it with a conditional
UPDATE (compare-and-set on status and version). Two concurrent clicks, or two
replicas running the same job, therefore change an item at most once: the
loser gets ``StaleItem`` and leaves the item alone.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from borker.errors import BorkerError, IllegalTransition, ItemNotFound
from borker.models import AuditEntry, ContentItem, ContentStatus, utcnow

log = logging.getLogger(__name__)

S = ContentStatus

ALLOWED: dict[ContentStatus | None, frozenset[ContentStatus]] = {
    None: frozenset({S.DRAFT}),
    S.DRAFT: frozenset({S.PENDING_REVIEW, S.APPROVED, S.FAILED}),
    S.PENDING_REVIEW: frozenset({S.APPROVED, S.REJECTED}),
    # approved → rejected stays possible until the item is scheduled.
    S.APPROVED: frozenset({S.SCHEDULED, S.REJECTED, S.FAILED}),
    # scheduled → approved is Cancel; failed keeps Postiz's reason.
    S.SCHEDULED: frozenset({S.PUBLISHED, S.APPROVED, S.FAILED}),
    # A failed item goes back to review after an edit, or straight to approved for a retry.
    S.FAILED: frozenset({S.APPROVED, S.PENDING_REVIEW, S.REJECTED}),
    S.REJECTED: frozenset(),
    S.PUBLISHED: frozenset(),
}

SYSTEM_ACTOR = "borker"


class StaleItem(BorkerError):
    """The item changed between reading it and writing the transition."""

    def __init__(self, item_id: int, current: str) -> None:
        super().__init__(
            f"Content item {item_id} changed in the meantime and is now {current.replace('_', ' ')}: "
            "the message has been refreshed, check it and try again."
        )
        self.item_id = item_id


def is_allowed(current: ContentStatus | None, target: ContentStatus) -> bool:
    return target in ALLOWED[current]


def check_transition(item: ContentItem, target: ContentStatus) -> None:
    if not is_allowed(item.status, target):
        raise IllegalTransition(item.id, item.status, target)


def get_item(session: Session, item_id: int) -> ContentItem:
    item = session.get(ContentItem, item_id)
    if item is None:
        raise ItemNotFound(item_id)
    return item


def create_item(session: Session, *, actor: str, reason: str, **fields: Any) -> ContentItem:
    """Insert a new item in ``draft`` with its first audit entry."""
    item = ContentItem(status=S.DRAFT, version=1, **fields)
    session.add(item)
    session.flush()
    session.add(AuditEntry(item_id=item.id, actor=actor, from_status=None, to_status=S.DRAFT, reason=reason))
    session.flush()
    log.info("content item created", extra={"item_id": item.id, "platform": item.platform})
    return item


def transition(
    session: Session,
    item: ContentItem,
    target: ContentStatus,
    *,
    actor: str,
    reason: str = "",
    expected_version: int | None = None,
    **changes: Any,
) -> ContentItem:
    """Move ``item`` to ``target`` and record who, when and why.

    ``changes`` are other columns to set in the same UPDATE. Raises
    ``IllegalTransition`` for a change the lifecycle forbids, and ``StaleItem``
    when another writer changed the item first.
    """
    check_transition(item, target)
    version = item.version if expected_version is None else expected_version
    source = item.status
    now = utcnow()
    if target == S.APPROVED and item.approved_at is None:
        changes.setdefault("approved_at", now)
    result = session.execute(
        update(ContentItem)
        .where(ContentItem.id == item.id, ContentItem.status == source, ContentItem.version == version)
        .values(status=target, version=version + 1, updated_at=now, **changes)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(item)
        raise StaleItem(item.id, item.status)
    session.add(AuditEntry(item_id=item.id, at=now, actor=actor, from_status=source, to_status=target, reason=reason))
    session.flush()
    session.refresh(item)
    log.info(
        "content item %s: %s -> %s", item.id, source, target,
        extra={"item_id": item.id, "actor": actor, "reason": reason},
    )
    return item


def record_edit(session: Session, item: ContentItem, *, actor: str, reason: str, **changes: Any) -> ContentItem:
    """Change fields without a status change (an edit), bumping the version and auditing it."""
    now = utcnow()
    result = session.execute(
        update(ContentItem)
        .where(ContentItem.id == item.id, ContentItem.version == item.version, ContentItem.status == item.status)
        .values(version=item.version + 1, updated_at=now, **changes)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(item)
        raise StaleItem(item.id, item.status)
    session.add(AuditEntry(item_id=item.id, at=now, actor=actor, from_status=item.status, to_status=item.status, reason=reason))
    session.flush()
    session.refresh(item)
    return item


def claim(session: Session, item_id: int, status: ContentStatus, *, now: datetime, hold: timedelta) -> bool:
    """Claim an item in ``status`` for ``hold``; return False when another run or click has claimed it."""
    result = session.execute(
        update(ContentItem)
        .where(
            ContentItem.id == item_id,
            ContentItem.status == status,
            or_(ContentItem.claimed_until.is_(None), ContentItem.claimed_until < now),
        )
        .values(claimed_until=now + hold)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def release(session: Session, item_id: int) -> None:
    session.execute(
        update(ContentItem).where(ContentItem.id == item_id).values(claimed_until=None)
        .execution_options(synchronize_session=False)
    )


def items_with_status(session: Session, status: ContentStatus) -> list[ContentItem]:
    return list(session.scalars(select(ContentItem).where(ContentItem.status == status).order_by(ContentItem.id)))

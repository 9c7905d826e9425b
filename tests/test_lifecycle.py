"""The content lifecycle on a migrated database: legal and illegal transitions, audit and races."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from borker import lifecycle
from borker.db import create_db_engine, migrate, session_factory, unit_of_work
from borker.errors import IllegalTransition
from borker.lifecycle import ALLOWED, StaleItem
from borker.models import ContentStatus, Platform

S = ContentStatus


@pytest.fixture
def sessions(database_url: str) -> Iterator[sessionmaker[Session]]:
    engine = create_db_engine(database_url)
    migrate(engine)
    yield session_factory(engine)
    engine.dispose()


def new_item(sessions: sessionmaker[Session]) -> int:
    with unit_of_work(sessions) as session:
        item = lifecycle.create_item(
            session, actor="U1", reason="test", platform=Platform.X, content_type="x-post", text="hello", topic="t"
        )
        return item.id


def move(sessions: sessionmaker[Session], item_id: int, target: ContentStatus, **kwargs: object) -> None:
    with unit_of_work(sessions) as session:
        item = lifecycle.get_item(session, item_id)
        lifecycle.transition(session, item, target, actor="U1", reason="because", **kwargs)


def test_full_path_is_audited(sessions: sessionmaker[Session]) -> None:
    item_id = new_item(sessions)
    for target in (S.PENDING_REVIEW, S.APPROVED, S.SCHEDULED, S.PUBLISHED):
        move(sessions, item_id, target)
    with unit_of_work(sessions) as session:
        item = lifecycle.get_item(session, item_id)
        assert item.status == S.PUBLISHED
        assert item.version == 5
        steps = [(entry.from_status, entry.to_status) for entry in item.audit]
        assert steps == [
            (None, S.DRAFT), (S.DRAFT, S.PENDING_REVIEW), (S.PENDING_REVIEW, S.APPROVED),
            (S.APPROVED, S.SCHEDULED), (S.SCHEDULED, S.PUBLISHED),
        ]
        assert all(entry.at.tzinfo is not None for entry in item.audit)
        assert item.audit[-1].reason == "because"


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ((S.PENDING_REVIEW,), S.SCHEDULED),
        ((S.PENDING_REVIEW, S.REJECTED), S.APPROVED),
        ((S.PENDING_REVIEW, S.APPROVED, S.SCHEDULED, S.PUBLISHED), S.APPROVED),
        ((), S.PUBLISHED),
    ],
)
def test_illegal_transition_raises(sessions: sessionmaker[Session], path: tuple, target: ContentStatus) -> None:
    item_id = new_item(sessions)
    for step in path:
        move(sessions, item_id, step)
    with pytest.raises(IllegalTransition) as error:
        move(sessions, item_id, target)
    assert "so it cannot be" in str(error.value)
    with unit_of_work(sessions) as session:
        assert lifecycle.get_item(session, item_id).status == (path[-1] if path else S.DRAFT)


def test_cancel_returns_to_approved(sessions: sessionmaker[Session]) -> None:
    item_id = new_item(sessions)
    for target in (S.PENDING_REVIEW, S.APPROVED, S.SCHEDULED):
        move(sessions, item_id, target)
    move(sessions, item_id, S.APPROVED, postiz_id=None)
    with unit_of_work(sessions) as session:
        assert lifecycle.get_item(session, item_id).status == S.APPROVED


def test_concurrent_writer_loses(sessions: sessionmaker[Session]) -> None:
    item_id = new_item(sessions)
    move(sessions, item_id, S.PENDING_REVIEW)
    first, second = sessions(), sessions()
    try:
        item_a = lifecycle.get_item(first, item_id)
        item_b = lifecycle.get_item(second, item_id)
        lifecycle.transition(first, item_a, S.APPROVED, actor="U1")
        first.commit()
        with pytest.raises(StaleItem):
            lifecycle.transition(second, item_b, S.REJECTED, actor="U2")
        second.rollback()
    finally:
        first.close()
        second.close()
    with unit_of_work(sessions) as session:
        item = lifecycle.get_item(session, item_id)
        assert item.status == S.APPROVED
        assert [e.to_status for e in item.audit].count(S.REJECTED) == 0


def test_every_status_has_rules() -> None:
    assert set(ALLOWED) == {None, *ContentStatus}
    assert ALLOWED[S.PUBLISHED] == frozenset()
    assert S.APPROVED in ALLOWED[S.SCHEDULED]

"""The decision engine: recency, engagement, pool diversity and determinism."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from borker.decision import SlotDemand, choose_topics
from borker.workspace import Topic, TopicPool

NOW = datetime(2026, 12, 7, 6, 0, tzinfo=timezone.utc)


def pools() -> list[TopicPool]:
    return [
        TopicPool(name="Product", topics=[Topic(title="Dashboards", engagement=9), Topic(title="Exports", engagement=6)]),
        TopicPool(name="Lessons", topics=[Topic(title="Hiring", engagement=8), Topic(title="Pricing", engagement=7)]),
    ]


def test_highest_engagement_first() -> None:
    [choice] = choose_topics([SlotDemand()], pools(), last_used={}, now=NOW, seed=1)
    assert choice is not None
    assert choice.topic.title == "Dashboards"


def test_recent_use_lowers_score() -> None:
    used = {("Product", "Dashboards"): NOW - timedelta(days=1)}
    [choice] = choose_topics([SlotDemand()], pools(), last_used=used, now=NOW, seed=1)
    assert choice is not None
    assert choice.topic.title == "Hiring"


def test_batch_spreads_over_pools() -> None:
    choices = choose_topics([SlotDemand(), SlotDemand()], pools(), last_used={}, now=NOW, seed=1)
    assert [c.pool for c in choices if c] == ["Product", "Lessons"]


def test_bound_pool_is_respected() -> None:
    [choice] = choose_topics([SlotDemand(pool="Lessons")], pools(), last_used={}, now=NOW, seed=1)
    assert choice is not None
    assert choice.pool == "Lessons"


def test_no_topics_gives_none() -> None:
    assert choose_topics([SlotDemand()], [], last_used={}, now=NOW, seed=1) == [None]
    assert choose_topics([SlotDemand(pool="Missing")], pools(), last_used={}, now=NOW, seed=1) == [None]


def test_reason_names_pool_topic_angle() -> None:
    pool = TopicPool(name="P", topics=[Topic(title="T", angle="Speed is a feature", engagement=5)])
    [choice] = choose_topics([SlotDemand()], [pool], last_used={}, now=NOW, seed=1)
    assert choice is not None
    assert choice.reason.startswith("pool: P · topic: T · angle: Speed is a feature")


topic_lists = st.lists(
    st.builds(Topic, title=st.text(min_size=1, max_size=8), engagement=st.integers(1, 10)),
    min_size=1, max_size=6, unique_by=lambda topic: topic.title,
)
pool_lists = st.lists(
    st.builds(TopicPool, name=st.text(min_size=1, max_size=6), topics=topic_lists),
    min_size=1, max_size=4, unique_by=lambda pool: pool.name,
)


@settings(max_examples=80, deadline=None)
@given(pool_lists, st.integers(0, 8), st.integers(0, 2**31))
def test_choices_deterministic_and_distinct(pool_list: list[TopicPool], slot_count: int, seed: int) -> None:
    slots = [SlotDemand() for _ in range(slot_count)]
    first = choose_topics(slots, pool_list, last_used={}, now=NOW, seed=seed)
    again = choose_topics(slots, pool_list, last_used={}, now=NOW, seed=seed)
    assert first == again
    keys = [(c.pool, c.topic.title) for c in first if c is not None]
    available = sum(len(pool.topics) for pool in pool_list)
    assert len(keys) == slot_count
    # No topic repeats until every topic has been used once.
    assert len(set(keys)) == min(slot_count, available)

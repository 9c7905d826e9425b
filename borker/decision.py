"""The decision engine: which topic each calendar slot of a batch writes about.

Every eligible topic gets a score, and the highest wins:

    score = engagement / 10 × recency × diversity

* recency rises from 0 for a topic used today to almost 1 for one unused for
  several weeks (``1 - exp(-days / RECENCY_DAYS)``); a never-used topic scores 1;
* diversity halves a pool's score for each time the batch already drew from it,
  so one batch spreads over the pools;
* a topic already chosen in the batch is not chosen again while others remain.

Ties are broken by a hash of the seed and the topic, so the same seed and the
same inputs always give the same choices.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from borker.workspace import Topic, TopicPool

RECENCY_DAYS = 14.0
BATCH_POOL_PENALTY = 0.5


@dataclass(frozen=True)
class SlotDemand:
    """A slot's request to the engine: optionally the pool it is bound to."""

    pool: str | None = None


@dataclass(frozen=True)
class TopicChoice:
    pool: str
    topic: Topic
    score: float

    @property
    def reason(self) -> str:
        """Why this topic, as shown on the draft message."""
        angle = f" · angle: {self.topic.angle}" if self.topic.angle else ""
        return f"pool: {self.pool} · topic: {self.topic.title}{angle} · score {self.score:.2f}"


def choose_topics(
    slots: Sequence[SlotDemand],
    pools: Sequence[TopicPool],
    *,
    last_used: Mapping[tuple[str, str], datetime],
    now: datetime,
    seed: int,
) -> list[TopicChoice | None]:
    """Choose one topic per slot, in slot order; None where no topic is eligible."""
    chosen: set[tuple[str, str]] = set()
    pool_draws: Counter[str] = Counter()
    choices: list[TopicChoice | None] = []
    for slot in slots:
        best: tuple[float, str, TopicChoice] | None = None
        candidates = [(pool, topic) for pool in pools if slot.pool in (None, pool.name) for topic in pool.topics]
        fresh = [(pool, topic) for pool, topic in candidates if (pool.name, topic.title) not in chosen]
        for pool, topic in fresh or candidates:
            key = (pool.name, topic.title)
            score = (
                topic.engagement / 10
                * _recency(last_used.get(key), now)
                * BATCH_POOL_PENALTY ** pool_draws[pool.name]
            )
            ranking = (round(score, 12), _tiebreak(seed, key))
            if best is None or ranking > (best[0], best[1]):
                best = (ranking[0], ranking[1], TopicChoice(pool=pool.name, topic=topic, score=score))
        if best is None:
            choices.append(None)
            continue
        choice = best[2]
        chosen.add((choice.pool, choice.topic.title))
        pool_draws[choice.pool] += 1
        choices.append(choice)
    return choices


def _recency(used_at: datetime | None, now: datetime) -> float:
    if used_at is None:
        return 1.0
    days = max((now - used_at).total_seconds() / 86400, 0.0)
    return 1 - math.exp(-days / RECENCY_DAYS)


def _tiebreak(seed: int, key: tuple[str, str]) -> str:
    return hashlib.sha256(f"{seed}\x00{key[0]}\x00{key[1]}".encode()).hexdigest()

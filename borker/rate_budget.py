"""Postiz's hourly limit on POST /posts, tracked in the database so every replica shares it.

Postiz counts creates per organization in a fixed one-hour window that starts
with the first request, and a request over the limit blocks the organization
for a full hour. Borker spends at most its own budget per window and stops
entirely while a 429's Retry-After lasts.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from borker.db import unit_of_work
from borker.models import PostizRateWindow

WINDOW = timedelta(hours=1)
ROW_ID = 1


class PostizBudget:
    def __init__(self, *, sessions: sessionmaker[Session], hourly_limit: int) -> None:
        self.sessions = sessions
        self.hourly_limit = hourly_limit

    def reserve(self, now: datetime) -> datetime | None:
        """Count one create request; return None if it may be sent, else when the next one may go."""
        with unit_of_work(self.sessions) as session:
            self._ensure_row(session, now)
            unblocked = or_(PostizRateWindow.blocked_until.is_(None), PostizRateWindow.blocked_until <= now)
            # A window that has ended starts again with this request.
            fresh = session.execute(
                update(PostizRateWindow)
                .where(PostizRateWindow.id == ROW_ID, PostizRateWindow.window_start <= now - WINDOW, unblocked)
                .values(window_start=now, used=1, blocked_until=None)
            )
            if fresh.rowcount == 1:  # type: ignore[attr-defined]
                return None
            spent = session.execute(
                update(PostizRateWindow)
                .where(
                    PostizRateWindow.id == ROW_ID,
                    and_(PostizRateWindow.window_start > now - WINDOW, PostizRateWindow.used < self.hourly_limit),
                    unblocked,
                )
                .values(used=PostizRateWindow.used + 1)
            )
            if spent.rowcount == 1:  # type: ignore[attr-defined]
                return None
            row = session.get(PostizRateWindow, ROW_ID)
            assert row is not None
            return self._next_allowed(row)

    def blocked_until(self, now: datetime) -> datetime | None:
        """Return when creates may resume, or None when the budget has room now."""
        with unit_of_work(self.sessions) as session:
            row = session.get(PostizRateWindow, ROW_ID)
            if row is None:
                return None
            if row.blocked_until is not None and row.blocked_until > now:
                return row.blocked_until
            if row.window_start > now - WINDOW and row.used >= self.hourly_limit:
                return row.window_start + WINDOW
            return None

    def block(self, until: datetime, now: datetime) -> None:
        """Record a 429: no create goes out before ``until``."""
        with unit_of_work(self.sessions) as session:
            self._ensure_row(session, now)
            session.execute(
                update(PostizRateWindow).where(PostizRateWindow.id == ROW_ID).values(blocked_until=until)
            )

    def _next_allowed(self, row: PostizRateWindow) -> datetime:
        if row.blocked_until is not None:
            return max(row.blocked_until, row.window_start + WINDOW)
        return row.window_start + WINDOW

    def _ensure_row(self, session: Session, now: datetime) -> None:
        if session.scalar(select(PostizRateWindow.id).where(PostizRateWindow.id == ROW_ID)) is not None:
            return
        try:
            # Another replica may insert the row at the same moment; its row is as good.
            with session.begin_nested():
                session.add(PostizRateWindow(id=ROW_ID, window_start=now - WINDOW, used=0))
        except IntegrityError:
            pass

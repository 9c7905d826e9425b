"""Preflight checks: what stops a generation run, and what only degrades it.

Shown by ``/borker status`` and the App Home tab, and run before every
generation run; a blocking problem aborts the run with its fix.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from borker.config import Settings
from borker.workspace import WEEKDAYS, WorkspaceConfig


class Severity(StrEnum):
    BLOCKING = "blocking"
    WARNING = "warning"


@dataclass(frozen=True)
class PreflightCheck:
    severity: Severity
    message: str

    @property
    def line(self) -> str:
        icon = ":red_circle:" if self.severity == Severity.BLOCKING else ":large_yellow_circle:"
        return f"{icon} {self.message}"


def run_preflight(settings: Settings, workspace: WorkspaceConfig, *, today: date | None) -> list[PreflightCheck]:
    """Return one check per problem, each saying how to fix it; ``today`` None skips the slot check."""
    checks: list[PreflightCheck] = []

    def blocking(message: str) -> None:
        checks.append(PreflightCheck(Severity.BLOCKING, message))

    def warning(message: str) -> None:
        checks.append(PreflightCheck(Severity.WARNING, message))

    if settings.openai_api_key is None and not settings.openai_base_url:
        blocking("No LLM configured: set OPENAI_API_KEY, and OPENAI_BASE_URL for an OpenAI-compatible server.")
    if not settings.review_channel.strip():
        blocking("No review channel: set BORKER_REVIEW_CHANNEL to the id (C…) of the channel for drafts.")
    if today is not None:
        weekday = WEEKDAYS[today.weekday()]
        if not any(slot.weekday == weekday for slot in workspace.calendar.slots):
            blocking(
                f"No calendar slots for today ({weekday}): add a slot with `weekday: {weekday}` under "
                "`calendar.slots` in the workspace file and run `borker workspace import`."
            )
    if settings.postiz_api_key is None:
        warning(
            "No Postiz API key: drafts generate but cannot be scheduled. Create a key in "
            "Postiz → Settings → Developers and set POSTIZ_API_KEY."
        )
    if not workspace.brand.configured:
        warning("No brand voice: drafts use a generic voice. Fill in `brand:` in the workspace file and import it.")
    if not any(pool.topics for pool in workspace.topic_pools):
        warning("No topics in any topic pool: drafts for calendar slots need topics. Add them under `topic_pools:`.")
    return checks


def has_blocking(checks: list[PreflightCheck]) -> bool:
    return any(check.severity == Severity.BLOCKING for check in checks)

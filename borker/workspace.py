"""Workspace configuration: brand voice, topic pools, calendar plan and scheduling rules.

A team keeps it in version control as one YAML file (``borker workspace
import`` / ``export``); Borker stores it in the database. Validation is strict:
an unknown key, a wrong type or an out-of-range value rejects the whole file
with the path and the reason, and nothing is half-imported.
"""

from __future__ import annotations

import re
from datetime import time
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, available_timezones

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from sqlalchemy.orm import Session

from borker.errors import BorkerError
from borker.models import Workspace

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PlatformName = Literal["x", "linkedin", "farcaster"]
ContentTypeName = Literal["x-post", "x-thread", "linkedin-post", "farcaster-cast"]
CONTENT_TYPE_PLATFORM = {"x-post": "x", "x-thread": "x", "linkedin-post": "linkedin", "farcaster-cast": "farcaster"}

Scale = Annotated[int, Field(ge=1, le=5)]
# Size limits keep one file from flooding every prompt or the database.
ShortText = Annotated[str, Field(max_length=200)]
LongText = Annotated[str, Field(max_length=2000)]
SHOWN_VALUE_MAX = 80
# One Slack workspace per Borker installation, so one configuration row.
WORKSPACE_ID = 1


class InvalidWorkspaceConfig(BorkerError):
    """A workspace file that does not validate; the message lists each problem with its path."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("Invalid workspace configuration, nothing was imported:\n" + "\n".join(problems))
        self.problems = problems


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def _check_zone(value: str | None) -> str | None:
    if value is None:
        return None
    # "localtime" and "posixrules" exist on some hosts only, so only real IANA names are taken.
    if value not in available_timezones() or value in HOST_ONLY_ZONES:
        raise ValueError(f"unknown time zone {_shown(value)}: use an IANA name such as Europe/Berlin")
    return value


HOST_ONLY_ZONES = frozenset({"localtime", "posixrules", "Factory"})
_CLOCK = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


def _parse_clock(value: str) -> time:
    if not _CLOCK.match(value):
        raise ValueError(f"invalid time {_shown(value)}: use HH:MM from 00:00 to 23:59, e.g. 09:30")
    return time.fromisoformat(value)


def _shown(value: object) -> str:
    """Quote a value for an error message, cut to a readable length."""
    text = repr(value)
    return text if len(text) <= SHOWN_VALUE_MAX else text[: SHOWN_VALUE_MAX - 1] + "…"


# Brand voice


class VoiceAttributes(_Strict):
    """Tone sliders from 1 (low) to 5 (high)."""

    formality: Scale = 3
    friendliness: Scale = 3
    brevity: Scale = 3
    technical_depth: Scale = 3


class VoiceOverride(_Strict):
    formality: Scale | None = None
    friendliness: Scale | None = None
    brevity: Scale | None = None
    technical_depth: Scale | None = None


class BrandVoice(_Strict):
    name: ShortText = ""
    mission: LongText = ""
    audience: LongText = ""
    voice: VoiceAttributes = VoiceAttributes()
    platform_voice: dict[PlatformName, VoiceOverride] = {}
    principles: Annotated[list[LongText], Field(max_length=30)] = []
    terms_to_use: Annotated[list[ShortText], Field(max_length=100)] = []
    terms_to_avoid: Annotated[list[ShortText], Field(max_length=100)] = []
    examples: dict[PlatformName, Annotated[list[Annotated[str, Field(max_length=3000)]], Field(max_length=3)]] = {}
    emoji: Literal["none", "sparing", "free"] = "sparing"
    hashtags: Literal["none", "sparing", "free"] = "sparing"

    @property
    def configured(self) -> bool:
        return bool(self.name or self.mission)

    def voice_for(self, platform: str) -> VoiceAttributes:
        override = self.platform_voice.get(platform)  # type: ignore[call-overload]
        if override is None:
            return self.voice
        changes = {key: value for key, value in override.model_dump().items() if value is not None}
        return self.voice.model_copy(update=changes)


# Topic pools


class Topic(_Strict):
    title: Annotated[str, Field(min_length=1, max_length=300)]
    keywords: Annotated[list[ShortText], Field(max_length=30)] = []
    angle: LongText = ""
    engagement: Annotated[int, Field(ge=1, le=10)] = 5


class TopicPool(_Strict):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    topics: Annotated[list[Topic], Field(max_length=1000)] = []

    @model_validator(mode="after")
    def _unique_titles(self) -> "TopicPool":
        titles = [topic.title for topic in self.topics]
        repeated = sorted({title for title in titles if titles.count(title) > 1})
        if repeated:
            raise ValueError(f"topic titles must be unique in a pool; repeated: {', '.join(map(_shown, repeated))}")
        return self


# Calendar plan


class CalendarSlot(_Strict):
    weekday: Weekday
    platform: PlatformName
    content_type: ContentTypeName
    time: str | None = None
    pool: str | None = None

    @field_validator("time")
    @classmethod
    def _valid_time(cls, value: str | None) -> str | None:
        if value is not None:
            _parse_clock(value)
        return value

    @model_validator(mode="after")
    def _type_matches_platform(self) -> "CalendarSlot":
        if CONTENT_TYPE_PLATFORM[self.content_type] != self.platform:
            allowed = " or ".join(name for name, platform in CONTENT_TYPE_PLATFORM.items() if platform == self.platform)
            raise ValueError(
                f"content type {self.content_type} does not belong to platform {self.platform}: use {allowed}"
            )
        return self


class CalendarPlan(_Strict):
    posts_per_week: Annotated[int, Field(ge=0, le=100)] = 0
    weekdays: list[Weekday] = ["mon", "tue", "wed", "thu", "fri"]
    slots: Annotated[list[CalendarSlot], Field(max_length=200)] = []


# Scheduling


def _parse_window(window: str) -> tuple[time, time]:
    """Parse ``HH:MM-HH:MM``; an end of 00:00 means midnight at the end of the day."""
    parts = window.split("-")
    if len(parts) != 2:
        raise ValueError(f"invalid window {_shown(window)}: use HH:MM-HH:MM, e.g. 08:00-12:00")
    start, end = (_parse_clock(part.strip()) for part in parts)
    if end <= start and end != time(0, 0):
        raise ValueError(f"invalid window {_shown(window)}: the end must be after the start")
    return start, end


def _checked_window(window: str) -> str:
    _parse_window(window)
    return window


Window = Annotated[str, AfterValidator(_checked_window)]


class PlatformScheduling(_Strict):
    min_gap_minutes: Annotated[int, Field(ge=0, le=7 * 24 * 60)] | None = None
    daily_cap: Annotated[int, Field(ge=1, le=300)] | None = None
    audience_timezone: str | None = None
    # Weights by weekday, 24 hourly values from 0 (never) to 1 (best).
    weights: dict[Weekday, Annotated[list[Annotated[float, Field(ge=0, le=1)]], Field(min_length=24, max_length=24)]] | None = None

    _zone = field_validator("audience_timezone")(classmethod(lambda cls, value: _check_zone(value)))


class Scheduling(_Strict):
    days: list[Weekday] = ["mon", "tue", "wed", "thu", "fri"]
    windows: list[Window] = ["07:00-21:00"]
    grid_minutes: Literal[5, 15] = 15
    lead_minutes: Annotated[int, Field(ge=0, le=24 * 60)] = 20
    global_gap_minutes: Annotated[int, Field(ge=0, le=24 * 60)] = 30
    horizon_days: Annotated[int, Field(ge=1, le=28)] = 7
    platforms: dict[PlatformName, PlatformScheduling] = {}

    @field_validator("days")
    @classmethod
    def _some_days(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("no posting days: list at least one, e.g. [mon, wed, fri]")
        return value

    def parsed_windows(self) -> tuple[tuple[time, time], ...]:
        return tuple(_parse_window(window) for window in self.windows)


class WorkspaceConfig(_Strict):
    """Everything a team configures about its content, as stored and as exported."""

    timezone: str | None = None
    auto_approval: bool = False
    daily_run_time: str = "06:00"
    long_casts: bool = False
    generation_concurrency: Annotated[int, Field(ge=1, le=32)] = 4
    brand: BrandVoice = BrandVoice()
    topic_pools: list[TopicPool] = []
    calendar: CalendarPlan = CalendarPlan()
    scheduling: Scheduling = Scheduling()

    _zone = field_validator("timezone")(classmethod(lambda cls, value: _check_zone(value)))

    @field_validator("daily_run_time")
    @classmethod
    def _valid_run_time(cls, value: str) -> str:
        _parse_clock(value)
        return value

    @model_validator(mode="after")
    def _slot_pools_exist(self) -> "WorkspaceConfig":
        names = [pool.name for pool in self.topic_pools]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"topic_pools: pool names must be unique; repeated: {', '.join(map(_shown, repeated))}")
        for index, slot in enumerate(self.calendar.slots):
            if slot.pool is not None and slot.pool not in names:
                known = ", ".join(map(_shown, names)) or "none defined"
                raise ValueError(f"calendar.slots[{index}].pool: no topic pool named {_shown(slot.pool)} (pools: {known})")
        return self


def parse_workspace_yaml(text: str) -> WorkspaceConfig:
    """Validate a workspace file; raise ``InvalidWorkspaceConfig`` listing every problem with its path."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise InvalidWorkspaceConfig([f"not valid YAML{where}: {getattr(exc, 'problem', exc)}"]) from None
    if data is None:
        raise InvalidWorkspaceConfig(
            ["the file is empty: export the current configuration with `borker workspace export` and edit that"]
        )
    if not isinstance(data, dict):
        raise InvalidWorkspaceConfig(["the file must contain a mapping of settings, e.g. `brand:` and `topic_pools:`"])
    return parse_workspace_data(data)


def parse_workspace_data(data: dict[str, Any]) -> WorkspaceConfig:
    try:
        config = WorkspaceConfig.model_validate(data)
    except ValidationError as exc:
        raise InvalidWorkspaceConfig([_describe(error) for error in exc.errors()]) from None
    # The planner checks combinations that no single field shows, such as a window
    # with no time on the grid. Building its configuration now keeps such files out
    # of the database.
    from borker.scheduling_config import planner_config

    try:
        planner_config(config, default_zone=ZoneInfo("UTC"))
    except ValueError as exc:
        raise InvalidWorkspaceConfig([f"scheduling: {exc}"]) from None
    return config


def dump_workspace_yaml(config: WorkspaceConfig) -> str:
    return yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False, allow_unicode=True)


def _path(location: tuple[int | str, ...]) -> str:
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part.startswith(("function-", "literal[", "list[", "dict[")) or part == "[key]":
            continue
        else:
            path += f".{part}" if path else str(part)
    return path or "(top level)"


def _describe(error: Any) -> str:
    path = _path(tuple(error["loc"]))
    kind = error["type"]
    context = error.get("ctx") or {}
    if kind == "extra_forbidden":
        return f"{path}: unknown key; check its spelling or remove it"
    if kind == "missing":
        return f"{path}: missing"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        field = _range_of(error)
        return f"{path}: must be {field}, got {_shown(error.get('input'))}"
    if kind == "literal_error":
        return f"{path}: must be one of {context.get('expected')}, got {_shown(error.get('input'))}"
    if kind == "string_type" and isinstance(error.get("input"), int):
        # YAML reads an unquoted 09:30 as the number 570.
        return f'{path}: must be text; put it in quotes, e.g. "09:30"'
    if kind == "string_too_long":
        return f"{path}: must be at most {context.get('max_length')} characters, got {len(str(error.get('input')))}"
    if kind in ("too_long", "too_short"):
        return f"{path}: {error['msg'].lower()}"
    if kind == "value_error":
        message = str(context.get("error", error["msg"]))
        # A whole-file check already names its own path.
        return message if path == "(top level)" else f"{path}: {message}"
    return f"{path}: {error['msg'].lower()}, got {_shown(error.get('input'))}"


_RANGES = {
    "engagement": "1–10",
    "formality": "1–5",
    "friendliness": "1–5",
    "brevity": "1–5",
    "technical_depth": "1–5",
}


def _range_of(error: Any) -> str:
    last = next((part for part in reversed(error["loc"]) if isinstance(part, str)), "")
    if last in _RANGES:
        return _RANGES[last]
    context = error.get("ctx") or {}
    if "ge" in context and "le" in context:
        return f"{context['ge']}–{context['le']}"
    bound = next(iter(context.items()), ("", ""))
    words = {"ge": "at least", "le": "at most", "gt": "more than", "lt": "less than"}
    return f"{words.get(bound[0], bound[0])} {bound[1]}"


# Storage


def load_workspace(session: Session) -> WorkspaceConfig:
    """Return the stored configuration, or the defaults when none was imported yet."""
    row = session.get(Workspace, WORKSPACE_ID)
    if row is None:
        return WorkspaceConfig()
    return WorkspaceConfig.model_validate_json(row.config)


def save_workspace(session: Session, config: WorkspaceConfig, *, actor: str) -> None:
    row = session.get(Workspace, WORKSPACE_ID)
    payload = config.model_dump_json()
    if row is None:
        session.add(Workspace(id=WORKSPACE_ID, config=payload, updated_by=actor))
    else:
        row.config = payload
        row.updated_by = actor
    session.flush()

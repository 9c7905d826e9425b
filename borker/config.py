"""Settings read from the environment (pydantic-settings)."""

from __future__ import annotations

from datetime import time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from borker.errors import ConfigurationError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _env(name: str) -> AliasChoices:
    return AliasChoices(name)


class Settings(BaseSettings):
    """Every setting Borker reads; the environment variable names are the field aliases."""

    model_config = SettingsConfigDict(populate_by_name=True, extra="ignore")

    slack_bot_token: SecretStr = Field(min_length=1, validation_alias=_env("SLACK_BOT_TOKEN"))
    slack_signing_secret: SecretStr = Field(min_length=1, validation_alias=_env("SLACK_SIGNING_SECRET"))
    slack_api_url: str = Field(
        "https://slack.com/api/",
        validation_alias=_env("SLACK_API_URL"),
        description="Base URL of the Slack Web API.",
    )
    review_channel: str = Field(
        validation_alias=_env("BORKER_REVIEW_CHANNEL"),
        description="Slack channel id (C…) where drafts are posted for review.",
    )
    postiz_api_url: str = Field(
        "https://api.postiz.com/public/v1",
        validation_alias=_env("POSTIZ_API_URL"),
        description="Postiz public API base, including /public/v1.",
    )
    postiz_api_key: SecretStr | None = Field(None, validation_alias=_env("POSTIZ_API_KEY"))
    postiz_timeout_seconds: float = Field(15.0, gt=0, validation_alias=_env("POSTIZ_TIMEOUT_SECONDS"))
    postiz_frontend_url: str = Field("https://platform.postiz.com", validation_alias=_env("POSTIZ_FRONTEND_URL"))
    webhook_token: SecretStr = Field(
        min_length=16,
        validation_alias=_env("BORKER_WEBHOOK_TOKEN"),
        description="Secret path segment of the Postiz webhook URL; at least 16 characters, unguessable.",
    )
    timezone: str = Field("UTC", validation_alias=_env("BORKER_TIMEZONE"))
    database_url: str = Field("sqlite:///borker.db", validation_alias=_env("BORKER_DATABASE_URL"))
    openai_base_url: str | None = Field(None, validation_alias=_env("OPENAI_BASE_URL"))
    openai_api_key: SecretStr | None = Field(None, validation_alias=_env("OPENAI_API_KEY"))
    llm_model: str = Field("gpt-4o-mini", validation_alias=_env("BORKER_LLM_MODEL"))
    llm_timeout_seconds: float = Field(60.0, gt=0, validation_alias=_env("BORKER_LLM_TIMEOUT_SECONDS"))
    process_interval_minutes: int = Field(15, ge=1, validation_alias=_env("BORKER_PROCESS_INTERVAL_MINUTES"))
    reconcile_interval_minutes: int = Field(10, ge=1, validation_alias=_env("BORKER_RECONCILE_INTERVAL_MINUTES"))
    posting_days: str = Field(
        "mon,tue,wed,thu,fri",
        validation_alias=_env("BORKER_POSTING_DAYS"),
        description="Comma-separated weekdays on which posts may go out.",
    )
    posting_times: str = Field(
        "09:00,12:00,15:00",
        validation_alias=_env("BORKER_POSTING_TIMES"),
        description="Comma-separated local times (HH:MM, workspace time zone) at which posts may go out.",
    )
    min_gap_minutes: int = Field(
        60, ge=0, validation_alias=_env("BORKER_MIN_GAP_MINUTES"),
        description="Minimum minutes between two scheduled posts.",
    )
    lead_minutes: int = Field(
        20, ge=0, validation_alias=_env("BORKER_LEAD_MINUTES"),
        description="Minutes from now before the earliest posting time, so a last edit can still land.",
    )
    worker_threads: int = Field(4, ge=1, validation_alias=_env("BORKER_WORKER_THREADS"))
    port: int = Field(3000, ge=1, le=65535, validation_alias=_env("PORT"))

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}: use an IANA name such as Europe/Berlin") from None
        return value

    @field_validator("posting_days")
    @classmethod
    def _known_days(cls, value: str) -> str:
        days = [day.strip().lower()[:3] for day in value.split(",") if day.strip()]
        unknown = [day for day in days if day not in WEEKDAYS]
        if unknown or not days:
            raise ValueError(f"invalid weekdays {value!r}: use a comma-separated list such as mon,wed,fri")
        return ",".join(days)

    @field_validator("posting_times")
    @classmethod
    def _valid_times(cls, value: str) -> str:
        try:
            parsed = [time.fromisoformat(part.strip()) for part in value.split(",") if part.strip()]
        except ValueError:
            raise ValueError(f"invalid times {value!r}: use a comma-separated list such as 09:00,13:30") from None
        if not parsed:
            raise ValueError("no posting times given: use a comma-separated list such as 09:00,13:30")
        return ",".join(sorted(t.strftime("%H:%M") for t in parsed))

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def weekday_numbers(self) -> list[int]:
        return [WEEKDAYS.index(day) for day in self.posting_days.split(",")]

    @property
    def local_posting_times(self) -> list[time]:
        return [time.fromisoformat(part) for part in self.posting_times.split(",")]


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning a missing or invalid one into one line that names it."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        field = first["loc"][0] if first["loc"] else "?"
        name = _env_name(str(field))
        if first["type"] == "missing":
            raise ConfigurationError(f"Missing required setting {name}: set it in the environment.") from None
        reason = first["msg"].removeprefix("Value error, ")
        raise ConfigurationError(f"Invalid setting {name}: {reason}.") from None


def _env_name(field: str) -> str:
    info = Settings.model_fields.get(field)
    alias = info.validation_alias if info else None
    if isinstance(alias, AliasChoices):
        return str(alias.choices[0])
    return field.upper()

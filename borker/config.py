"""Settings read from the environment (pydantic-settings)."""

from __future__ import annotations

import os
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from borker.errors import ConfigurationError


def _env(name: str) -> AliasChoices:
    return AliasChoices(name)


class Settings(BaseSettings):
    """Every setting Borker reads; the environment variable names are the field aliases."""

    model_config = SettingsConfigDict(extra="ignore")

    slack_bot_token: SecretStr = Field(min_length=1, validation_alias=_env("SLACK_BOT_TOKEN"))
    slack_signing_secret: SecretStr = Field(min_length=1, validation_alias=_env("SLACK_SIGNING_SECRET"))
    slack_api_url: str = Field(
        "https://slack.com/api/",
        validation_alias=_env("SLACK_API_URL"),
        description="Base URL of the Slack Web API.",
    )
    review_channel: str = Field(
        pattern=r"^[CG][A-Z0-9]{2,}$",
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
    postiz_hourly_budget: int = Field(
        30, ge=1, le=1000, validation_alias=_env("POSTIZ_HOURLY_BUDGET"),
        description="Create requests Borker may send to Postiz per hour (Postiz's API_LIMIT: 30 in its stock setup).",
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

    @field_validator("openai_api_key", "postiz_api_key", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # An exported but empty variable means "not configured", not an empty key.
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("openai_base_url", mode="before")
    @classmethod
    def _empty_url_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def database_url_from_env() -> str:
    """Return BORKER_DATABASE_URL or its default, for commands that need nothing else."""
    default = Settings.model_fields["database_url"].default
    return os.environ.get("BORKER_DATABASE_URL") or str(default)


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
        raise ConfigurationError(f"Invalid setting {name}: {_reason(first)}.") from None


def _reason(error: Any) -> str:
    kind = error["type"]
    context = error.get("ctx") or {}
    if kind == "string_too_short":
        return f"must be at least {context.get('min_length')} characters long"
    if kind == "string_pattern_mismatch":
        return f"{error.get('input')!r} is not a Slack channel id; copy the id (C…) from the channel's details"
    return str(error["msg"]).removeprefix("Value error, ")


def _env_name(field: str) -> str:
    info = Settings.model_fields.get(field)
    alias = info.validation_alias if info else None
    if isinstance(alias, AliasChoices):
        return str(alias.choices[0])
    return field.upper()

"""Builds the planner's configuration from the workspace configuration and its defaults."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from zoneinfo import ZoneInfo

from borker.models import Platform
from borker.planner import (
    PlannerConfig,
    PlatformRules,
    WeightTable,
    default_platform_rules,
    default_weights,
)
from borker.workspace import WEEKDAYS, Weekday, WorkspaceConfig


def workspace_zone(workspace: WorkspaceConfig, default_zone: ZoneInfo) -> ZoneInfo:
    return ZoneInfo(workspace.timezone) if workspace.timezone else default_zone


def planner_config(workspace: WorkspaceConfig, *, default_zone: ZoneInfo) -> PlannerConfig:
    scheduling = workspace.scheduling
    rules = dict(default_platform_rules())
    weights = dict(default_weights())
    for name, override in scheduling.platforms.items():
        platform = Platform(name)
        base = rules[platform]
        rules[platform] = PlatformRules(
            min_gap=timedelta(minutes=override.min_gap_minutes) if override.min_gap_minutes is not None else base.min_gap,
            daily_cap=override.daily_cap if override.daily_cap is not None else base.daily_cap,
            audience_zone=ZoneInfo(override.audience_timezone) if override.audience_timezone else base.audience_zone,
        )
        if override.weights is not None:
            weights[platform] = _custom_table(override.weights)
    return PlannerConfig(
        zone=workspace_zone(workspace, default_zone),
        weekdays=frozenset(WEEKDAYS.index(day) for day in scheduling.days),
        windows=scheduling.parsed_windows(),
        platforms=rules,
        weights=weights,
        global_gap=timedelta(minutes=scheduling.global_gap_minutes),
        lead=timedelta(minutes=scheduling.lead_minutes),
        grid_minutes=scheduling.grid_minutes,
        horizon_days=scheduling.horizon_days,
    )


def _custom_table(rows: Mapping[Weekday, list[float]]) -> WeightTable:
    # Weekdays left out of a custom table are never used for automatic scheduling.
    table = tuple(tuple(rows.get(day, [0.0] * 24)) for day in WEEKDAYS)
    return WeightTable(weights=table, source="workspace configuration", zone=None)

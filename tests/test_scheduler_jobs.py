"""APScheduler wiring: jobs, their triggers and the workspace time zone (the scheduler is not started)."""

from __future__ import annotations

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.loopback import LoopbackStack
from bot.scheduler import build_scheduler


def test_jobs_use_workspace_zone(stack: LoopbackStack) -> None:
    stack.configure_workspace({"timezone": "Europe/Berlin", "daily_run_time": "07:30"})
    scheduler = build_scheduler(stack.runtime)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"weekly", "daily", "process_approved", "reconcile", "repair_messages"}

    daily = jobs["daily"].trigger
    assert isinstance(daily, CronTrigger)
    assert str(daily.timezone) == "Europe/Berlin"
    fields = {field.name: str(field) for field in daily.fields}
    assert fields["hour"] == "7"
    assert fields["minute"] == "30"

    weekly = {field.name: str(field) for field in jobs["weekly"].trigger.fields}
    assert weekly["day_of_week"] == "sun"

    process = jobs["process_approved"].trigger
    assert isinstance(process, IntervalTrigger)
    assert process.interval.total_seconds() == stack.settings.process_interval_minutes * 60
    assert jobs["process_approved"].max_instances == 1

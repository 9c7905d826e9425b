"""Recurring jobs: the weekly plan, the daily generation run, Process Approved and reconciliation."""

from __future__ import annotations

import logging
from datetime import time, timedelta

from apscheduler.schedulers.background import BackgroundScheduler

from borker.errors import BorkerError
from borker.scheduling_config import workspace_zone
from bot.blocks.reports import daily_summary, process_summary
from bot.runtime import Runtime

log = logging.getLogger(__name__)

DAILY = "daily"
WEEKLY = "weekly"


def build_scheduler(runtime: Runtime) -> BackgroundScheduler:
    settings = runtime.settings
    workspace = runtime.workflows.content.workspace()
    zone = workspace_zone(workspace, settings.zone)
    # NOTE: the daily run time and time zone are read at start-up; restart
    # Borker after importing a workspace file that changes them.
    run_at = time.fromisoformat(workspace.daily_run_time)
    scheduler = BackgroundScheduler(timezone=zone)
    # One instance at a time, and missed runs collapse into one. Each job reads
    # what is due from the database, so running late never loses work.
    job_options = {"max_instances": 1, "coalesce": True, "misfire_grace_time": 3600}
    scheduler.add_job(
        weekly_job, "cron", day_of_week="sun", hour=12, args=[runtime], id=WEEKLY, **job_options,
    )
    scheduler.add_job(
        daily_job, "cron", hour=run_at.hour, minute=run_at.minute, args=[runtime], id=DAILY, **job_options,
    )
    scheduler.add_job(
        process_job, "interval", minutes=settings.process_interval_minutes, args=[runtime],
        id="process_approved", **job_options,
    )
    scheduler.add_job(
        reconcile_job, "interval", minutes=settings.reconcile_interval_minutes, args=[runtime],
        id="reconcile", **job_options,
    )
    scheduler.add_job(
        runtime.notifier.repair_messages, "interval", minutes=2, id="repair_messages", **job_options,
    )
    return scheduler


def weekly_job(runtime: Runtime) -> None:
    """Materialise next week's calendar slots from the plan."""
    content = runtime.workflows.content
    next_week = content.today() + timedelta(days=7)
    if content.claim_run(WEEKLY, next_week):
        content.plan_week(day=next_week)


def daily_job(runtime: Runtime) -> None:
    """Generate today's drafts, once per day even with several replicas."""
    content = runtime.workflows.content
    today = content.today()
    if not content.claim_run(DAILY, today):
        log.info("the daily run for %s already ran", today)
        return
    report = runtime.workflows.run_daily(actor="borker")
    runtime.notifier.announce_markup(daily_summary(report))


def process_job(runtime: Runtime) -> None:
    report = runtime.workflows.process_approved()
    if report.scheduled or report.failed or report.error or report.deferred:
        runtime.notifier.announce_markup(process_summary(report, runtime.zone()))


def reconcile_job(runtime: Runtime) -> None:
    try:
        report = runtime.workflows.reconcile()
    except BorkerError as exc:
        log.warning("reconciliation with Postiz failed: %s", exc)
        return
    if report.published or report.failed:
        log.info("reconciliation: %d published, %d failed", len(report.published), len(report.failed))

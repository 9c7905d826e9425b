"""Recurring jobs: Process Approved and reconciliation with Postiz."""

from __future__ import annotations

import logging

from apscheduler.schedulers.background import BackgroundScheduler

from borker.errors import BorkerError
from bot.blocks.reports import process_summary
from bot.runtime import Runtime

log = logging.getLogger(__name__)


def build_scheduler(runtime: Runtime) -> BackgroundScheduler:
    settings = runtime.settings
    scheduler = BackgroundScheduler(timezone=settings.zone)
    # One instance at a time, and missed runs collapse into one: each job asks
    # the database what is due, so running late never loses work.
    job_options = {"max_instances": 1, "coalesce": True, "misfire_grace_time": 300}
    scheduler.add_job(
        process_job, "interval", minutes=settings.process_interval_minutes, args=[runtime],
        id="process_approved", **job_options,
    )
    scheduler.add_job(
        reconcile_job, "interval", minutes=settings.reconcile_interval_minutes, args=[runtime],
        id="reconcile", **job_options,
    )
    return scheduler


def process_job(runtime: Runtime) -> None:
    report = runtime.workflows.process_approved()
    if report.scheduled or report.failed or report.error or report.deferred:
        runtime.notifier.announce_markup(process_summary(report, runtime.settings.zone))


def reconcile_job(runtime: Runtime) -> None:
    try:
        report = runtime.workflows.reconcile()
    except BorkerError as exc:
        log.warning("reconciliation with Postiz failed: %s", exc)
        return
    if report.published or report.failed:
        log.info("reconciliation: %d published, %d failed", len(report.published), len(report.failed))

"""The ``/borker`` slash command."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, App, Respond

from borker.models import Platform
from bot.blocks.reports import (
    HELP_TEXT,
    calendar_summary,
    daily_summary,
    process_summary,
    queue_summary,
    settings_summary,
    status_summary,
)
from bot.blocks.text import escape
from bot.runtime import Runtime

MAX_TOPIC_LENGTH = 300
PLATFORM_NAMES = {"x": Platform.X, "twitter": Platform.X, "linkedin": Platform.LINKEDIN, "farcaster": Platform.FARCASTER}


@dataclass(frozen=True)
class GenerateRequest:
    platform: Platform
    topic: str


def parse_generate(arguments: list[str]) -> GenerateRequest | str:
    """Parse ``generate <platform> <topic>``; return an error message for bad input."""
    platform = PLATFORM_NAMES.get(arguments[0].lower())
    if platform is None:
        return (
            f"Unknown platform `{escape(arguments[0])}`: use x, linkedin or farcaster, "
            "e.g. `/borker generate linkedin our hiring plans`."
        )
    topic = " ".join(arguments[1:]).strip()
    if not topic:
        return f"Missing topic: add it after the platform, e.g. `/borker generate {platform.value} our new API`."
    if len(topic) > MAX_TOPIC_LENGTH:
        return f"The topic is {len(topic)} characters long: keep it under {MAX_TOPIC_LENGTH}, one sentence is enough."
    return GenerateRequest(platform=platform, topic=topic)


def register(app: App, runtime: Runtime) -> None:
    workflows = runtime.workflows

    def reply_with(respond: Respond):  # type: ignore[no-untyped-def]
        return lambda text: respond(text=text, response_type="ephemeral")

    @app.command("/borker")
    def borker_command(ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        words = (command.get("text") or "").split()
        subcommand = words[0].lower() if words else "help"
        user = command["user_id"]

        if subcommand == "generate" and len(words) == 1:
            ack(text="Generating drafts for today's calendar slots…")
            runtime.submit(lambda: daily_summary(workflows.run_daily(actor=user)), reply_with(respond))
        elif subcommand == "generate":
            request = parse_generate(words[1:])
            if isinstance(request, str):
                ack(text=request)
                return
            article = "an" if request.platform == Platform.X else "a"  # "an X post", read "an ex post"
            ack(text=f"Drafting {article} {request.platform.label} post about “{escape(request.topic)}”…")
            runtime.submit(
                lambda: generated_reply(runtime, workflows.generate(platform=request.platform, topic=request.topic, actor=user)),
                reply_with(respond),
            )
        elif subcommand == "process":
            options = [word.lower() for word in words[1:]]
            unknown = [option for option in options if option != "--dry-run"]
            if unknown:
                ack(text=f"Unknown option `{escape(unknown[0])}`: use `/borker process` or `/borker process --dry-run`.")
                return
            dry_run = "--dry-run" in options
            ack(text="Planning approved items (dry run)…" if dry_run else "Processing approved items…")
            runtime.submit(
                lambda: process_summary(workflows.process_approved(actor=user, dry_run=dry_run), runtime.zone()),
                reply_with(respond),
            )
        elif subcommand == "status":
            ack(text=status_summary(workflows.counts_by_status(), [check.line for check in workflows.preflight()]))
        elif subcommand == "queue":
            items, total = workflows.queue()
            ack(text=queue_summary(items, total, runtime.zone()))
        elif subcommand == "calendar":
            ack(text="Laying out the calendar…")
            runtime.submit(lambda: calendar_summary(workflows.calendar()), reply_with(respond))
        elif subcommand == "settings":
            ack(text=settings_summary(workflows.content.workspace(), runtime.zone()))
        elif subcommand == "help":
            ack(text=HELP_TEXT)
        else:
            ack(text=f"Unknown subcommand `{escape(subcommand)}`.\n{HELP_TEXT}")


def generated_reply(runtime: Runtime, item_id: int) -> str:
    failure = runtime.notifier.failures.get(item_id)
    if failure:
        return f":warning: Draft #{item_id} is saved but could not be posted for review. {failure}"
    return f"Draft #{item_id} is ready for review in <#{runtime.settings.review_channel}>."

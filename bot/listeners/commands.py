"""The ``/borker`` slash command."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, App, Respond

from borker.models import Platform
from borker.preflight import configuration_checks
from bot.blocks.reports import HELP_TEXT, process_summary, queue_summary, status_summary
from bot.blocks.text import escape
from bot.runtime import Runtime

PLATFORM_NAMES = {"x": Platform.X, "twitter": Platform.X, "linkedin": Platform.LINKEDIN, "farcaster": Platform.FARCASTER}


@dataclass(frozen=True)
class GenerateRequest:
    platform: Platform
    topic: str


def parse_generate(arguments: list[str]) -> GenerateRequest | str:
    """Parse ``generate <platform> <topic>``; return an error message for bad input."""
    if not arguments:
        return "Usage: `/borker generate <x|linkedin|farcaster> <topic>`, e.g. `/borker generate x our new API`."
    platform = PLATFORM_NAMES.get(arguments[0].lower())
    if platform is None:
        return (
            f"Unknown platform `{escape(arguments[0])}`: use x, linkedin or farcaster, "
            "e.g. `/borker generate linkedin our hiring plans`."
        )
    topic = " ".join(arguments[1:]).strip()
    if not topic:
        return f"Missing topic: add it after the platform, e.g. `/borker generate {platform.value} our new API`."
    return GenerateRequest(platform=platform, topic=topic)


def register(app: App, runtime: Runtime) -> None:
    workflows = runtime.workflows
    zone = runtime.settings.zone

    def reply_with(respond: Respond):  # type: ignore[no-untyped-def]
        return lambda text: respond(text=text, response_type="ephemeral")

    @app.command("/borker")
    def borker_command(ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        words = (command.get("text") or "").split()
        subcommand = words[0].lower() if words else "help"
        user = command["user_id"]

        if subcommand == "generate":
            request = parse_generate(words[1:])
            if isinstance(request, str):
                ack(text=request)
                return
            ack(text=f"Drafting a {request.platform.label} post about “{escape(request.topic)}”…")
            runtime.submit(
                lambda: _generated(workflows.generate(platform=request.platform, topic=request.topic, actor=user)),
                reply_with(respond),
            )
        elif subcommand == "process":
            ack(text="Processing approved items…")
            runtime.submit(lambda: process_summary(workflows.process_approved(actor=user), zone), reply_with(respond))
        elif subcommand == "status":
            ack(text=status_summary(workflows.counts_by_status(), configuration_checks(runtime.settings)))
        elif subcommand == "queue":
            ack(text=queue_summary(workflows.queue(), zone))
        elif subcommand == "help":
            ack(text=HELP_TEXT)
        else:
            ack(text=f"Unknown subcommand `{escape(subcommand)}`.\n{HELP_TEXT}")


def _generated(item_id: int) -> str:
    return f"Draft #{item_id} is ready for review in the review channel."

"""Events API listeners: the App Home tab."""

from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.blocks.home import home_view
from bot.runtime import Runtime


def register(app: App, runtime: Runtime) -> None:
    @app.event("app_home_opened")
    def home_opened(event: dict[str, Any], client: WebClient) -> None:
        # Match every tab and branch here: an unmatched event gets a 404 and Slack retries it.
        if event.get("tab") != "home":
            return
        queue, total = runtime.workflows.queue(limit=15)
        view = home_view(
            counts=runtime.workflows.counts_by_status(),
            queue=queue,
            total=total,
            checks=[check.line for check in runtime.workflows.preflight()],
            zone=runtime.zone(),
        )
        client.views_publish(user_id=event["user"], view=view)

"""Builds the Bolt app: listeners plus one global error handler."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App, BoltResponse

from bot.listeners import register_listeners
from bot.runtime import Runtime, describe_error

log = logging.getLogger(__name__)

LISTENER_THREADS = 16


def build_app(runtime: Runtime) -> App:
    app = App(
        client=runtime.client,
        signing_secret=runtime.settings.slack_signing_secret.get_secret_value(),
        # The bot token is checked lazily, on the first request, so start-up
        # does not depend on Slack being reachable.
        token_verification_enabled=False,
        listener_executor=ThreadPoolExecutor(max_workers=LISTENER_THREADS, thread_name_prefix="bolt-listener"),
    )
    register_listeners(app, runtime)

    @app.error
    def on_error(error: Exception, body: dict[str, Any], respond: Any) -> BoltResponse | None:
        # Listeners report their own errors after ack(); this catches the rest.
        text = describe_error(error)
        if body.get("response_url") or body.get("type") == "block_actions":
            respond(text=text, response_type="ephemeral", replace_original=False)
        else:
            log.warning("could not show an error to the user: %s", text)
        return None

    return app

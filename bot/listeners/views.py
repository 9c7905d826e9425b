"""Modal submissions."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.blocks.edit import submitted_text
from bot.ids import BlockId, CallbackId, ItemRef
from bot.runtime import Runtime


def register(app: App, runtime: Runtime) -> None:
    workflows = runtime.workflows

    @app.view(CallbackId.EDIT_DRAFT)
    def edit_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        ref = ItemRef.parse(view.get("private_metadata"))
        text = submitted_text(view)
        problem = workflows.edit_problem(item_id=ref.id, version=ref.v, text=text)
        if problem:
            ack(response_action="errors", errors={BlockId.EDIT_TEXT: problem})
            return
        ack()
        user = body["user"]["id"]

        def save() -> None:
            workflows.edit(item_id=ref.id, version=ref.v, text=text, actor=user)

        # A modal has no response_url, so errors after ack() go to the user as an ephemeral message.
        runtime.run_reporting(
            save,
            lambda message: client.chat_postEphemeral(channel=runtime.settings.review_channel, user=user, text=message),
        )

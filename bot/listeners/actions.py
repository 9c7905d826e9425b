"""Buttons on review messages: Approve, Reject, Edit, Cancel, and the link buttons."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.blocks.edit import edit_modal
from bot.ids import ActionId, ItemRef
from bot.runtime import Runtime


def ephemeral(respond: Respond) -> Callable[[str], Any]:
    return lambda text: respond(text=text, response_type="ephemeral", replace_original=False)


def register(app: App, runtime: Runtime) -> None:
    workflows = runtime.workflows

    # Each successful action shows in the item's own message, so only errors
    # get an ephemeral reply.

    @app.action(ActionId.APPROVE)
    def approve(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()

        def approve_item() -> None:
            ref = ItemRef.parse(action.get("value"))
            workflows.approve(item_id=ref.id, version=ref.v, actor=body["user"]["id"])

        runtime.run_reporting(approve_item, ephemeral(respond))

    @app.action(ActionId.REJECT)
    def reject(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()

        def reject_item() -> None:
            ref = ItemRef.parse(action.get("value"))
            workflows.reject(item_id=ref.id, version=ref.v, actor=body["user"]["id"])

        runtime.run_reporting(reject_item, ephemeral(respond))

    @app.action(ActionId.CANCEL)
    def cancel(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()

        def cancel_item() -> None:
            ref = ItemRef.parse(action.get("value"))
            workflows.cancel(item_id=ref.id, version=ref.v, actor=body["user"]["id"])

        # Cancel calls Postiz, so it runs on the worker pool.
        runtime.submit(cancel_item, ephemeral(respond))

    @app.action(ActionId.REGENERATE)
    def regenerate(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()

        def regenerate_item() -> None:
            ref = ItemRef.parse(action.get("value"))
            workflows.regenerate(item_id=ref.id, version=ref.v, actor=body["user"]["id"])

        # The LLM is slow, so this runs on the worker pool.
        runtime.submit(regenerate_item, ephemeral(respond))

    @app.action(ActionId.EDIT)
    def edit(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()

        def open_editor() -> None:
            ref = ItemRef.parse(action.get("value"))
            item, _ = runtime.notifier.render(ref.id)
            client.views_open(trigger_id=body["trigger_id"], view=edit_modal(item))

        runtime.run_reporting(open_editor, ephemeral(respond))

    @app.action(ActionId.VIEW_IN_POSTIZ)
    @app.action(ActionId.VIEW_LIVE)
    def link_opened(ack: Ack) -> None:
        # Link buttons still send an action; it needs an acknowledgement and nothing else.
        ack()

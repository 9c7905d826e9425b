"""Buttons on review messages: Approve, Reject, Cancel, Regenerate, Edit, and the link buttons."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.blocks.edit import edit_modal
from bot.ids import ActionId, ItemRef
from bot.runtime import Runtime

# An item operation of ``Workflows`` taking ``item_id``, ``version`` and ``actor``.
ItemOperation = Callable[..., object]


def ephemeral(respond: Respond) -> Callable[[str], Any]:
    return lambda text: respond(text=text, response_type="ephemeral", replace_original=False)


def _item_listener(runtime: Runtime, operation: ItemOperation, *, slow: bool) -> Callable[..., None]:
    """Build a listener that acknowledges a click, then runs ``operation`` on the item the button carries.

    A successful operation shows in the item's own message, so only errors get
    an ephemeral reply.
    """

    def listener(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()

        def run() -> None:
            ref = ItemRef.parse(action.get("value"))
            operation(item_id=ref.id, version=ref.v, actor=body["user"]["id"])

        if slow:
            runtime.submit(run, ephemeral(respond))
        else:
            runtime.run_reporting(run, ephemeral(respond))

    return listener


def register(app: App, runtime: Runtime) -> None:
    workflows = runtime.workflows
    # Each button's operation, and whether it is slow (it calls Postiz or the
    # LLM) and so runs on the worker pool instead of a listener thread.
    item_buttons: dict[ActionId, tuple[ItemOperation, bool]] = {
        ActionId.APPROVE: (workflows.approve, False),
        ActionId.REJECT: (workflows.reject, False),
        ActionId.CANCEL: (workflows.cancel, True),
        ActionId.REGENERATE: (workflows.regenerate, True),
    }
    for action_id, (operation, slow) in item_buttons.items():
        app.action(action_id)(_item_listener(runtime, operation, slow=slow))

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

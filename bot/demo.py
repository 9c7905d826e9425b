"""``borker demo``: the whole approval loop on this machine, with no accounts.

It starts local stand-ins for Slack, Postiz and an OpenAI-compatible server,
runs the real Borker server against them and plays a reviewer.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from typing import Any

from borker.models import ContentStatus
from bot.ids import ActionId
from bot.loopback import LoopbackStack

S = ContentStatus


class DemoFailed(Exception):
    pass


def _say(step: str, detail: str = "") -> None:
    print(f"\n▶ {step}")
    if detail:
        for line in detail.splitlines():
            print(f"    {line}")


def _plain(mrkdwn: str) -> str:
    """Undo Slack escaping for printing."""
    text = re.sub(r"<(https?://[^|>]+)\|([^>]+)>", r"\2 (\1)", mrkdwn)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _describe_message(blocks: list[dict[str, Any]], *, with_text: bool = True) -> str:
    """Print a message as a reviewer reads it; without the post text, only its header and status."""
    lines: list[str] = []
    for index, block in enumerate(blocks):
        if block["type"] == "section":
            text = block["text"]
            if text["type"] == "plain_text":
                if with_text:
                    lines.append(text["text"])
            elif index == 0 or with_text or text["text"].startswith((":warning:", ":x:")):
                lines.append(_plain(text["text"]))
        elif block["type"] == "context":
            lines.append(_plain(" ".join(element["text"] for element in block["elements"])))
        elif block["type"] == "actions":
            labels = []
            for element in block["elements"]:
                label = f"[{element['text']['text']}]"
                labels.append(f"{label} → {element['url']}" if "url" in element else label)
            lines.append("buttons: " + "  ".join(labels))
    return "\n".join(lines)


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise DemoFailed(message)


def _command_reply(stack: LoopbackStack, text: str) -> str:
    """Run a slash command whose reply comes later, and return that reply as plain text."""
    before = len(stack.responses())
    stack.user.command(text).raise_for_status()
    reply = stack.wait_until(
        lambda: len(stack.responses()) > before and stack.responses()[-1], what=f"the reply to /borker {text}"
    )
    return _plain(str(reply.get("text", "")))


def run_demo(*, verbose: bool = False) -> int:
    logging.basicConfig(level=logging.INFO if verbose else logging.ERROR, format="    [log] %(name)s: %(message)s")
    use_real_openai = bool(os.environ.get("OPENAI_API_KEY"))
    try:
        with LoopbackStack(use_real_openai=use_real_openai) as stack:
            _run(stack, use_real_openai)
    except (DemoFailed, TimeoutError) as exc:
        print(f"\n✖ Demo failed: {exc}", file=sys.stderr)
        return 1
    print("\n✔ Demo finished: draft → approve → scheduled → published, reject and cancel all worked.")
    return 0


def _run(stack: LoopbackStack, use_real_openai: bool) -> None:
    llm = "the OpenAI endpoint from OPENAI_API_KEY" if use_real_openai else f"the sample LLM at {stack.settings.openai_base_url}"
    _say(
        "Started Borker and the local stand-ins",
        f"Borker server:  {stack.server.url}\n"
        f"Slack Web API:  {stack.slack.api_url}\n"
        f"Postiz API:     {stack.postiz.base_url}\n"
        f"LLM:            {llm}\n"
        f"Database:       {stack.database_url}",
    )

    drafts = []
    for platform, topic in (
        ("x", "why we rewrote our scheduler"),
        ("linkedin", "what we learned shipping weekly for a year"),
        ("farcaster", "our open-source roadmap"),
    ):
        item = stack.generate(platform, topic)
        drafts.append(item)
        _say(f"/borker generate {platform} {topic}", _describe_message(stack.message_of(item.id).blocks))

    x_item, linkedin_item, farcaster_item = drafts
    for item in (x_item, linkedin_item):
        stack.click(item.id, ActionId.APPROVE).raise_for_status()
        approved = stack.wait_for_status(item.id, S.APPROVED)
        _say(f"Approve #{approved.id}", _describe_message(stack.message_of(item.id).blocks, with_text=False))
    stack.click(farcaster_item.id, ActionId.REJECT).raise_for_status()
    stack.wait_for_status(farcaster_item.id, S.REJECTED)
    _say(f"Reject #{farcaster_item.id}", _describe_message(stack.message_of(farcaster_item.id).blocks, with_text=False))

    _say("/borker process --dry-run", _command_reply(stack, "process --dry-run"))
    _expect(stack.postiz.create_count == 0, "a dry run sent a post to Postiz")

    _say("/borker process", _command_reply(stack, "process"))
    for item in (x_item, linkedin_item):
        scheduled = stack.wait_for_status(item.id, S.SCHEDULED)
        _say(
            f"Message of #{scheduled.id} after scheduling",
            _describe_message(stack.message_of(item.id).blocks, with_text=False),
        )
    _expect(stack.postiz.create_count == 2, f"expected 2 Postiz posts, found {stack.postiz.create_count}")

    again = _command_reply(stack, "process")
    _expect(stack.postiz.create_count == 2, "a second Process Approved run created another Postiz post")
    _say("/borker process again", f"{again}\nPostiz still has {stack.postiz.create_count} posts: one per approved item.")

    x_now = stack.item(x_item.id)
    stack.postiz.publish(x_now.postiz_id)
    published = stack.wait_for_status(x_item.id, S.PUBLISHED)
    _say(
        f"Postiz publishes #{published.id} and calls the webhook (the stand-in publishes now, not at the planned time)",
        _describe_message(stack.message_of(x_item.id).blocks, with_text=False),
    )

    stack.click(linkedin_item.id, ActionId.CANCEL).raise_for_status()
    cancelled = stack.wait_for_item(
        linkedin_item.id, lambda item: item.status == S.APPROVED and item.postiz_id is None, what="the cancel"
    )
    _expect(not stack.postiz.posts.get(str(stack.item(linkedin_item.id).postiz_id)), "the cancelled post is still in Postiz")
    _say(
        f"Cancel #{cancelled.id}: its Postiz post is deleted",
        _describe_message(stack.message_of(linkedin_item.id).blocks, with_text=False),
    )

    _say("Audit trail of #%d" % x_item.id, "\n".join(
        f"{entry.at:%H:%M:%S} {entry.actor}: {entry.from_status or '—'} → {entry.to_status} ({entry.reason})"
        for entry in stack.item(x_item.id).audit
    ))

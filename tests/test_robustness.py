"""Failure paths end to end: late cancels, Postiz and Slack errors, hostile input and racing clicks.

Each test drives the real Borker server through the loopback Slack, Postiz and
OpenAI stand-ins, on SQLite and, when configured, on PostgreSQL.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import httpx
import pytest

from borker.models import ContentItem, ContentStatus, utcnow
from borker.processing import MAX_UNCONFIRMED_SENDS
from borker.standins.openai_api import Fault
from bot.blocks.text import SECTION_TEXT_MAX
from bot.ids import ActionId
from bot.loopback import POSTIZ_KEY, REVIEW_CHANNEL, LoopbackStack

S = ContentStatus

# A 402 body with the ``message`` field that Borker's Postiz client reports for a plan limit.
PLAN_LIMIT_BODY = {"statusCode": 402, "message": "You have reached the maximum number of posts for your plan"}


def action_ids(blocks: list[dict[str, Any]]) -> list[str]:
    return [
        element.get("action_id")
        for block in blocks if block["type"] == "actions"
        for element in block["elements"]
    ]


def button_urls(blocks: list[dict[str, Any]]) -> list[str]:
    return [
        element["url"]
        for block in blocks if block["type"] == "actions"
        for element in block["elements"] if "url" in element
    ]


def block_texts(block: dict[str, Any]) -> Iterator[str]:
    """Yield every text string of a section, context or actions block."""
    if "text" in block:
        yield block["text"]["text"]
    for field in block.get("fields", []):
        yield field["text"]
    for element in block.get("elements", []):
        text = element.get("text")
        yield text["text"] if isinstance(text, dict) else text


def all_text(blocks: list[dict[str, Any]]) -> str:
    return json.dumps(blocks)


def ack_text(response: httpx.Response) -> str:
    """Return the text of a slash-command acknowledgement, which Bolt sends as plain text or JSON."""
    assert response.status_code == 200
    if response.headers.get("content-type", "").startswith("application/json"):
        return response.json()["text"]
    return response.text


def wait_for_synced_message(stack: LoopbackStack, item_id: int) -> ContentItem:
    """Wait until the item's Slack message shows its current version."""
    return stack.wait_until(
        lambda: (item := stack.item(item_id)).slack_synced_version == item.version and item,
        what=f"the message of item {item_id} to show its current version",
    )


def approve(stack: LoopbackStack, platform: str, topic: str) -> ContentItem:
    """Draft, approve and wait until the message shows the approval, so no Slack call is still under way."""
    item = stack.generate(platform, topic)
    stack.click(item.id, ActionId.APPROVE)
    stack.wait_for_status(item.id, S.APPROVED)
    return wait_for_synced_message(stack, item.id)


def schedule(stack: LoopbackStack, platform: str, topic: str) -> ContentItem:
    """Draft, approve and schedule one item through ``/borker process``."""
    item = approve(stack, platform, topic)
    seen = len(stack.responses())
    stack.user.command("process")
    summary = stack.reply_since(seen)
    assert "scheduled 1" in summary
    return wait_for_synced_message(stack, item.id)


def test_cancel_after_publish_keeps_post(stack: LoopbackStack) -> None:
    scheduled = schedule(stack, "x", "cancel too late")
    assert scheduled.postiz_id is not None
    # Without the webhook, Borker still has the item as scheduled when Cancel arrives.
    stack.postiz.webhook_urls.clear()
    release_url = stack.postiz.publish(scheduled.postiz_id)["releaseURL"]
    assert stack.item(scheduled.id).status == S.SCHEDULED

    seen = len(stack.responses())
    stack.click(scheduled.id, ActionId.CANCEL)
    published = stack.wait_until(
        lambda: (current := stack.item(scheduled.id)).status != S.SCHEDULED and current, what="the Cancel click"
    )
    assert published.status == S.PUBLISHED
    reply = stack.reply_since(seen)
    assert "already published" in reply
    assert "cannot unpublish" in reply
    assert published.release_url == release_url
    assert published.postiz_id == scheduled.postiz_id
    assert published.claimed_until is None
    assert release_url in button_urls(stack.message_of(scheduled.id).blocks)
    assert scheduled.postiz_id in stack.postiz.posts
    assert stack.postiz.posts[scheduled.postiz_id]["state"] == "PUBLISHED"
    assert [request for request in stack.postiz.requests if request.method == "DELETE"] == []

    seen = len(stack.responses())
    stack.user.command("process")
    summary = stack.reply_since(seen)
    assert "nothing to schedule" in summary
    assert stack.postiz.create_count == 1
    assert list(stack.postiz.posts) == [scheduled.postiz_id]


def test_plan_limit_rejections_stay_retryable(stack: LoopbackStack) -> None:
    item = approve(stack, "linkedin", "plan limit")
    # One run more than the limit on unconfirmed creates, which a definite rejection must not count towards.
    for _ in range(MAX_UNCONFIRMED_SENDS + 1):
        stack.postiz.fail_next(402, PLAN_LIMIT_BODY, after=2)
        report = stack.runtime.workflows.process_approved()
        assert report.error is not None
        assert "Postiz plan limit reached" in report.error
        assert stack.postiz.requests[-1].method == "POST"
        current = stack.item(item.id)
        assert current.status == S.APPROVED
        assert current.unconfirmed_sends == 0
        assert current.send_started_at is None
        assert current.claimed_until is None

    report = stack.runtime.workflows.process_approved()
    assert [item_id for item_id, _ in report.scheduled] == [item.id]
    assert report.failed == []
    scheduled = stack.item(item.id)
    assert scheduled.status == S.SCHEDULED
    assert scheduled.failure_reason is None
    assert not any("did not confirm" in entry.reason for entry in scheduled.audit)
    assert stack.postiz.create_count == 1


def test_review_post_outside_channel_is_repaired(stack: LoopbackStack) -> None:
    stack.slack.fail_next("chat.postMessage", "not_in_channel")
    stack.user.command("generate x invite the bot")
    reply = stack.reply_since(0)
    [item_id] = stack.item_ids()
    stored = stack.item(item_id)
    assert stored.status == S.PENDING_REVIEW
    assert stored.slack_ts is None
    assert f"<#{REVIEW_CHANNEL}>" in reply
    assert "invite it with `/invite @Borker`" in reply

    assert stack.runtime.notifier.repair_messages() == 1
    repaired = stack.item(item_id)
    assert repaired.slack_ts
    assert repaired.slack_synced_version == repaired.version
    assert ActionId.APPROVE in action_ids(stack.message_of(item_id).blocks)
    assert stack.runtime.notifier.repair_messages() == 0


def test_failed_update_is_repaired(stack: LoopbackStack) -> None:
    items = [approve(stack, "x", f"update failure {n}") for n in range(3)]
    stack.slack.fail_next("chat.update", "invalid_blocks")

    seen = len(stack.responses())
    stack.user.command("process")
    summary = stack.reply_since(seen)
    assert "scheduled 3" in summary
    current = [stack.item(item.id) for item in items]
    for item in current:
        assert item.status == S.SCHEDULED
    stale = [item.id for item in current if item.slack_synced_version != item.version]
    assert len(stale) == 1
    assert ActionId.CANCEL not in action_ids(stack.message_of(stale[0]).blocks)

    assert stack.runtime.notifier.repair_messages() == 1
    for item in items:
        assert ActionId.CANCEL in action_ids(stack.message_of(item.id).blocks)
        repaired = stack.item(item.id)
        assert repaired.slack_synced_version == repaired.version


def malformed_slack_request(case: str) -> tuple[bytes, dict[str, str]]:
    """Return the body and headers of a request to ``/slack/events`` without a valid signature.

    The timestamp of the "not-utf8" case is current, so the signature check reaches the body.
    """
    wrong_signature = "v0=" + "0" * 64
    requests = {
        "unsigned": (b"payload=%7Bbad", {}),
        "not-utf8": (
            b"payload=%7B\xff\xfe",
            {"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": wrong_signature},
        ),
        "text-timestamp": (
            b"payload=%7B%7D", {"X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": wrong_signature}
        ),
    }
    body, headers = requests[case]
    return body, {"Content-Type": "application/x-www-form-urlencoded", **headers}


@pytest.mark.parametrize("case", ["unsigned", "not-utf8", "text-timestamp"])
def test_malformed_slack_request_rejected(stack: LoopbackStack, case: str) -> None:
    body, headers = malformed_slack_request(case)
    response = httpx.post(stack.user.events_url, content=body, headers=headers)
    assert response.status_code == 401


def test_llm_error_reply_is_escaped(stack: LoopbackStack) -> None:
    assert stack.openai is not None
    generator = stack.runtime.workflows.content.generator
    assert generator is not None
    attempts = generator.max_retries + 1
    stack.openai.script(*[Fault(status=500, body={"error": {"message": "<!channel> boom"}})] * attempts)

    stack.user.command("generate x failing model")
    reply = stack.reply_since(0)
    assert "<!channel>" not in reply
    assert "&lt;!channel&gt; boom" in reply
    [item_id] = stack.item_ids()
    stack.wait_for_status(item_id, S.FAILED)
    assert "<!channel>" not in all_text(stack.message_of(item_id).blocks)


def test_long_topic_rejected(stack: LoopbackStack) -> None:
    assert stack.openai is not None
    at_limit = " ".join(["topic"] * 49 + ["topics"])
    assert len(at_limit) == 300
    topic = at_limit + " extra"
    reply = ack_text(stack.user.command(f"generate x {topic}"))
    assert f"The topic is {len(topic)} characters long" in reply
    assert "300" in reply
    assert stack.item_ids() == []
    assert stack.openai.requests == []

    accepted = stack.generate("x", at_limit)
    assert accepted.topic == at_limit


def test_long_failure_reason_fits_blocks(stack: LoopbackStack) -> None:
    item = approve(stack, "linkedin", "long failure reason")
    # Escaping turns each "&" into "&amp;", so the rendered reason grows past 5,000 characters.
    reason = ("field & value are invalid " * 200)[:5000]
    stack.postiz.fail_next(
        400, {"statusCode": 400, "provider": "linkedin-page", "name": "Acme on LinkedIn", "message": reason}, after=2
    )
    report = stack.runtime.workflows.process_approved()
    assert [item_id for item_id, _ in report.failed] == [item.id]

    failed = stack.wait_for_status(item.id, S.FAILED)
    assert failed.failure_reason is not None
    assert reason in failed.failure_reason
    blocks = stack.message_of(item.id).blocks
    assert ":x: *Failed*" in all_text(blocks)
    for block in blocks:
        for text in block_texts(block):
            assert len(text) <= SECTION_TEXT_MAX


def test_unsafe_release_url_gets_no_button(stack: LoopbackStack) -> None:
    scheduled = schedule(stack, "x", "unsafe release link")
    assert scheduled.postiz_id is not None
    stack.postiz.publish(scheduled.postiz_id, release_url="javascript:alert(1)")

    published = stack.wait_for_status(scheduled.id, S.PUBLISHED)
    assert published.release_url == "javascript:alert(1)"
    wait_for_synced_message(stack, scheduled.id)
    blocks = stack.message_of(scheduled.id).blocks
    assert ActionId.VIEW_LIVE not in action_ids(blocks)
    assert ActionId.VIEW_IN_POSTIZ in action_ids(blocks)
    for url in button_urls(blocks):
        assert url.startswith(("https://", "http://"))


def test_post_deleted_in_postiz_fails_item(stack: LoopbackStack) -> None:
    scheduled = schedule(stack, "linkedin", "deleted elsewhere")
    httpx.delete(
        f"{stack.postiz.base_url}/posts/{scheduled.postiz_id}", headers={"Authorization": POSTIZ_KEY}
    ).raise_for_status()
    assert scheduled.postiz_id not in stack.postiz.posts

    report = stack.runtime.workflows.reconcile()
    assert report.failed == [scheduled.id]
    failed = stack.item(scheduled.id)
    assert failed.status == S.FAILED
    assert failed.failure_reason is not None
    assert "deleted in Postiz" in failed.failure_reason
    assert "deleted in Postiz" in all_text(stack.message_of(scheduled.id).blocks)
    assert stack.runtime.workflows.reconcile().failed == []


def test_empty_create_response_is_retried(stack: LoopbackStack) -> None:
    item = approve(stack, "farcaster", "empty create response")
    stack.postiz.fail_next(201, [], after=2)
    first = stack.runtime.workflows.process_approved()
    assert first.error is None
    assert first.scheduled == []
    assert [item_id for item_id, _ in first.skipped] == [item.id]
    unconfirmed = stack.item(item.id)
    assert unconfirmed.status == S.APPROVED
    assert unconfirmed.claimed_until is None
    assert unconfirmed.unconfirmed_sends == 1

    seen = len(stack.responses())
    stack.user.command("process")
    summary = stack.reply_since(seen)
    assert "nothing to schedule" not in summary
    assert "scheduled 1" in summary
    scheduled = stack.wait_for_status(item.id, S.SCHEDULED)
    assert scheduled.unconfirmed_sends == 0
    assert list(stack.postiz.posts) == [scheduled.postiz_id]
    # The stand-in counts only creates that it stored, so the empty response is not counted.
    assert stack.postiz.create_count == 1


def test_webhook_rejects_bad_bodies(stack: LoopbackStack) -> None:
    assert httpx.post(stack.webhook_url, content=b'["\xff"]').status_code == 400
    assert httpx.post(stack.webhook_url, content=b"[" * 100_000 + b"]" * 100_000).status_code == 400
    too_many = [{"id": f"not-ours-{n}", "state": "PUBLISHED"} for n in range(1001)]
    assert httpx.post(stack.webhook_url, json=too_many).status_code == 413
    assert httpx.post(stack.webhook_url, json=too_many[:1000]).status_code == 200


def test_huge_retry_after_defers_item(stack: LoopbackStack) -> None:
    item = approve(stack, "x", "huge retry after")
    stack.postiz.fail_next(
        429, {"statusCode": 429, "message": "ThrottlerException: Too Many Requests"},
        headers={"Retry-After": "99999999999999"}, after=2,
    )
    seen = len(stack.responses())
    stack.user.command("process")
    summary = stack.reply_since(seen)
    assert "deferred 1 until" in summary
    assert summary.endswith("(Postiz rate limit).")
    deferred = stack.item(item.id)
    assert deferred.status == S.APPROVED
    assert deferred.send_started_at is None
    blocked_until = stack.runtime.workflows.processor.budget.blocked_until(utcnow())
    assert blocked_until is not None
    assert blocked_until <= utcnow() + timedelta(days=1)


def test_concurrent_approve_clicks_approve_once(stack: LoopbackStack) -> None:
    item = stack.generate("x", "five quick clicks")
    button_value = json.dumps({"id": item.id, "v": item.version})
    seen = len(stack.responses())
    updates = len(stack.slack.calls_to("chat.update"))
    with ThreadPoolExecutor(max_workers=5) as pool:
        clicks = [pool.submit(stack.click, item.id, ActionId.APPROVE, value=button_value) for _ in range(5)]
    for click in clicks:
        assert click.result().status_code == 200

    # Every click ends in one message update. An error reply would follow its
    # click's update, so the check waits a little longer for late replies.
    stack.wait_until(
        lambda: len(stack.slack.calls_to("chat.update")) - updates >= 5 or len(stack.responses()) > seen,
        what="all five clicks to be handled",
    )
    time.sleep(0.3)
    assert [reply["text"] for reply in stack.responses()[seen:]] == []
    approved = stack.wait_for_status(item.id, S.APPROVED)
    approvals = [entry for entry in approved.audit if entry.to_status == S.APPROVED]
    assert len(approvals) == 1


def test_oversized_item_id_gets_plain_reply(stack: LoopbackStack) -> None:
    item = stack.generate("x", "oversized id")
    seen = len(stack.responses())
    response = stack.click(item.id, ActionId.APPROVE, value=json.dumps({"id": 10**30, "v": 1}))
    assert response.status_code == 200
    reply = stack.reply_since(seen)
    assert "Something went wrong" not in reply
    assert "not one Borker can read" in reply
    assert stack.item(item.id).status == S.PENDING_REVIEW


def test_edit_after_approval_is_refused(stack: LoopbackStack) -> None:
    item = stack.generate("x", "late edit")
    stack.click(item.id, ActionId.EDIT)
    view = stack.slack.wait_for("views.open")[-1].body["view"]
    stack.click(item.id, ActionId.APPROVE)
    stack.wait_for_status(item.id, S.APPROVED)

    response = stack.user.submit_view(view, {"edit_text": {"text": {"type": "plain_text_input", "value": "new"}}})
    assert response.status_code == 200
    body = response.json()
    assert body["response_action"] == "errors"
    assert "can no longer be edited" in body["errors"]["edit_text"]
    unchanged = stack.item(item.id)
    assert unchanged.text == item.text
    assert unchanged.status == S.APPROVED

"""The approval loop end to end: signed Slack requests into the running server,
the Slack, Postiz and OpenAI stand-ins over loopback HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx

from borker.models import ContentStatus
from borker.standins.openai_api import Fault, draft_json
from bot.ids import ActionId
from bot.loopback import LoopbackStack

S = ContentStatus


def action_ids(blocks: list[dict]) -> list[str]:
    return [
        element.get("action_id")
        for block in blocks if block["type"] == "actions"
        for element in block["elements"]
    ]


def all_text(blocks: list[dict]) -> str:
    return json.dumps(blocks)


def ack_text(response: httpx.Response) -> str:
    """The text of a slash-command acknowledgement (Bolt sends plain text or JSON)."""
    assert response.status_code == 200
    if response.headers.get("content-type", "").startswith("application/json"):
        return response.json()["text"]
    return response.text


def test_draft_approve_schedule_publish(stack: LoopbackStack) -> None:
    item = stack.generate("x", "why we rewrote our scheduler")
    assert item.status == S.PENDING_REVIEW
    message = stack.message_of(item.id)
    assert action_ids(message.blocks) == [ActionId.APPROVE, ActionId.EDIT, ActionId.REGENERATE, ActionId.REJECT]
    assert message.text  # fallback text for notifications

    response = stack.click(item.id, ActionId.APPROVE)
    assert response.status_code == 200
    approved = stack.wait_for_status(item.id, S.APPROVED)
    message = stack.message_of(item.id)
    assert action_ids(message.blocks) == []
    assert "Approved by <@U0REVIEWER>" in all_text(message.blocks)

    seen = len(stack.responses())
    stack.user.command("process")
    scheduled = stack.wait_for_status(item.id, S.SCHEDULED)
    assert scheduled.postiz_id
    assert scheduled.scheduled_at is not None
    badge = f"{stack.postiz.url}/p/{scheduled.postiz_id}?share=true"
    blocks = stack.message_of(item.id).blocks
    assert badge in all_text(blocks)
    preview = httpx.get(badge)
    assert preview.status_code == 200
    assert "QUEUE" in preview.text
    assert ActionId.CANCEL in action_ids(blocks)
    summary = stack.reply_since(seen)
    assert "scheduled 1" in summary

    created = stack.postiz.posts[scheduled.postiz_id]
    assert created["state"] == "QUEUE"
    assert created["publishDate"] == scheduled.scheduled_at.strftime("%Y-%m-%dT%H:%M:%S.000Z")

    stack.postiz.publish(scheduled.postiz_id)
    published = stack.wait_for_status(item.id, S.PUBLISHED)
    assert published.release_url and published.release_url.startswith("https://twitter.com/")
    blocks = stack.message_of(item.id).blocks
    assert published.release_url in all_text(blocks)
    assert "Published" in all_text(blocks)
    assert [entry.to_status for entry in published.audit] == [
        S.DRAFT, S.PENDING_REVIEW, S.APPROVED, S.SCHEDULED, S.PUBLISHED,
    ]
    assert published.audit[2].actor == "U0REVIEWER"


def test_reject_removes_buttons(stack: LoopbackStack) -> None:
    item = stack.generate("linkedin", "hiring plans")
    stack.click(item.id, ActionId.REJECT)
    rejected = stack.wait_for_status(item.id, S.REJECTED)
    assert rejected.audit[-1].actor == "U0REVIEWER"
    blocks = stack.message_of(item.id).blocks
    assert action_ids(blocks) == []
    assert "Rejected by <@U0REVIEWER>" in all_text(blocks)

    seen = len(stack.responses())
    stack.user.command("process")
    stack.reply_since(seen)
    assert stack.postiz.create_count == 0


def test_cancel_deletes_postiz_post(stack: LoopbackStack) -> None:
    item = stack.generate("farcaster", "open-source roadmap")
    stack.click(item.id, ActionId.APPROVE)
    stack.wait_for_status(item.id, S.APPROVED)
    stack.user.command("process")
    scheduled = stack.wait_for_status(item.id, S.SCHEDULED)

    stack.click(item.id, ActionId.CANCEL)
    reverted = stack.wait_for_item(
        item.id, lambda current: current.status == S.APPROVED and current.postiz_id is None, what="cancel"
    )
    assert reverted.scheduled_at is None
    assert stack.postiz.posts.get(scheduled.postiz_id) is None
    assert ActionId.CANCEL not in action_ids(stack.message_of(item.id).blocks)

    # Scheduling again creates a new post, not an update of the deleted one.
    stack.user.command("process")
    rescheduled = stack.wait_for_status(item.id, S.SCHEDULED)
    assert rescheduled.postiz_id != scheduled.postiz_id
    assert stack.postiz.create_count == 2


def test_cancel_of_already_deleted_post(stack: LoopbackStack) -> None:
    item = stack.generate("x", "release notes")
    stack.click(item.id, ActionId.APPROVE)
    stack.wait_for_status(item.id, S.APPROVED)
    stack.user.command("process")
    scheduled = stack.wait_for_status(item.id, S.SCHEDULED)
    # Someone deleted it in Postiz: DELETE now returns 500, and GET /posts confirms it is gone.
    httpx.delete(
        f"{stack.postiz.base_url}/posts/{scheduled.postiz_id}", headers={"Authorization": "loopback-postiz-key"}
    ).raise_for_status()

    stack.click(item.id, ActionId.CANCEL)
    stack.wait_for_item(item.id, lambda current: current.postiz_id is None, what="cancel")
    assert stack.item(item.id).status == S.APPROVED


def test_repeated_process_and_double_clicks(stack: LoopbackStack) -> None:
    items = [stack.generate("x", f"topic {n}") for n in range(2)]
    # Every click carries the button as first shown, like four quick clicks in Slack.
    shown = json.dumps({"id": items[0].id, "v": items[0].version})
    with ThreadPoolExecutor(max_workers=4) as pool:
        clicks = [pool.submit(stack.click, items[0].id, ActionId.APPROVE, value=shown) for _ in range(4)]
    assert all(click.result().status_code == 200 for click in clicks)
    stack.wait_for_status(items[0].id, S.APPROVED)
    stack.click(items[1].id, ActionId.APPROVE)
    stack.wait_for_status(items[1].id, S.APPROVED)
    approvals = [e for e in stack.item(items[0].id).audit if e.to_status == S.APPROVED]
    assert len(approvals) == 1

    with ThreadPoolExecutor(max_workers=4) as pool:
        runs = [pool.submit(stack.runtime.workflows.process_approved) for _ in range(4)]
    scheduled_total = sum(len(run.result().scheduled) for run in runs)
    seen = len(stack.responses())
    for _ in range(3):
        stack.user.command("process")
    stack.wait_until(lambda: len(stack.responses()) >= seen + 3, what="three summaries")

    assert scheduled_total == 2
    assert stack.postiz.create_count == 2
    assert len(stack.postiz.posts) == 2
    times = sorted(stack.item(item.id).scheduled_at for item in items)
    # X's default minimum gap between two posts on one channel.
    assert times[1] - times[0] >= timedelta(minutes=60)


def test_llm_markup_is_inert(stack: LoopbackStack) -> None:
    assert stack.openai is not None
    text = "Big news <!channel> read <https://evil.example|our docs> & *more*"
    stack.openai.script(draft_json(text))
    item = stack.generate("x", "launch")
    blocks = stack.message_of(item.id).blocks
    # The post text is a plain_text object, which Slack never parses for
    # mentions, links or formatting; every mrkdwn block must be escaped.
    body = [block["text"] for block in blocks if block["type"] == "section" and block["text"]["type"] == "plain_text"]
    assert [part["text"] for part in body] == [text]
    mrkdwn = " ".join(
        element["text"]
        for block in blocks
        for element in ([block["text"]] if block["type"] == "section" else block.get("elements", []))
        if element.get("type") == "mrkdwn"
    )
    assert "<!channel>" not in mrkdwn
    assert "<https://evil.example" not in mrkdwn
    assert "<!channel>" not in stack.message_of(item.id).text
    assert "&lt;!channel&gt;" in stack.message_of(item.id).text


def test_over_limit_draft_cannot_be_approved(stack: LoopbackStack) -> None:
    assert stack.openai is not None
    too_long = draft_json("word " * 80)
    stack.openai.script(too_long, too_long)
    item = stack.generate("x", "long story")
    assert item.problem is not None
    assert "over the limit of 280" in item.problem
    blocks = stack.message_of(item.id).blocks
    assert ActionId.APPROVE not in action_ids(blocks)
    assert "Needs an edit" in all_text(blocks)

    # A forged click on a button that is not shown is still refused.
    seen = len(stack.responses())
    stack.click(item.id, ActionId.APPROVE, value=json.dumps({"id": item.id, "v": stack.item(item.id).version}))
    reply = stack.reply_since(seen)
    assert "cannot be approved" in reply
    assert stack.item(item.id).status == S.PENDING_REVIEW


def test_edit_modal_validates_and_saves(stack: LoopbackStack) -> None:
    item = stack.generate("x", "edits")
    stack.click(item.id, ActionId.EDIT)
    opened = stack.slack.wait_for("views.open")[-1].body["view"]

    response = stack.user.submit_view(opened, {"edit_text": {"text": {"type": "plain_text_input", "value": "x" * 300}}})
    assert response.status_code == 200
    assert response.json()["response_action"] == "errors"
    assert "over the limit of 280" in response.json()["errors"]["edit_text"]

    response = stack.user.submit_view(opened, {"edit_text": {"text": {"type": "plain_text_input", "value": "Edited & shorter"}}})
    assert response.status_code == 200
    edited = stack.wait_for_item(item.id, lambda current: current.text == "Edited & shorter", what="edit")
    assert edited.audit[-1].reason == "text edited"
    assert "Edited & shorter" in all_text(stack.message_of(item.id).blocks)


def test_stale_click_refreshes_message(stack: LoopbackStack) -> None:
    item = stack.generate("x", "stale")
    old_value = json.dumps({"id": item.id, "v": item.version})
    stack.click(item.id, ActionId.REJECT)
    stack.wait_for_status(item.id, S.REJECTED)
    seen = len(stack.responses())
    assert stack.click(item.id, ActionId.APPROVE, value=old_value).status_code == 200
    reply = stack.reply_since(seen)
    assert "rejected, so it cannot be approved" in reply
    assert stack.item(item.id).status == S.REJECTED


def test_missing_postiz_channel_keeps_item_approved(stack: LoopbackStack) -> None:
    stack.postiz.integrations = [i for i in stack.postiz.integrations if i["identifier"] != "wrapcast"]
    item = stack.generate("farcaster", "no channel")
    stack.click(item.id, ActionId.APPROVE)
    stack.wait_for_status(item.id, S.APPROVED)
    seen = len(stack.responses())
    stack.user.command("process")
    summary = stack.reply_since(seen)
    assert "No Farcaster account connected in Postiz: connect it in Postiz → Channels" in summary
    assert stack.item(item.id).status == S.APPROVED
    notices = [c.body["text"] for c in stack.slack.calls_to("chat.postMessage") if "blocks" not in c.body]
    assert any("No Farcaster account connected" in notice for notice in notices)


def test_postiz_rejection_marks_failed(stack: LoopbackStack) -> None:
    item = stack.generate("linkedin", "validation")
    stack.click(item.id, ActionId.APPROVE)
    stack.wait_for_status(item.id, S.APPROVED)
    # Process Approved reads the channels and Postiz's calendar, then creates.
    stack.postiz.fail_next(400, {"statusCode": 400, "provider": "linkedin", "name": "Acme", "message": "post is too long, please fix it"}, after=2)
    stack.user.command("process")
    failed = stack.wait_for_status(item.id, S.FAILED)
    assert failed.failure_reason and "post is too long, please fix it" in failed.failure_reason
    assert "post is too long" in all_text(stack.message_of(item.id).blocks)


def test_rate_limit_defers_items(stack: LoopbackStack) -> None:
    item = stack.generate("x", "rate limit")
    stack.click(item.id, ActionId.APPROVE)
    stack.wait_for_status(item.id, S.APPROVED)
    stack.postiz.fail_next(429, {"statusCode": 429, "message": "ThrottlerException: Too Many Requests"},
                           headers={"Retry-After": "1800"}, after=2)
    seen = len(stack.responses())
    stack.user.command("process")
    summary = stack.reply_since(seen)
    assert "scheduled 0, deferred 1 until" in summary
    assert summary.endswith("UTC (Postiz rate limit).")
    assert stack.item(item.id).status == S.APPROVED


def test_webhook_token_and_payloads(stack: LoopbackStack) -> None:
    wrong = httpx.post(stack.webhook_url + "x", json=[])
    assert wrong.status_code == 404
    assert httpx.post(stack.webhook_url, content=b"{not json").status_code == 400

    item = stack.generate("x", "webhook")
    stack.click(item.id, ActionId.APPROVE)
    stack.wait_for_status(item.id, S.APPROVED)
    stack.user.command("process")
    scheduled = stack.wait_for_status(item.id, S.SCHEDULED)

    unknown = httpx.post(stack.webhook_url, json=[{"id": "not-ours", "state": "PUBLISHED"}])
    assert unknown.status_code == 200
    assert stack.item(item.id).status == S.SCHEDULED

    # The body is only a hint: a post Postiz has not published stays scheduled.
    premature = httpx.post(stack.webhook_url, json=[{"id": scheduled.postiz_id, "state": "PUBLISHED"}])
    assert premature.status_code == 200
    assert stack.item(item.id).status == S.SCHEDULED

    stack.postiz.publish(scheduled.postiz_id)
    stack.wait_for_status(item.id, S.PUBLISHED)
    edits = stack.message_of(item.id).edits
    again = httpx.post(stack.webhook_url, json=[{"id": scheduled.postiz_id, "state": "PUBLISHED"}])
    assert again.status_code == 200
    assert stack.message_of(item.id).edits == edits
    assert [e.to_status for e in stack.item(item.id).audit].count(S.PUBLISHED) == 1


def test_empty_webhook_body_reconciles(stack: LoopbackStack) -> None:
    stack.postiz.empty_webhook_body = True
    item = stack.generate("linkedin", "empty body")
    stack.click(item.id, ActionId.APPROVE)
    stack.wait_for_status(item.id, S.APPROVED)
    stack.user.command("process")
    scheduled = stack.wait_for_status(item.id, S.SCHEDULED)
    stack.postiz.publish(scheduled.postiz_id)
    published = stack.wait_for_status(item.id, S.PUBLISHED)
    assert published.release_url


def test_reconcile_marks_errors_failed(stack: LoopbackStack) -> None:
    item = stack.generate("x", "error state")
    stack.click(item.id, ActionId.APPROVE)
    stack.wait_for_status(item.id, S.APPROVED)
    stack.user.command("process")
    scheduled = stack.wait_for_status(item.id, S.SCHEDULED)
    stack.postiz.fail(scheduled.postiz_id)
    report = stack.runtime.workflows.reconcile()
    assert report.failed == [item.id]
    failed = stack.item(item.id)
    assert failed.status == S.FAILED
    assert "Postiz could not publish" in (failed.failure_reason or "")


def test_signature_checks(stack: LoopbackStack) -> None:
    assert stack.user.command("help", secret="wrong-secret").status_code == 401
    assert stack.user.command("help", timestamp=1_600_000_000).status_code == 401
    ok = stack.user.command("help")
    assert ok.status_code == 200
    assert "/borker generate" in ok.text


def test_generate_argument_errors(stack: LoopbackStack) -> None:
    assert "Unknown platform `myspace`" in ack_text(stack.user.command("generate myspace cats"))
    assert "Missing topic" in ack_text(stack.user.command("generate x"))
    assert "Unknown subcommand `frobnicate`" in ack_text(stack.user.command("frobnicate"))


def test_llm_failure_is_reported(stack: LoopbackStack) -> None:
    assert stack.openai is not None
    stack.openai.script(*[Fault(status=500, body={"error": {"message": "boom"}})] * 3)
    seen = len(stack.responses())
    stack.user.command("generate x failing model")
    reply = stack.reply_since(seen)
    assert reply.startswith(":warning:")
    # The failure is kept as an item, so the reason stays visible and Regenerate can retry.
    [item_id] = stack.item_ids()
    failed = stack.wait_for_status(item_id, S.FAILED)
    assert failed.failure_reason is not None
    assert failed.failure_reason.startswith("Generation failed:")
    assert ActionId.REGENERATE in action_ids(stack.message_of(item_id).blocks)

    stack.click(item_id, ActionId.REGENERATE)
    regenerated = stack.wait_for_status(item_id, S.PENDING_REVIEW)
    assert regenerated.text
    assert regenerated.audit[-1].reason == "regenerated after a failure"


def test_status_queue_home_and_health(stack: LoopbackStack) -> None:
    item = stack.generate("x", "status")
    status = ack_text(stack.user.command("status"))
    assert "Pending review: 1" in status
    queue = ack_text(stack.user.command("queue"))
    assert f"#{item.id} X" in queue
    assert stack.user.open_home().status_code == 200
    published = stack.slack.wait_for("views.publish")[-1].body
    assert "Pending review: 1" in json.dumps(published)
    assert httpx.get(stack.server.url + "/healthz").json() == {"ok": True}


def test_timed_out_create_is_not_sent_twice(database_url: str) -> None:
    with LoopbackStack(database_url=database_url, POSTIZ_TIMEOUT_SECONDS=0.5) as stack:
        item = stack.generate("x", "slow postiz")
        stack.click(item.id, ActionId.APPROVE)
        stack.wait_for_status(item.id, S.APPROVED)
        # Postiz creates the post, but only after the client has given up.
        stack.postiz.delay_next(1.5, after=2)
        first = stack.runtime.workflows.process_approved()
        assert first.scheduled == []
        assert "Borker will check Postiz" in first.skipped[0][1]
        assert stack.item(item.id).send_started_at is not None
        stack.wait_until(lambda: stack.postiz.create_count == 1, what="the slow create")

        second = stack.runtime.workflows.process_approved()
        assert [item_id for item_id, _ in second.scheduled] == [item.id]
        scheduled = stack.item(item.id)
        assert scheduled.status == S.SCHEDULED
        assert scheduled.postiz_id in stack.postiz.posts
        assert stack.postiz.create_count == 1


def test_failed_create_is_sent_again(stack: LoopbackStack) -> None:
    item = stack.generate("linkedin", "flaky postiz")
    stack.click(item.id, ActionId.APPROVE)
    stack.wait_for_status(item.id, S.APPROVED)
    stack.postiz.fail_next(502, {"statusCode": 502, "message": "Bad Gateway"}, after=2)
    first = stack.runtime.workflows.process_approved()
    assert first.scheduled == []
    assert stack.postiz.create_count == 0

    second = stack.runtime.workflows.process_approved()
    assert [item_id for item_id, _ in second.scheduled] == [item.id]
    assert stack.postiz.create_count == 1


def test_reject_while_send_unconfirmed(stack: LoopbackStack) -> None:
    item = stack.generate("x", "reject during send")
    stack.click(item.id, ActionId.APPROVE)
    stack.wait_for_status(item.id, S.APPROVED)
    stack.postiz.fail_next(503, {"statusCode": 503, "message": "Service Unavailable"}, after=2)
    stack.runtime.workflows.process_approved()
    current = stack.item(item.id)
    seen = len(stack.responses())
    stack.user.click(current.slack_channel, current.slack_ts, ActionId.REJECT,
                     value=json.dumps({"id": item.id, "v": current.version}))
    reply = stack.reply_since(seen)
    assert "being sent to Postiz right now" in reply
    assert stack.item(item.id).status == S.APPROVED

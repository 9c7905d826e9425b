"""Plays a Slack workspace member: sends signed slash commands, clicks and modal submissions to Borker.

Requests are signed the way Slack signs them (``v0`` HMAC-SHA256 over
``v0:<timestamp>:<body>``), so Borker's own signature check runs for real.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import quote, urlencode

import httpx

from borker.standins.slack_api import TEAM_ID, SlackStandin


def sign(secret: str, body: str, timestamp: int) -> str:
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


class SlackUser:
    """One workspace member talking to Borker's ``/slack/events`` endpoint."""

    def __init__(
        self, *, app_url: str, signing_secret: str, slack: SlackStandin, user_id: str = "U0REVIEWER",
        channel_id: str = "C0REVIEW",
    ) -> None:
        self.events_url = app_url.rstrip("/") + "/slack/events"
        self.signing_secret = signing_secret
        self.slack = slack
        self.user_id = user_id
        self.channel_id = channel_id
        self.http = httpx.Client(timeout=10.0)

    def close(self) -> None:
        self.http.close()

    def post(
        self, body: str, content_type: str, *, timestamp: int | None = None, secret: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        stamp = int(time.time()) if timestamp is None else timestamp
        signed = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": str(stamp),
            "X-Slack-Signature": sign(secret or self.signing_secret, body, stamp),
            **(headers or {}),
        }
        return self.http.post(self.events_url, content=body.encode(), headers=signed)

    def command(self, text: str, **kwargs: Any) -> httpx.Response:
        body = urlencode({
            "token": "unused",
            "team_id": TEAM_ID,
            "team_domain": "borker-demo",
            "channel_id": self.channel_id,
            "channel_name": "social-review",
            "user_id": self.user_id,
            "user_name": "reviewer",
            "command": "/borker",
            "text": text,
            "api_app_id": "A0BORKER",
            "response_url": self.slack.response_url(f"command-{int(time.time() * 1000)}"),
            "trigger_id": "1337.42.trigger",
        })
        return self.post(body, "application/x-www-form-urlencoded", **kwargs)

    def click(self, channel: str, ts: str, action_id: str, *, value: str | None = None, **kwargs: Any) -> httpx.Response:
        """Click the button ``action_id`` on the message at ``channel``/``ts``, as shown now."""
        message = self.slack.message(channel, ts)
        button = _find_button(message.blocks, action_id)
        if button is None and value is None:
            raise LookupError(f"message {ts} shows no button {action_id}")
        payload = {
            "type": "block_actions",
            "team": {"id": TEAM_ID, "domain": "borker-demo"},
            "user": {"id": self.user_id, "username": "reviewer", "name": "reviewer", "team_id": TEAM_ID},
            "api_app_id": "A0BORKER",
            "token": "unused",
            "trigger_id": "1337.42.trigger",
            "container": {"type": "message", "message_ts": ts, "channel_id": channel, "is_ephemeral": False},
            "channel": {"id": channel, "name": "social-review"},
            "message": {"ts": ts, "text": message.text, "blocks": message.blocks},
            "response_url": self.slack.response_url(f"action-{ts}"),
            "actions": [{
                "type": "button",
                "action_id": action_id,
                "block_id": (button or {}).get("block_id", "item_actions"),
                "value": value if value is not None else (button or {}).get("value"),
                "action_ts": f"{time.time():.6f}",
            }],
        }
        return self.interactive(payload, **kwargs)

    def submit_view(self, view: dict[str, Any], values: dict[str, dict[str, Any]], **kwargs: Any) -> httpx.Response:
        payload = {
            "type": "view_submission",
            "team": {"id": TEAM_ID, "domain": "borker-demo"},
            "user": {"id": self.user_id, "username": "reviewer", "name": "reviewer", "team_id": TEAM_ID},
            "api_app_id": "A0BORKER",
            "token": "unused",
            "trigger_id": "1337.42.trigger",
            "view": {**view, "id": "V0BORKER", "state": {"values": values}},
        }
        return self.interactive(payload, **kwargs)

    def interactive(self, payload: dict[str, Any], **kwargs: Any) -> httpx.Response:
        body = "payload=" + quote(json.dumps(payload))
        return self.post(body, "application/x-www-form-urlencoded", **kwargs)

    def open_home(self) -> httpx.Response:
        body = json.dumps({
            "token": "unused",
            "team_id": TEAM_ID,
            "api_app_id": "A0BORKER",
            "event": {"type": "app_home_opened", "user": self.user_id, "channel": "D0BORKER", "tab": "home",
                      "event_ts": f"{time.time():.6f}"},
            "type": "event_callback",
            "event_id": f"Ev{int(time.time() * 1000)}",
            "event_time": int(time.time()),
        })
        return self.post(body, "application/json")


def _find_button(blocks: list[dict[str, Any]], action_id: str) -> dict[str, Any] | None:
    for block in blocks:
        if block.get("type") != "actions":
            continue
        for element in block.get("elements", []):
            if element.get("action_id") == action_id:
                return {**element, "block_id": block.get("block_id")}
    return None

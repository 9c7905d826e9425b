"""A loopback stand-in for the Slack Web API, plus a target for ``response_url`` posts.

It keeps the messages it was asked to post or update, so tests and the demo can
read what a person would see in the channel.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from borker.standins.http import JsonHandler, LoopbackServer

BOT_USER_ID = "UBORKERBOT"
TEAM_ID = "T0BORKER"


@dataclass
class SlackCall:
    method: str
    body: dict[str, Any]


@dataclass
class SlackMessage:
    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    edits: int = 0


class _SlackHandler(JsonHandler):
    server: "SlackStandin"

    def do_POST(self) -> None:  # noqa: N802 - http.server naming
        raw = self.read_body().decode()
        body = _parse_body(raw, self.headers.get("Content-Type", ""))
        path = self.path_only
        if path.startswith("/response/"):
            self.server.record(SlackCall(method="response_url", body=body))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")
            return
        method = path.strip("/").removeprefix("api/")
        token = self.headers.get("Authorization", "").removeprefix("Bearer ")
        if not token.startswith(("xoxb-", "xoxp-")):
            self.send_json(200, {"ok": False, "error": "invalid_auth"})
            return
        self.server.record(SlackCall(method=method, body=body))
        status, payload, headers = self.server.answer(method, body)
        self.send_json(status, payload, headers)


def _parse_body(raw: str, content_type: str) -> dict[str, Any]:
    if not raw:
        return {}
    if "json" in content_type:
        parsed = json.loads(raw)
        return parsed if isinstance(parsed, dict) else {"_": parsed}
    fields = {key: values[0] for key, values in parse_qs(raw).items()}
    for key in ("blocks", "view"):
        if isinstance(fields.get(key), str):
            fields[key] = json.loads(fields[key])
    return fields


class SlackStandin(LoopbackServer):
    """Stand-in that responds to the Web API methods Borker uses and records every call."""

    def __init__(self, port: int = 0) -> None:
        super().__init__(_SlackHandler, port)
        self.calls: list[SlackCall] = []
        self.messages: dict[tuple[str, str], SlackMessage] = {}
        self._faults: dict[str, list[tuple[int, dict[str, Any], dict[str, str]]]] = {}
        self._lock = threading.Condition()
        self._next_ts = 1_700_000_000

    @property
    def api_url(self) -> str:
        return self.url + "/api/"

    def response_url(self, name: str = "command") -> str:
        return f"{self.url}/response/{name}"

    def fail_next(self, method: str, error: str, *, status: int = 200, headers: dict[str, str] | None = None) -> None:
        """Make the next call of ``method`` fail with Slack error code ``error``."""
        with self._lock:
            self._faults.setdefault(method, []).append((status, {"ok": False, "error": error}, headers or {}))

    def record(self, call: SlackCall) -> None:
        with self._lock:
            self.calls.append(call)
            self._lock.notify_all()

    def calls_to(self, method: str) -> list[SlackCall]:
        with self._lock:
            return [call for call in self.calls if call.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 10.0) -> list[SlackCall]:
        """Block until ``method`` has been called at least ``count`` times."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                found = [call for call in self.calls if call.method == method]
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"expected {count} call(s) to {method}, got {len(found)}")
                self._lock.wait(remaining)

    def message(self, channel: str, ts: str) -> SlackMessage:
        with self._lock:
            return self.messages[(channel, ts)]

    def answer(self, method: str, body: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
        with self._lock:
            queued = self._faults.get(method)
            if queued:
                return queued.pop(0)
            if method == "auth.test":
                return 200, {"ok": True, "user_id": BOT_USER_ID, "team_id": TEAM_ID, "bot_id": "BBORKER"}, {}
            if method == "chat.postMessage":
                self._next_ts += 1
                ts = f"{self._next_ts}.000100"
                channel = str(body.get("channel"))
                self.messages[(channel, ts)] = SlackMessage(
                    channel=channel, ts=ts, text=str(body.get("text", "")), blocks=list(body.get("blocks") or [])
                )
                return 200, {"ok": True, "channel": channel, "ts": ts, "message": {"ts": ts}}, {}
            if method == "chat.update":
                key = (str(body.get("channel")), str(body.get("ts")))
                message = self.messages.get(key)
                if message is None:
                    return 200, {"ok": False, "error": "message_not_found"}, {}
                message.text = str(body.get("text", ""))
                message.blocks = list(body.get("blocks") or [])
                message.edits += 1
                return 200, {"ok": True, "channel": key[0], "ts": key[1]}, {}
            if method == "chat.postEphemeral":
                return 200, {"ok": True, "message_ts": f"{self._next_ts}.000200"}, {}
            if method in ("views.open", "views.update", "views.publish", "views.push"):
                view = body.get("view") or {}
                return 200, {"ok": True, "view": {"id": "V0BORKER", "hash": "h1", **view}}, {}
            return 200, {"ok": True}, {}

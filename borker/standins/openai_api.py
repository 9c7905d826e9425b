"""An OpenAI-compatible chat completions server on loopback for tests and the demo.

By default it returns a deterministic sample post for the ``Platform:`` and
``Topic:`` lines of the last user message. Tests queue other behaviour with
``script``: a content string, a ``Reply`` with a refusal or another finish
reason, or a ``Fault`` with an HTTP status, headers and a delay.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from borker.models import Platform
from borker.platforms import check_text
from borker.standins.http import JsonHandler, LoopbackServer


@dataclass(frozen=True)
class Reply:
    """A completion to return: content, refusal and finish reason as given."""

    content: str | None
    finish_reason: str = "stop"
    refusal: str | None = None


@dataclass(frozen=True)
class Fault:
    """A response to return after ``delay`` seconds.

    A status of 400 or more sends ``body``, or an OpenAI-style error object when
    ``body`` is None. A lower status sends ``body`` as is, or the normal
    completion when ``body`` is None, which makes a slow but successful reply.
    """

    status: int
    body: dict[str, Any] | None = None
    headers: dict[str, str] | None = None
    delay: float = 0


Behaviour = str | Reply | Fault

# Sample posts per platform, each mentioning the topic. _sample_draft cuts the
# topic shorter until the sample passes check_text.
_SAMPLES: dict[Platform | None, tuple[str, ...]] = {
    Platform.X: (
        "{topic}: small steps shipped often beat one big launch. We will share what worked and what did not.",
        "Three things we learned about {topic} this month, and one we are still figuring out.",
        "Working on {topic} taught us to ship less at once and to listen more. How do you approach it?",
    ),
    Platform.LINKEDIN: (
        "We spent the last quarter on {topic}.\n\n"
        "The biggest lesson: progress came from small, regular releases, not from one large plan. "
        "Each release gave us feedback we could act on the same week.\n\n"
        "What has worked for your team?",
        "A few notes on {topic} from our team.\n\n"
        "We started with a clear goal, measured one number, and reviewed it every Friday. "
        "That rhythm mattered more than any tool we picked.\n\n"
        "Happy to compare notes with anyone working on the same problem.",
    ),
    Platform.FARCASTER: (
        "Been heads-down on {topic}. Shipping small pieces every day and writing down what breaks. Notes soon.",
        "Quick thought on {topic}: the boring, steady work is what moves it forward. What are you building?",
    ),
    None: ("A short update on {topic}: we keep shipping in small steps and will share what we learn.",),
}

# Returned when the conversation contains a re-ask, so that the second reply is shorter.
_SHORT_SAMPLES: dict[Platform | None, str] = {
    Platform.X: "{topic}, in one line: small steps, shipped often.",
    Platform.LINKEDIN: "One lesson from our work on {topic}: small, regular releases beat big plans.",
    Platform.FARCASTER: "{topic}: small steps, shipped often.",
    None: "{topic}: small steps, shipped often.",
}

# Maximum topic lengths tried, longest first, until the sample fits every limit.
_TOPIC_LENGTHS = (120, 80, 40, 20)


class _Handler(JsonHandler):
    server: OpenAIStandin

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        if not self._authorize():
            return
        if self.path_only == "/v1/models":
            model = {"id": self.server.model, "object": "model", "created": 0, "owned_by": "borker-standin"}
            self._send(200, {"object": "list", "data": [model]})
            return
        self._send(404, _error_body(404, f"Unknown path {self.path_only}."))

    def do_POST(self) -> None:  # noqa: N802 - http.server naming
        # The body is read first so that a keep-alive connection stays in step
        # even when the request is rejected.
        raw = self.read_body()
        if not self._authorize():
            return
        if self.path_only != "/v1/chat/completions":
            self._send(404, _error_body(404, f"Unknown path {self.path_only}."))
            return

        request = _parse_request(raw)
        if isinstance(request, str):
            self._send(400, _error_body(400, request))
            return

        behaviour = self.server._take_request(request)
        delay = self.server.delay
        if isinstance(behaviour, Fault):
            delay += behaviour.delay
        if delay > 0 and self.server._stopping.wait(delay):
            # The server is stopping: drop the connection instead of replying.
            self.close_connection = True
            return

        if isinstance(behaviour, Fault) and (behaviour.status >= 400 or behaviour.body is not None):
            body = behaviour.body if behaviour.body is not None else _error_body(behaviour.status)
            self._send(behaviour.status, body, behaviour.headers)
            return

        if isinstance(behaviour, Fault) or behaviour is None:
            reply = Reply(_sample_draft(request["messages"]))
        elif isinstance(behaviour, str):
            reply = Reply(behaviour)
        else:
            reply = behaviour
        completion = self.server._completion(request, reply)
        status = behaviour.status if isinstance(behaviour, Fault) else 200
        headers = behaviour.headers if isinstance(behaviour, Fault) else None
        self._send(status, completion, headers)

    def _authorize(self) -> bool:
        """Send a 401 error and return False unless the request has an accepted bearer token."""
        header = self.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            self._send(401, _error_body(401, "Missing bearer token in the Authorization header."))
            return False
        if self.server.api_key is not None and token != self.server.api_key:
            # Shaped like OpenAI's message, which shows the start and the end of
            # the rejected key, so tests can check that clients keep it hidden.
            masked = f"{token[:3]}***{token[-4:]}"
            self._send(401, _error_body(401, f"Incorrect API key provided: {masked}."))
            return False
        return True

    def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        try:
            self.send_json(status, payload, headers)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up, for example after its own timeout.
            self.close_connection = True


class OpenAIStandin(LoopbackServer):
    """OpenAI-compatible server on 127.0.0.1 with ``/v1/chat/completions`` and ``/v1/models``.

    Every request needs an ``Authorization: Bearer`` header with a non-empty
    token, which must equal ``api_key`` when one is given. ``delay`` (seconds)
    is added before every chat completion reply. ``requests`` and ``responses``
    record the JSON bodies of accepted chat completion requests and of the
    completions sent back, in order. All methods are safe to call from any thread.
    """

    def __init__(self, *, api_key: str | None = None, model: str = "standin-model", port: int = 0) -> None:
        super().__init__(_Handler, port)
        self.api_key = api_key
        self.model = model
        self.delay: float = 0.0
        self.requests: list[dict[str, Any]] = []
        self.responses: list[dict[str, Any]] = []
        self._script: deque[Behaviour] = deque()
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._stopping = threading.Event()

    @property
    def base_url(self) -> str:
        return self.url + "/v1"

    def script(self, *responses: Behaviour) -> None:
        """Queue behaviours for the next chat completion requests, one per request."""
        with self._lock:
            self._script.extend(responses)

    def stop(self) -> None:
        # Wakes handlers that are waiting out a delay, so that shutdown is prompt.
        self._stopping.set()
        super().stop()

    def _take_request(self, request: dict[str, Any]) -> Behaviour | None:
        """Record the request and return the next scripted behaviour, or None for the default."""
        with self._lock:
            self.requests.append(request)
            return self._script.popleft() if self._script else None

    def _completion(self, request: dict[str, Any], reply: Reply) -> dict[str, Any]:
        """Build a chat.completion object for the reply and record it."""
        content = reply.content
        if content is not None:
            content = _apply_response_format(request.get("response_format"), content)

        prompt_tokens = _count_prompt_tokens(request["messages"])
        completion_tokens = len((content or reply.refusal or "").split())
        with self._lock:
            completion_id = f"chatcmpl-standin-{next(self._ids)}"
        completion = {
            "id": completion_id,
            "object": "chat.completion",
            "created": int(time.time()),
            "model": request.get("model") or self.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content, "refusal": reply.refusal},
                    "finish_reason": reply.finish_reason,
                    "logprobs": None,
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }
        with self._lock:
            self.responses.append(completion)
        return completion


def _parse_request(raw: bytes) -> dict[str, Any] | str:
    """Return the decoded request, or an error message for a 400 response."""
    try:
        request = json.loads(raw or b"null")
    except ValueError as error:
        return f"Request body is not valid JSON: {error}."
    if not isinstance(request, dict):
        return "Request body must be a JSON object."
    messages = request.get("messages")
    if not isinstance(messages, list) or not messages:
        return "'messages' must be a non-empty array."
    if not all(isinstance(message, dict) for message in messages):
        return "Each item of 'messages' must be an object."
    if request.get("stream"):
        return "Streaming is not supported by this stand-in."
    return request


def _error_body(status: int, message: str | None = None) -> dict[str, Any]:
    """Return an error object shaped like OpenAI's for the status."""
    kinds = {
        400: ("invalid_request_error", None),
        401: ("invalid_request_error", "invalid_api_key"),
        403: ("invalid_request_error", None),
        404: ("invalid_request_error", None),
        429: ("requests", "rate_limit_exceeded"),
    }
    error_type, code = kinds.get(status, ("server_error", None))
    if message is None:
        message = f"The stand-in returned HTTP {status} as scripted."
    return {"error": {"message": message, "type": error_type, "param": None, "code": code}}


def _message_text(message: dict[str, Any]) -> str:
    """Return the text of a message whose content is a string or a list of parts."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(part.get("text", "") for part in content if isinstance(part, dict))
    return ""


def _count_prompt_tokens(messages: list[dict[str, Any]]) -> int:
    # Whitespace-separated words plus a few per message: an estimate in the
    # shape of real usage, not a tokenizer count.
    return sum(len(_message_text(message).split()) + 4 for message in messages)


def _sample_draft(messages: list[dict[str, Any]]) -> str:
    """Return the deterministic sample post for the conversation."""
    user_messages = [message for message in messages if message.get("role") == "user"]
    request_text = _message_text(user_messages[-1]) if user_messages else ""
    # The re-ask names only the problem, so the platform and topic come from the first user message.
    first_text = _message_text(user_messages[0]) if user_messages else ""
    platform_name = _field(request_text, "Platform") or _field(first_text, "Platform")
    topic = _field(request_text, "Topic") or _field(first_text, "Topic") or "our latest work"
    platform = _platform_from_label(platform_name)
    reask = any(message.get("role") == "assistant" for message in messages)

    if reask:
        templates: tuple[str, ...] = (_SHORT_SAMPLES[platform],)
    else:
        templates = _SAMPLES[platform]
    digest = hashlib.sha256(f"{platform}\n{topic}".encode()).digest()
    template = templates[digest[0] % len(templates)]

    checked = [platform] if platform is not None else list(Platform)
    for max_length in _TOPIC_LENGTHS:
        text = _capitalize(template.format(topic=_shorten(topic, max_length)))
        if all(check_text(target, text).ok for target in checked):
            return text
    return _capitalize(template.format(topic=_shorten(topic, _TOPIC_LENGTHS[-1])))


def _capitalize(text: str) -> str:
    """Upper-case the first character only, so that the topic keeps its own case elsewhere."""
    return text[:1].upper() + text[1:]


def _field(text: str, name: str) -> str | None:
    """Return the value of the first ``Name: value`` line, or None."""
    prefix = name.lower() + ":"
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.lower().startswith(prefix):
            value = stripped[len(prefix):].strip()
            return value or None
    return None


def _platform_from_label(name: str | None) -> Platform | None:
    if name is None:
        return None
    for platform in Platform:
        if name.lower() in (platform.value, platform.label.lower()):
            return platform
    return None


def _shorten(topic: str, max_length: int) -> str:
    """Cut the topic at a word boundary to at most ``max_length`` characters."""
    if len(topic) <= max_length:
        return topic
    cut = topic[: max_length - 3].rsplit(" ", 1)[0] or topic[: max_length - 3]
    return cut.rstrip(" ,.;:") + "..."


def _apply_response_format(response_format: Any, text: str) -> str:
    """Wrap the draft in JSON when the request sets a JSON ``response_format``."""
    if not isinstance(response_format, dict):
        return text
    kind = response_format.get("type")
    if kind == "json_object":
        return json.dumps({"text": text})
    if kind == "json_schema":
        schema = (response_format.get("json_schema") or {}).get("schema") or {}
        return json.dumps(_fill_object(schema, text))
    return text


_TEXT_PROPERTY_HINTS = ("text", "post", "content")


def _fill_object(schema: dict[str, Any], text: str | None) -> dict[str, Any]:
    """Build an object with every required property of the schema.

    The draft goes into the first string property without an enum whose name
    contains text, post or content, or into the first such string property when
    no name matches. Other properties get an empty value of their type, or their
    first enum value.
    """
    properties: dict[str, Any] = schema.get("properties") or {}
    names = list(schema.get("required") or properties)
    string_names = [
        name
        for name in names
        if "string" in _types(properties.get(name) or {}) and "enum" not in (properties.get(name) or {})
    ]
    hinted = [name for name in string_names if any(hint in name.lower() for hint in _TEXT_PROPERTY_HINTS)]
    target = (hinted or string_names or [None])[0] if text is not None else None

    result: dict[str, Any] = {}
    for name in names:
        if name == target:
            result[name] = text
        else:
            result[name] = _empty_value(properties.get(name) or {})
    return result


def _types(schema: dict[str, Any]) -> list[str]:
    declared = schema.get("type")
    if isinstance(declared, list):
        return [str(item) for item in declared]
    if isinstance(declared, str):
        return [declared]
    if "enum" in schema:
        return ["string"] if all(isinstance(item, str) for item in schema["enum"]) else []
    return []


def _empty_value(schema: dict[str, Any]) -> Any:
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        return enum[0]
    any_of = schema.get("anyOf")
    if isinstance(any_of, list) and any_of and isinstance(any_of[0], dict):
        return _empty_value(any_of[0])
    types = _types(schema)
    if "string" in types:
        return ""
    if "array" in types:
        return []
    if "object" in types:
        return _fill_object(schema, None)
    if "integer" in types or "number" in types:
        return 0
    if "boolean" in types:
        return False
    return None

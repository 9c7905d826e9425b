"""An OpenAI-compatible chat completions server on loopback for tests and the demo.

By default it returns a deterministic sample draft for the ``Content type:``
(or else ``Platform:``) and ``Topic:`` lines of the user messages, shaped by
the request's ``response_format``: JSON with ``parts``, ``hashtags`` and
``notes`` for ``json_schema`` and ``json_object``, plain text otherwise.
Tests queue other behaviour with ``script``: a content string, a ``Reply`` with
a refusal or another finish reason, or a ``Fault`` with an HTTP status, headers
and a delay. Scripted content is sent as is, whatever the ``response_format``.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
import time
from collections import deque
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from borker.drafting import DraftRules, prepare_draft
from borker.models import Platform
from borker.platforms import ContentType, check_text, default_content_type
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


def draft_json(*parts: str, hashtags: Sequence[str] = (), notes: str | None = None) -> str:
    """Return message content in the draft shape of the JSON modes, for use with ``script``.

    ``DraftGenerator`` takes plain text in a JSON mode as a sign that the server
    ignores ``response_format`` and repeats the request in a lower mode, so
    scripted drafts for it should use this shape.
    """
    return json.dumps({"parts": list(parts), "hashtags": list(hashtags), "notes": notes})


# Output modes, named after the ``response_format`` type that selects them. A
# request without ``response_format`` requests plain text.
OUTPUT_MODES = frozenset({"json_schema", "json_object", "text"})

# Sample drafts per content type, each mentioning the topic once. A thread is a
# tuple of parts. _sample_parts cuts the topic shorter until the sample passes
# prepare_draft, so LinkedIn samples also stay within 150 to 300 words.
_SAMPLES: dict[ContentType | None, tuple[tuple[str, ...], ...]] = {
    ContentType.X_POST: (
        ("{topic}: small steps shipped often beat one big launch. We will share what worked and what did not.",),
        ("Three things we learned about {topic} this month, and one we are still figuring out.",),
        ("Working on {topic} taught us to ship less at once and to listen more. How do you approach it?",),
    ),
    ContentType.X_THREAD: (
        (
            "{topic}: what we learned from shipping one small change every week for a quarter.",
            (
                "Small releases are easier to review. A change that fits on one screen gets a real review, "
                "and real reviews catch real bugs."
            ),
            (
                "Feedback arrives while the work is still fresh. We fixed most reported problems within days, "
                "not at the next big launch."
            ),
            "Release day stopped being an event. Nobody stays late for a release that is one small step.",
            "Planning a big launch? Ship the smallest useful piece first and tell us how it goes.",
        ),
        (
            "Three things about {topic} that took us far too long to learn.",
            "Measure one number and look at it every week. Anything slower than weekly is too slow to learn from.",
            "Write down what you tried, including what failed. Our notes stopped us from repeating two mistakes.",
            "Share the results outside the team. What would you add to this list?",
        ),
    ),
    ContentType.LINKEDIN_POST: (
        (
            (
                "We spent the last quarter working on {topic}, and the results surprised us.\n\n"
                "The plan we started with was ambitious: one large release at the end of the quarter, with every "
                "feature our customers had asked for. Three weeks in, we changed course. We split the work into "
                "small pieces and shipped one every week.\n\n"
                "Three things happened. First, feedback arrived while it could still change the work, not after "
                "the launch. Second, the team stopped dreading release day, because a release was no longer a big "
                "event. Third, the number we cared about most started moving in the second week instead of the last.\n\n"
                "It was not free. Weekly releases need good tests, a short review loop and the discipline to cut "
                "scope when a piece grows too big. We had to get better at all three.\n\n"
                "If you are planning a big push of your own, try shipping the smallest useful slice first and see "
                "what your users do with it.\n\n"
                "What has worked for your team?"
            ),
        ),
        (
            (
                "A few notes on {topic} from our team, six months in.\n\n"
                "We began with a clear goal and one number to measure it by. Every Friday we looked at that number "
                "together, wrote down what had changed and chose one thing to try the following week. That rhythm "
                "mattered more than any tool we picked.\n\n"
                "Some lessons we would pass on:\n\n"
                "Pick a number you can move within a week. Quarterly numbers are too slow to learn from.\n\n"
                "Write down what you tried, including the experiments that failed. Our notes saved us from "
                "repeating two of them.\n\n"
                "Keep the review short. Thirty minutes was enough, and people came prepared because they knew it "
                "would not run over.\n\n"
                "Share the results outside the team. Other groups started asking better questions once they could "
                "see the trend.\n\n"
                "None of this is new, but doing it every week made the difference for us.\n\n"
                "Happy to compare notes with anyone working on the same problem."
            ),
        ),
    ),
    ContentType.FARCASTER_CAST: (
        ("Been heads-down on {topic}. Shipping small pieces every day and writing down what breaks. Notes soon.",),
        ("Quick thought on {topic}: the boring, steady work is what moves it forward. What are you building?",),
    ),
    None: (("A short update on {topic}: we keep shipping in small steps and will share what we learn.",),),
}

# Returned when the conversation contains a re-ask, so that the second reply is
# shorter than the first while still fitting every limit of its content type.
_SHORT_SAMPLES: dict[ContentType | None, tuple[str, ...]] = {
    ContentType.X_POST: ("{topic}, in one line: small steps, shipped often.",),
    ContentType.X_THREAD: (
        "{topic}, in three posts.",
        "Ship small pieces often. Each one is easy to review and easy to roll back.",
        "Act on feedback the same week. What would you add?",
    ),
    ContentType.LINKEDIN_POST: (
        (
            "One lesson from our work on {topic}: small, regular releases beat big plans.\n\n"
            "We used to bundle months of work into one launch. Feedback arrived late, fixes waited for the next "
            "big release, and everyone dreaded launch day.\n\n"
            "Now we ship a small piece every week. Each release is easy to review, easy to roll back and easy to "
            "explain to customers. Feedback arrives while the work is still fresh, so we act on it the same week. "
            "We also write short release notes, so that customers can see what changed and why.\n\n"
            "It takes discipline. Tests have to be reliable, reviews have to be quick, and scope has to be cut as "
            "soon as a piece grows too large. It took us about two months to get the rhythm right.\n\n"
            "The payoff is worth it: steadier progress, calmer releases and a team that learns faster.\n\n"
            "How does your team decide what goes into each release?"
        ),
    ),
    ContentType.FARCASTER_CAST: ("{topic}: small steps, shipped often.",),
    None: ("{topic}: small steps, shipped often.",),
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

        mode = _output_mode(request)
        if mode not in self.server.supports:
            self.server._reject_request(request)
            self._send(400, _unsupported_mode_error(mode))
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
            reply = Reply(_sample_content(request))
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
    token, which must equal ``api_key`` when one is given. ``supports`` lists
    the output modes it accepts: "json_schema", "json_object" and "text". A
    request for another mode gets an HTTP 400 error about ``response_format``,
    as from a server without that feature. ``delay`` (seconds) is added before
    every chat completion reply. ``requests`` and ``responses`` record the JSON
    bodies of accepted chat completion requests and of the completions sent
    back, in order; ``rejected`` records the requests rejected for their output
    mode. All methods are safe to call from any thread.
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        model: str = "standin-model",
        port: int = 0,
        supports: Collection[str] = OUTPUT_MODES,
    ) -> None:
        unknown = set(supports) - OUTPUT_MODES
        if unknown:
            raise ValueError(f"Unknown output modes {sorted(unknown)}: use any of {sorted(OUTPUT_MODES)}.")
        super().__init__(_Handler, port)
        self.api_key = api_key
        self.model = model
        self.supports = frozenset(supports)
        self.delay: float = 0.0
        self.requests: list[dict[str, Any]] = []
        self.responses: list[dict[str, Any]] = []
        self.rejected: list[dict[str, Any]] = []
        self._script: deque[Behaviour] = deque()
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._stopping = threading.Event()

    @property
    def base_url(self) -> str:
        return self.url + "/v1"

    def script(self, *responses: Behaviour) -> None:
        """Queue behaviours for the next accepted chat completion requests, one per request."""
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

    def _reject_request(self, request: dict[str, Any]) -> None:
        with self._lock:
            self.rejected.append(request)

    def _completion(self, request: dict[str, Any], reply: Reply) -> dict[str, Any]:
        """Build a chat.completion object for the reply and record it."""
        prompt_tokens = _count_prompt_tokens(request["messages"])
        completion_tokens = len((reply.content or reply.refusal or "").split())
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
                    "message": {"role": "assistant", "content": reply.content, "refusal": reply.refusal},
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
    response_format = request.get("response_format")
    if response_format is not None and not isinstance(response_format, dict):
        return "'response_format' must be an object."
    return request


def _output_mode(request: dict[str, Any]) -> str:
    """Return the output mode that the request's ``response_format`` selects."""
    response_format = request.get("response_format")
    if response_format is None:
        return "text"
    return str(response_format.get("type") or "text")


def _error_body(status: int, message: str | None = None, *, param: str | None = None) -> dict[str, Any]:
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
    return {"error": {"message": message, "type": error_type, "param": param, "code": code}}


def _unsupported_mode_error(mode: str) -> dict[str, Any]:
    if mode == "text":
        message = "Invalid parameter: 'response_format' is required, because this model only returns JSON."
    else:
        message = f"Invalid parameter: 'response_format' of type '{mode}' is not supported with this model."
    return _error_body(400, message, param="response_format")


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


def _sample_content(request: dict[str, Any]) -> str:
    """Return the sample draft as message content in the request's output mode."""
    parts = _sample_parts(request["messages"])
    response_format = request.get("response_format") or {}
    kind = response_format.get("type")
    if kind == "json_object":
        return draft_json(*parts)
    if kind == "json_schema":
        schema = (response_format.get("json_schema") or {}).get("schema") or {}
        return json.dumps(_fill_object(schema, parts))
    # Plain text separates thread parts with a blank line.
    return "\n\n".join(parts)


def _sample_parts(messages: list[dict[str, Any]]) -> list[str]:
    """Return the deterministic sample draft for the conversation, one string per part."""
    user_texts = [_message_text(message) for message in messages if message.get("role") == "user"]
    # A re-ask names only the problem, so the fields come from the first user
    # message that has them.
    content_type_name = _first_field(user_texts, "Content type")
    platform = _platform_from_label(_first_field(user_texts, "Platform"))
    topic = _first_field(user_texts, "Topic") or "our latest work"
    content_type = _content_type(content_type_name, platform)
    reask = any(message.get("role") == "assistant" for message in messages)

    if reask:
        templates: tuple[tuple[str, ...], ...] = (_SHORT_SAMPLES[content_type],)
    else:
        templates = _SAMPLES[content_type]
    digest = hashlib.sha256(f"{content_type}\n{topic}".encode()).digest()
    template = templates[digest[0] % len(templates)]

    for max_length in _TOPIC_LENGTHS:
        parts = [_capitalize(part.format(topic=_shorten(topic, max_length))) for part in template]
        if _fits(content_type, parts):
            return parts
    return [_capitalize(part.format(topic=_shorten(topic, _TOPIC_LENGTHS[-1]))) for part in template]


def _fits(content_type: ContentType | None, parts: list[str]) -> bool:
    """Return whether the sample passes every check of its content type, or of every platform without one."""
    if content_type is None:
        return all(check_text(platform, part).ok for platform in Platform for part in parts)
    return not prepare_draft(parts, DraftRules(content_type)).problems


def _content_type(name: str | None, platform: Platform | None) -> ContentType | None:
    """Return the named content type, else the single-post type of the platform, else None."""
    if name is not None:
        try:
            return ContentType(name.lower())
        except ValueError:
            pass
    if platform is not None:
        return default_content_type(platform)
    return None


def _capitalize(text: str) -> str:
    """Upper-case the first character only, so that the topic keeps its own case elsewhere."""
    return text[:1].upper() + text[1:]


def _first_field(texts: list[str], name: str) -> str | None:
    """Return the value of the first ``Name: value`` line in any of the texts, or None."""
    for text in texts:
        value = _field(text, name)
        if value is not None:
            return value
    return None


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


# Property names that receive the whole draft as one string in a schema without
# a ``parts`` array.
_TEXT_PROPERTY_HINTS = ("text", "post", "content")


def _fill_object(schema: dict[str, Any], parts: list[str] | None) -> dict[str, Any]:
    """Build an object with every required property of the schema.

    An array property named ``parts`` receives the draft's parts. The first
    string property without an enum whose name contains text, post or content
    (or else the first such string property, when there is no ``parts`` array)
    receives the parts joined by blank lines. Nullable properties get null, and
    the others an empty value of their type or their first enum value.
    """
    properties: dict[str, Any] = schema.get("properties") or {}
    names = list(schema.get("required") or properties)
    string_names = [
        name
        for name in names
        if "string" in _types(properties.get(name) or {}) and "enum" not in (properties.get(name) or {})
    ]
    hinted = [name for name in string_names if any(hint in name.lower() for hint in _TEXT_PROPERTY_HINTS)]
    has_parts = "parts" in names and "array" in _types(properties.get("parts") or {})
    text_target: str | None = None
    if hinted:
        text_target = hinted[0]
    elif string_names and not has_parts:
        text_target = string_names[0]

    result: dict[str, Any] = {}
    for name in names:
        if parts is not None and name == "parts" and has_parts:
            result[name] = parts
        elif parts is not None and name == text_target:
            result[name] = "\n\n".join(parts)
        else:
            result[name] = _empty_value(properties.get(name) or {})
    return result


def _types(schema: dict[str, Any]) -> list[str]:
    declared = schema.get("type")
    if isinstance(declared, list):
        return [str(item) for item in declared]
    if isinstance(declared, str):
        return [declared]
    any_of = schema.get("anyOf")
    if isinstance(any_of, list):
        return [kind for option in any_of if isinstance(option, dict) for kind in _types(option)]
    if "enum" in schema:
        return ["string"] if all(isinstance(item, str) for item in schema["enum"]) else []
    return []


def _empty_value(schema: dict[str, Any]) -> Any:
    types = _types(schema)
    if "null" in types:
        return None
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        return enum[0]
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

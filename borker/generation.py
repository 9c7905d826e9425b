"""Draft generation with an LLM through an OpenAI-compatible Chat Completions API.

Chat Completions is used because OpenAI, vLLM, Ollama and OpenRouter all serve
it. The SDK retries connection errors, timeouts, 408, 409, 429 and 5xx responses
itself (``max_retries``), so nothing here repeats a failed request. A request is
only sent again in a lower output mode after the server rejected the mode.

Output modes form a ladder: a strict JSON schema through
``chat.completions.parse``, then JSON mode with local validation, then plain
text. Each generator starts at the top (``output_mode="auto"``), steps down
when a server rejects a mode or ignores it, and starts later calls at the mode
that worked. ``drafting.prepare_draft`` cleans and checks every reply.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, get_args

import openai
import pydantic
from openai.types.chat import ChatCompletion, ChatCompletionMessageParam
from openai.types.completion_usage import CompletionUsage
from pydantic import BaseModel, ConfigDict, Field

from borker.drafting import (
    HASHTAG_CAPS,
    LINKEDIN_MAX_WORDS,
    LINKEDIN_MIN_WORDS,
    DraftCheck,
    DraftRules,
    prepare_draft,
)
from borker.errors import ConfigurationError, GenerationFailed
from borker.models import Platform
from borker.platforms import (
    FARCASTER_LONG_CAST_MAX_BYTES,
    FARCASTER_MAX_BYTES,
    X_MAX_WEIGHTED_LENGTH,
    ContentType,
    post_noun,
)
from borker.workspace import BrandVoice, VoiceAttributes

logger = logging.getLogger(__name__)

OutputMode = Literal["json_schema", "json_object", "text"]
OutputModeSetting = Literal["auto", "json_schema", "json_object", "text"]
# The fallback ladder, from the most to the least structured mode.
_LADDER: tuple[OutputMode, ...] = ("json_schema", "json_object", "text")

# Maximum number of characters of a server's error message repeated to the user.
_MAX_SERVER_MESSAGE = 300
# Maximum number of characters of the topic repeated in an error message.
_MAX_TOPIC_IN_MESSAGE = 80
# Recent posts shown to the model, and the characters kept of each. The
# near-duplicate check in prepare_draft still compares against every recent post.
_MAX_RECENT_POSTS = 5
_MAX_RECENT_POST_LENGTH = 280
# Example posts per platform in the system prompt.
_MAX_EXAMPLES = 3
# Posts requested for an X thread. split_thread packs the text into parts
# again, so the published count can differ.
_THREAD_MIN_POSTS = 3
_THREAD_MAX_POSTS = 8
# Weighted characters requested per thread post: the "i/n " numbering that
# split_thread adds takes 4 of the 280, and the rest is a safety margin.
_THREAD_POST_LENGTH = X_MAX_WEIGHTED_LENGTH - 10

# Words in a 400 or 422 error that show the server rejected the output mode.
_OUTPUT_MODE_WORDS = (
    "response_format",
    "response format",
    "json_schema",
    "json schema",
    "json_object",
    "json mode",
    "structured output",
)


# The SDK sends this docstring and the field descriptions to the model as part
# of the JSON schema, so they are written as instructions.
class DraftOutput(BaseModel):
    """A social media draft: the post text, its hashtags and a note for the reviewer."""

    model_config = ConfigDict(extra="forbid")

    parts: list[str] = Field(
        description="The post text: one item per post of a thread, in order, otherwise exactly one item."
    )
    hashtags: list[str] = Field(
        description="Hashtags for the post, each one word. Keep them out of parts, because Borker appends them."
    )
    notes: str | None = Field(description="A short note for the person who reviews the draft, or null.")


@dataclass(frozen=True)
class DraftRequest:
    """A request for one draft: the content type, the topic, and the brand and recent posts that shape it."""

    content_type: ContentType
    # The topic's title.
    topic: str
    angle: str = ""
    keywords: tuple[str, ...] = ()
    pool: str | None = None
    # None writes in a generic voice.
    brand: BrandVoice | None = None
    # Recent texts on the same platform, newest first, which the draft must not repeat.
    recent_posts: tuple[str, ...] = ()
    # None applies DraftRules(content_type) with the brand's hashtag policy.
    rules: DraftRules | None = None

    def __post_init__(self) -> None:
        if self.rules is not None and self.rules.content_type != self.content_type:
            raise ValueError(
                f"DraftRequest for {self.content_type} has rules for {self.rules.content_type}: "
                "pass DraftRules with the same content type."
            )


@dataclass
class GeneratedDraft:
    """A generated draft, the reason it cannot be approved (if any) and the cost of generating it."""

    text: str
    # The problems that prepare_draft found, joined with "; ", or None when the draft can be approved.
    problem: str | None
    model: str
    # Sums over every request for the draft, or None when a server omitted a count.
    prompt_tokens: int | None
    completion_tokens: int | None
    latency_ms: int
    # The texts that get published: the numbered thread parts, or [text] for one post.
    parts: list[str]
    warnings: list[str]
    # The output mode of the reply that became the draft.
    output_mode: OutputMode


@dataclass(frozen=True)
class _Reply:
    """One model reply, read in the output mode that produced it."""

    # Message content as received, sent back to the model in a re-ask.
    content: str
    # The input for prepare_draft, or None when a cut-off JSON reply has no readable text.
    draft: str | list[str] | None
    cut_off: bool
    mode: OutputMode
    model: str


@dataclass(frozen=True)
class _Attempt:
    """A reply with its prepared draft and the problems that stop its approval."""

    reply: _Reply
    # None when the reply has no readable text.
    check: DraftCheck | None
    problems: list[str]


@dataclass
class _Usage:
    """Token counts of every completion received for one draft."""

    prompt_tokens: list[int | None] = field(default_factory=list)
    completion_tokens: list[int | None] = field(default_factory=list)

    def add(self, usage: CompletionUsage | None) -> None:
        self.prompt_tokens.append(usage.prompt_tokens if usage is not None else None)
        self.completion_tokens.append(usage.completion_tokens if usage is not None else None)

    @property
    def completions(self) -> int:
        return len(self.prompt_tokens)


@dataclass
class _Conversation:
    """The messages for one draft, rendered for whichever output mode is in use.

    The reply-format instructions depend on the mode, so they are added to each
    user message when the messages are rendered. The system prompt does not
    depend on the mode, which keeps it a stable prefix for prompt caching.
    """

    system: str
    request: str
    content_type: ContentType
    # Pairs of a reply and the follow-up message that names its problems.
    reasks: list[tuple[str, str]] = field(default_factory=list)

    def messages(self, mode: OutputMode) -> list[ChatCompletionMessageParam]:
        reply_format = _reply_format(mode, self.content_type)
        messages: list[ChatCompletionMessageParam] = [
            {"role": "system", "content": self.system},
            {"role": "user", "content": f"{self.request}\n\n{reply_format}"},
        ]
        for reply, correction in self.reasks:
            messages.append({"role": "assistant", "content": reply})
            messages.append({"role": "user", "content": f"{correction}\n\n{reply_format}"})
        return messages


class _OutputModeFailed(Exception):
    """The server rejected the output mode of a request, or the reply does not fit the mode."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class DraftGenerator:
    """LLM client that writes one draft per call and checks it against the platform rules.

    ``timeout`` is in seconds per request. ``max_retries`` is handed to the SDK,
    which retries transient failures with exponential backoff. A ``base_url`` of
    None lets the SDK read OPENAI_BASE_URL, and fall back to OpenAI's own API.
    ``output_mode`` "auto" walks down the ladder json_schema, json_object, text;
    any other value uses only that mode. Safe to share between threads.
    """

    def __init__(
        self,
        *,
        base_url: str | None,
        api_key: str,
        model: str,
        timeout: float = 60.0,
        max_retries: int = 2,
        output_mode: OutputModeSetting = "auto",
    ) -> None:
        if not api_key:
            raise ConfigurationError(
                "OPENAI_API_KEY is empty. Set it to the LLM server's API key "
                "(any non-empty value for a server that ignores keys, such as Ollama)."
            )
        if not model:
            raise ConfigurationError("BORKER_LLM_MODEL is empty. Set it to a model that the LLM server provides.")
        if timeout <= 0:
            raise ConfigurationError(f"LLM timeout {timeout} is invalid: use a number of seconds above 0.")
        if output_mode not in get_args(OutputModeSetting):
            raise ConfigurationError(
                f"LLM output mode {output_mode!r} is invalid: use auto, json_schema, json_object or text."
            )
        self.model = model
        self.timeout = float(timeout)
        self.max_retries = max_retries
        self.output_mode: OutputModeSetting = output_mode
        self._mode: OutputMode = "json_schema" if output_mode == "auto" else output_mode
        self._mode_lock = threading.Lock()
        self._client = openai.OpenAI(
            base_url=base_url,
            api_key=api_key,
            timeout=self.timeout,
            max_retries=max_retries,
        )
        self.base_url = str(self._client.base_url).rstrip("/")

    @property
    def current_mode(self) -> OutputMode:
        """The output mode that the next request starts with."""
        with self._mode_lock:
            return self._mode

    def generate(self, request: DraftRequest) -> GeneratedDraft:
        """Generate one draft for the request and check it with ``prepare_draft``.

        A draft with problems is sent back to the model once, with the exact
        problems. When the second reply still has problems, it is returned with
        ``problem`` set, so that it can be shown but not approved. Raises
        GenerationFailed when the server fails, the model refuses or returns no
        draft, or every output mode is rejected.
        """
        topic = " ".join(request.topic.split())
        if not topic:
            raise GenerationFailed("No draft was generated because the topic is empty. Enter a topic and try again.")

        content_type = request.content_type
        brand = request.brand or BrandVoice()
        rules = request.rules or DraftRules(content_type, hashtag_policy=brand.hashtags)
        conversation = _Conversation(
            system=_system_prompt(brand, content_type.platform, rules),
            request=_user_prompt(request, topic, rules),
            content_type=content_type,
        )
        usage = _Usage()
        started = time.monotonic()

        first = self._attempt(conversation, usage, request=request, rules=rules, topic=topic)
        attempts = [first]
        if first.problems:
            logger.info("LLM draft for %s needs a rewrite: %s", content_type.value, "; ".join(first.problems))
            correction = _correction(_draft_noun(content_type), first.problems, cut_off=first.reply.cut_off)
            conversation.reasks.append((first.reply.content, correction))
            try:
                attempts.append(self._attempt(conversation, usage, request=request, rules=rules, topic=topic))
            except GenerationFailed as error:
                if first.check is None:
                    raise
                # The first draft is still worth showing, flagged with its problems.
                logger.warning("LLM rewrite for %s failed, keeping the first draft: %s", content_type.value, error)

        final = next((attempt for attempt in reversed(attempts) if attempt.check is not None), None)
        if final is None or final.check is None:
            raise GenerationFailed(
                f"Model '{self.model}' reached its output token limit twice before finishing the "
                f"{_draft_noun(content_type)} about '{_shorten(topic, _MAX_TOPIC_IN_MESSAGE)}'. "
                "Try again, or set BORKER_LLM_MODEL to a model with a larger output limit."
            )

        latency_ms = round((time.monotonic() - started) * 1000)
        draft = GeneratedDraft(
            text=final.check.text,
            problem="; ".join(final.problems) or None,
            model=final.reply.model,
            prompt_tokens=_sum_tokens(usage.prompt_tokens),
            completion_tokens=_sum_tokens(usage.completion_tokens),
            latency_ms=latency_ms,
            parts=final.check.parts,
            warnings=final.check.warnings,
            output_mode=final.reply.mode,
        )
        logger.info(
            "Generated %s draft with %s in %s mode in %d ms from %d completion(s): "
            "%s prompt and %s completion tokens, problem: %s",
            content_type.value,
            draft.model,
            draft.output_mode,
            latency_ms,
            usage.completions,
            draft.prompt_tokens,
            draft.completion_tokens,
            draft.problem,
        )
        return draft

    def _attempt(
        self, conversation: _Conversation, usage: _Usage, *, request: DraftRequest, rules: DraftRules, topic: str
    ) -> _Attempt:
        """Request one reply and prepare its draft. Raises GenerationFailed when the reply is empty."""
        noun = _draft_noun(request.content_type)
        reply = self._ask(conversation, usage, noun=noun, topic=topic)
        cut_off_problem = f"{noun} was cut off because the model reached its output token limit"

        check = prepare_draft(reply.draft, rules, recent=request.recent_posts) if reply.draft is not None else None
        if check is None or not check.text:
            if reply.cut_off:
                return _Attempt(reply=reply, check=None, problems=[cut_off_problem])
            raise GenerationFailed(
                f"Model '{self.model}' returned an empty {noun}. "
                "Try again, or set BORKER_LLM_MODEL to another model."
            )

        problems = [cut_off_problem] if reply.cut_off else []
        problems.extend(check.problems)
        return _Attempt(reply=reply, check=check, problems=problems)

    def _ask(self, conversation: _Conversation, usage: _Usage, *, noun: str, topic: str) -> _Reply:
        """Send the conversation in the current output mode, stepping down the ladder while a mode fails."""
        mode = self.current_mode
        while True:
            try:
                return self._send(conversation.messages(mode), mode, usage, noun=noun, topic=topic)
            except _OutputModeFailed as failure:
                fallback = self._fallback(mode)
                if fallback is None:
                    raise GenerationFailed(
                        f"Model '{self.model}' at {self.base_url} returned no usable {mode} output: "
                        f"{failure.reason}. Use output_mode 'auto' so that Borker falls back to a mode that "
                        "the server and the model support."
                    ) from failure
                logger.warning(
                    "LLM %s output failed at %s (%s), falling back to %s",
                    mode,
                    self.base_url,
                    failure.reason,
                    fallback,
                )
                self._remember(fallback)
                mode = fallback

    def _fallback(self, mode: OutputMode) -> OutputMode | None:
        if self.output_mode != "auto" or mode == _LADDER[-1]:
            return None
        return _LADDER[_LADDER.index(mode) + 1]

    def _remember(self, mode: OutputMode) -> None:
        # Only steps down: a request that started in a higher mode before
        # another thread stepped down must not undo that step.
        with self._mode_lock:
            if _LADDER.index(mode) > _LADDER.index(self._mode):
                self._mode = mode

    def _send(
        self, messages: list[ChatCompletionMessageParam], mode: OutputMode, usage: _Usage, *, noun: str, topic: str
    ) -> _Reply:
        """Send one chat completion request in the output mode and read the reply.

        Raises _OutputModeFailed when the server rejects the mode with a 400 or
        422 error about it, or returns content that does not fit the mode.
        """
        parsed: DraftOutput | None = None
        try:
            if mode == "json_schema":
                completion, parsed = self._parse(messages, usage)
            elif mode == "json_object":
                completion = self._client.chat.completions.create(
                    model=self.model, messages=messages, response_format={"type": "json_object"}
                )
            else:
                completion = self._client.chat.completions.create(model=self.model, messages=messages)
        except openai.APIStatusError as error:
            if mode != "text" and _rejects_output_mode(error):
                raise _OutputModeFailed(f"HTTP {error.status_code}: {_server_message(error)}") from error
            logger.warning("LLM request to %s failed: %s", self.base_url, type(error).__name__)
            raise self._failure(error) from error
        except openai.APIError as error:
            logger.warning("LLM request to %s failed: %s", self.base_url, type(error).__name__)
            raise self._failure(error) from error
        return self._read(completion, parsed, mode, usage, noun=noun, topic=topic)

    def _parse(
        self, messages: list[ChatCompletionMessageParam], usage: _Usage
    ) -> tuple[ChatCompletion, DraftOutput | None]:
        """Send a strict JSON schema request and return the completion with its parsed draft.

        The raw response is kept because the SDK raises before returning the
        completion when the content is cut off, filtered or invalid, and the
        completion's usage still counts.
        """
        raw = self._client.chat.completions.with_raw_response.parse(
            model=self.model, messages=messages, response_format=DraftOutput
        )
        try:
            completion = raw.parse()
        except (openai.LengthFinishReasonError, openai.ContentFilterFinishReasonError) as error:
            # _read reports both from the finish reason.
            if error.completion is not None:
                return error.completion, None
            raise GenerationFailed(f"The LLM server at {self.base_url} returned an unreadable response. Try again.") from error
        except pydantic.ValidationError:
            # _read parses the content again and reports it as invalid.
            try:
                return ChatCompletion.model_validate(raw.http_response.json()), None
            except ValueError as error:
                usage.add(None)
                raise _OutputModeFailed("the response is not a valid chat completion") from error

        message = completion.choices[0].message if completion.choices else None
        return completion, message.parsed if message is not None else None

    def _read(
        self,
        completion: ChatCompletion,
        parsed: DraftOutput | None,
        mode: OutputMode,
        usage: _Usage,
        *,
        noun: str,
        topic: str,
    ) -> _Reply:
        usage.add(completion.usage)
        short_topic = _shorten(topic, _MAX_TOPIC_IN_MESSAGE)
        if not completion.choices:
            raise GenerationFailed(
                f"Model '{self.model}' returned no output for the {noun}. "
                "Try again, or set BORKER_LLM_MODEL to another model."
            )

        choice = completion.choices[0]
        if choice.message.refusal:
            refusal = _shorten(" ".join(choice.message.refusal.split()), _MAX_SERVER_MESSAGE)
            raise GenerationFailed(
                f"The model refused to write the {noun} about '{short_topic}' and replied: \"{refusal}\" "
                "Rephrase the topic and try again."
            )
        if choice.finish_reason == "content_filter":
            raise GenerationFailed(
                f"The LLM server's content filter blocked the {noun} about '{short_topic}'. "
                "Rephrase the topic and try again."
            )

        content = choice.message.content or ""
        cut_off = choice.finish_reason == "length"
        if not content.strip() and not cut_off:
            raise GenerationFailed(
                f"Model '{self.model}' returned an empty {noun}. Try again, or set BORKER_LLM_MODEL to another model."
            )

        model = completion.model or self.model
        if mode == "text":
            return _Reply(content=content, draft=content, cut_off=cut_off, mode=mode, model=model)

        output = parsed if parsed is not None else _parse_output(content)
        if output is None:
            if cut_off:
                return _Reply(content=content, draft=None, cut_off=True, mode=mode, model=model)
            raise _OutputModeFailed("the reply is not a JSON object with the fields parts, hashtags and notes")
        if output.notes:
            logger.debug("Model note on the %s draft: %s", noun, output.notes)
        return _Reply(content=content, draft=_draft_parts(output), cut_off=cut_off, mode=mode, model=model)

    def _failure(self, error: openai.APIError) -> GenerationFailed:
        """Translate an SDK error into a message that names the setting to fix.

        The API key is never part of the message. Messages from the server are
        left out for 401 responses, because OpenAI's shows the start and the end of the key.
        """
        server = f"The LLM server at {self.base_url}"
        retried = f" after up to {self.max_retries} retries" if self.max_retries > 0 else ""

        if isinstance(error, openai.APITimeoutError):
            return GenerationFailed(
                f"{server} did not respond within {self.timeout:g} seconds{retried}. "
                "Check that it is running and that OPENAI_BASE_URL points to it, or allow a longer timeout."
            )
        if isinstance(error, openai.APIConnectionError):
            cause = error.__cause__ or error
            return GenerationFailed(
                f"Could not connect to the LLM server at {self.base_url}{retried}: {cause}. "
                "Check OPENAI_BASE_URL and that the server is running."
            )
        if isinstance(error, openai.AuthenticationError):
            return GenerationFailed(
                f"{server} rejected the API key (HTTP 401). Set OPENAI_API_KEY to a valid key for that server."
            )
        if isinstance(error, openai.PermissionDeniedError):
            return GenerationFailed(
                f"{server} denied access to model '{self.model}' (HTTP 403). Check that the key in "
                "OPENAI_API_KEY may use that model, or set BORKER_LLM_MODEL to another one."
            )
        if isinstance(error, openai.RateLimitError):
            if error.code == "insufficient_quota":
                return GenerationFailed(
                    f"The account behind OPENAI_API_KEY has no quota left at {self.base_url} "
                    "(HTTP 429, insufficient_quota). Add credit to the account or use another key."
                )
            return GenerationFailed(
                f"{server} is rate-limiting requests (HTTP 429){retried}. Wait a minute and try again."
            )
        if isinstance(error, openai.NotFoundError):
            detail = _server_message(error)
            if error.code == "model_not_found" or "model" in detail.lower():
                return GenerationFailed(
                    f"Model '{self.model}' not found at {self.base_url}. "
                    "Set BORKER_LLM_MODEL to a model that the server lists under /models."
                )
            return GenerationFailed(
                f"{server} returned HTTP 404 for /chat/completions. "
                "Check that OPENAI_BASE_URL includes the API prefix, usually /v1."
            )
        if isinstance(error, openai.APIStatusError):
            detail = _server_message(error)
            if error.status_code >= 500:
                return GenerationFailed(
                    f"{server} failed with HTTP {error.status_code}{retried}: {detail.rstrip('.')}. Try again later."
                )
            return GenerationFailed(
                f"{server} rejected the request with HTTP {error.status_code}: {detail.rstrip('.')}. "
                f"Check that model '{self.model}' (BORKER_LLM_MODEL) supports chat completions."
            )
        return GenerationFailed(f"{server} returned a response that Borker could not read: {error.message}")


# Prompts


# Words for the 1 to 5 values of each voice attribute.
_VOICE_WORDS: dict[str, tuple[str, dict[int, str]]] = {
    "formality": (
        "Formality",
        {1: "very casual", 2: "casual", 3: "neither casual nor formal", 4: "formal", 5: "very formal"},
    ),
    "friendliness": (
        "Friendliness",
        {1: "reserved", 2: "matter-of-fact", 3: "friendly", 4: "warm", 5: "very warm and enthusiastic"},
    ),
    "brevity": (
        "Brevity",
        {1: "expansive, with room for detail", 2: "detailed", 3: "balanced", 4: "concise", 5: "as short as possible"},
    ),
    "technical_depth": (
        "Technical depth",
        {
            1: "no jargon, for a general audience",
            2: "light on technical detail",
            3: "some technical detail",
            4: "technical",
            5: "deeply technical, for experts",
        },
    ),
}

_EMOJI_RULES = {
    "none": "Use no emoji.",
    "sparing": "Use at most one or two emoji, and only where they add meaning.",
    "free": "Use emoji where they fit the voice.",
}

_WRITING_RULES = """Rules for every answer:
- Write plain text. No Markdown: no **bold**, no headings, no bullet markers, no [text](url) links.
- No preamble such as "Here is your post", no closing remarks and no quotes around the post.
- No placeholders such as [link], [Company Name] or {date}. Leave out anything you do not know.
- Avoid filler phrases such as "delve into", "in today's fast-paced world" and "game-changer".
- Stay within the length limit you are given. A post that is one character over the limit is rejected."""


def _system_prompt(brand: BrandVoice, platform: Platform, rules: DraftRules) -> str:
    """Build the system prompt: the same text for every draft of one brand, platform and set of rules."""
    sections = [
        _identity(brand, platform),
        _voice(brand.voice_for(platform.value), platform),
        _house_rules(brand, platform, rules),
        _examples(brand, platform),
        _WRITING_RULES,
    ]
    return "\n\n".join(section for section in sections if section)


def _identity(brand: BrandVoice, platform: Platform) -> str:
    writer = brand.name or "a company"
    lines = [f"You write {post_noun(platform)}s for {writer}."]
    if brand.mission:
        lines.append(f"Mission: {brand.mission}")
    if brand.audience:
        lines.append(f"Audience: {brand.audience}")
    return "\n".join(lines)


def _voice(attributes: VoiceAttributes, platform: Platform) -> str:
    lines = [f"Voice on {platform.label}:"]
    for name, (label, words) in _VOICE_WORDS.items():
        value = getattr(attributes, name)
        lines.append(f"- {label}: {words[value]} ({value}/5)")
    return "\n".join(lines)


def _house_rules(brand: BrandVoice, platform: Platform, rules: DraftRules) -> str:
    lines: list[str] = []
    if brand.principles:
        lines.append("Writing principles:")
        lines.extend(f"- {principle}" for principle in brand.principles)
    if brand.terms_to_use:
        lines.append(f"Use these terms where they fit: {', '.join(brand.terms_to_use)}.")
    if brand.terms_to_avoid:
        lines.append(f"Never use these terms: {', '.join(brand.terms_to_avoid)}.")
    lines.append(_EMOJI_RULES[brand.emoji])
    lines.append(_hashtag_rule(platform, rules))
    if not rules.link_configured:
        lines.append('Do not refer to a link that you were not given, and never write "link in bio".')
    return "\n".join(lines)


def _hashtag_rule(platform: Platform, rules: DraftRules) -> str:
    cap = HASHTAG_CAPS[rules.hashtag_policy][platform]
    if cap == 0:
        return "Use no hashtags."
    rule = f"Use at most {cap} hashtags, and only ones that help people find the post."
    if rules.allowed_hashtags is not None:
        allowed = ", ".join(f"#{tag}" for tag in sorted(rules.allowed_hashtags))
        rule += f" Choose them only from this list: {allowed}."
    return rule


def _examples(brand: BrandVoice, platform: Platform) -> str:
    examples = [example.strip() for example in brand.examples.get(platform.value, []) if example.strip()]
    if not examples:
        return ""
    lines = [f"Example {platform.label} posts in this voice. Match their voice and format, not their content."]
    for number, example in enumerate(examples[:_MAX_EXAMPLES], start=1):
        lines.append(f"Example {number}:\n{example}")
    return "\n\n".join(lines)


def _user_prompt(request: DraftRequest, topic: str, rules: DraftRules) -> str:
    """Build the request for one draft.

    The "Platform:", "Content type:" and "Topic:" lines are a fixed format that
    the loopback stand-in reads to pick its sample draft.
    """
    content_type = request.content_type
    lines = [
        f"Platform: {content_type.platform.label}",
        f"Content type: {content_type.value}",
        f"Format: {_format_instructions(content_type, rules)}",
        f"Topic: {topic}",
    ]
    angle = " ".join(request.angle.split())
    if angle:
        lines.append(f"Angle: {angle}")
    keywords = [" ".join(keyword.split()) for keyword in request.keywords if keyword.strip()]
    if keywords:
        lines.append(f"Keywords: {', '.join(keywords)}")
    if request.pool:
        lines.append(f"Topic pool: {request.pool}")

    task = f"Write one {_draft_noun(content_type)} about the topic"
    if angle:
        task += ", making the argument of the angle"
    if keywords:
        task += ", using the keywords where they fit naturally"
    sections = ["\n".join(lines), task + "."]

    recent = [" ".join(post.split()) for post in request.recent_posts if post.strip()]
    if recent:
        listed = [f"- {_shorten(post, _MAX_RECENT_POST_LENGTH)}" for post in recent[:_MAX_RECENT_POSTS]]
        sections.append("Recent posts on this platform, newest first. Do not repeat them:\n" + "\n".join(listed))
    return "\n\n".join(sections)


def _format_instructions(content_type: ContentType, rules: DraftRules) -> str:
    if content_type is ContentType.X_POST:
        return (
            f"One post of at most {X_MAX_WEIGHTED_LENGTH} weighted characters. X counts every link as 23 "
            "characters and every emoji or CJK character as 2, so stay well under the limit."
        )
    if content_type is ContentType.X_THREAD:
        return (
            f"A thread of {_THREAD_MIN_POSTS} to {_THREAD_MAX_POSTS} posts. The first post is the hook and the last "
            f"one is a call to action. Each post has at most {_THREAD_POST_LENGTH} weighted characters, counted "
            "as on X. Do not number the posts or add a thread emoji, because Borker numbers them."
        )
    if content_type is ContentType.LINKEDIN_POST:
        return (
            f"One post of {LINKEDIN_MIN_WORDS} to {LINKEDIN_MAX_WORDS} words. Put the hook in the first two lines, "
            'which LinkedIn shows before "see more". Use short paragraphs separated by blank lines.'
        )
    limit = FARCASTER_LONG_CAST_MAX_BYTES if rules.long_casts else FARCASTER_MAX_BYTES
    return (
        f"One cast of at most {limit:,} bytes of UTF-8: an ASCII character is 1 byte, an accented letter 2 and "
        "an emoji 4. Web3-native and plain: no hype and no marketing speak."
    )


def _reply_format(mode: OutputMode, content_type: ContentType) -> str:
    if content_type is ContentType.X_THREAD:
        parts_rule = "one item per post of the thread, in order"
    else:
        parts_rule = "exactly one item with the whole post"
    if mode == "json_schema":
        return (
            f'Answer in the JSON schema you were given: the post text in "parts" ({parts_rule}), hashtags only '
            'in "hashtags" and never in the post text, and a short note for the reviewer in "notes", or null.'
        )
    if mode == "json_object":
        return (
            "Answer with one JSON object and nothing else. It has exactly these keys: "
            f'"parts", an array of strings with the post text ({parts_rule}); '
            '"hashtags", an array of hashtags, kept out of the post text; '
            '"notes", a short note for the reviewer, or null. '
            'Example: {"parts": ["..."], "hashtags": [], "notes": null}'
        )
    if content_type is ContentType.X_THREAD:
        return (
            "Answer with the text of the thread only: its posts in order, separated by a blank line. "
            "Put hashtags, if any, at the end of the last post."
        )
    return "Answer with the post text only. Put hashtags, if any, on the last line."


def _correction(noun: str, problems: list[str], *, cut_off: bool) -> str:
    """Build the follow-up message that names every problem of the reply."""
    lines = [f"Your {noun} cannot be published as it is:"]
    lines.extend(f"- {problem}" for problem in problems)
    request = "Write it again and fix every problem above. Keep the topic, the angle and the voice."
    if cut_off:
        request += " Make it shorter, so that it is complete."
    lines.append(request)
    return "\n".join(lines)


def _draft_noun(content_type: ContentType) -> str:
    """Return what a draft of the content type is called, such as "X thread" or "Farcaster cast"."""
    if content_type is ContentType.X_THREAD:
        return "X thread"
    return post_noun(content_type.platform)


# Replies


def _parse_output(content: str) -> DraftOutput | None:
    """Validate JSON content against DraftOutput, or return None when it does not match."""
    try:
        return DraftOutput.model_validate_json(content)
    except pydantic.ValidationError:
        return None


def _draft_parts(output: DraftOutput) -> list[str]:
    """Return the parts with the hashtags as one last line, which prepare_draft then caps.

    A reply without text gives no parts, so that its hashtags alone do not
    pass for a draft.
    """
    parts = [part for part in output.parts if part.strip()]
    if not parts:
        return []
    tags = ["#" + "".join(tag.split()).lstrip("#") for tag in output.hashtags]
    tags = [tag for tag in tags if len(tag) > 1]
    if tags:
        parts.append(" ".join(tags))
    return parts


def _rejects_output_mode(error: openai.APIStatusError) -> bool:
    """Return whether a 400 or 422 error is about the requested output mode."""
    if error.status_code not in (400, 422):
        return False
    # The SDK's message contains the whole error body, and ``param`` names the
    # rejected parameter where the server sets it.
    message = f"{error.message} {error.param or ''}".lower()
    return any(word in message for word in _OUTPUT_MODE_WORDS)


def _sum_tokens(counts: Sequence[int | None]) -> int | None:
    # A partial sum would understate the cost, so one missing count makes the total unknown.
    if any(count is None for count in counts):
        return None
    return sum(count for count in counts if count is not None)


def _server_message(error: openai.APIStatusError) -> str:
    """Return the server's own error message, shortened, or the status line when there is none."""
    body = error.body
    message: object = None
    if isinstance(body, dict):
        message = body.get("message") or body.get("error")
    elif isinstance(body, str):
        message = body
    if not isinstance(message, str) or not message.strip():
        return f"no error message (HTTP {error.status_code})"
    return _shorten(" ".join(message.split()), _MAX_SERVER_MESSAGE)


def _shorten(text: str, max_length: int) -> str:
    if len(text) <= max_length:
        return text
    return text[: max_length - 3].rstrip() + "..."


def clean_model_output(text: str) -> str:
    """Remove the wrapping that models put around a post, with ``drafting.clean_output``."""
    from borker import drafting

    return drafting.clean_output(text)

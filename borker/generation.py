"""Draft generation with an LLM through an OpenAI-compatible Chat Completions API.

Chat Completions is used because OpenAI, vLLM, Ollama and OpenRouter all serve
it. The SDK retries connection errors, timeouts, 408, 409, 429 and 5xx responses
itself (``max_retries``), so nothing here retries a failed request again.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass

import openai
from openai.types.chat import ChatCompletion, ChatCompletionMessageParam

from borker.errors import ConfigurationError, GenerationFailed
from borker.models import Platform
from borker.platforms import canonicalize, check_text, post_noun, text_limit

logger = logging.getLogger(__name__)

# Maximum number of characters of a server's error message repeated to the user.
_MAX_SERVER_MESSAGE = 300
# Maximum number of characters of the topic repeated in an error message.
_MAX_TOPIC_IN_MESSAGE = 80


@dataclass
class GeneratedDraft:
    """A generated post, the reason it cannot be approved (if any) and the cost of generating it."""

    text: str
    problem: str | None
    model: str
    prompt_tokens: int | None
    completion_tokens: int | None
    latency_ms: int


@dataclass(frozen=True)
class _ModelOutput:
    """One model response: the content as received and the cleaned, canonical text."""

    content: str
    text: str
    model: str
    finish_reason: str
    prompt_tokens: int | None
    completion_tokens: int | None


@dataclass(frozen=True)
class _Review:
    """Reason an output cannot be approved, as a draft problem and as a rewrite request to the model."""

    problem: str | None
    correction: str | None


class DraftGenerator:
    """LLM client that writes one post per call and checks it against the platform rules.

    ``timeout`` is in seconds per request. ``max_retries`` is handed to the SDK,
    which retries transient failures with exponential backoff. A ``base_url`` of
    None lets the SDK read OPENAI_BASE_URL, and fall back to OpenAI's own API.
    """

    def __init__(
        self,
        *,
        base_url: str | None,
        api_key: str,
        model: str,
        timeout: float = 60.0,
        max_retries: int = 2,
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
        self.model = model
        self.timeout = float(timeout)
        self.max_retries = max_retries
        self._client = openai.OpenAI(
            base_url=base_url,
            api_key=api_key,
            timeout=self.timeout,
            max_retries=max_retries,
        )
        self.base_url = str(self._client.base_url).rstrip("/")

    def generate(self, *, platform: Platform, topic: str, brand: str | None = None) -> GeneratedDraft:
        """Generate one post about the topic and check it against the platform's limits.

        A draft that breaks a rule is sent back to the model once with the exact
        problem. When the second output still breaks a rule, the draft is returned
        with ``problem`` set, so that it can be shown but not approved.
        Raises GenerationFailed when the server fails or the model returns no post.
        """
        topic = " ".join(topic.split())
        if not topic:
            raise GenerationFailed("No draft was generated because the topic is empty. Enter a topic and try again.")

        messages: list[ChatCompletionMessageParam] = [
            {"role": "system", "content": _system_prompt(platform, brand)},
            {"role": "user", "content": _user_prompt(platform, topic)},
        ]
        started = time.monotonic()
        outputs = [self._ask(messages, platform=platform, topic=topic)]
        review = _review(platform, outputs[0])

        if review.correction is not None:
            logger.info("LLM draft for %s needs a rewrite: %s", platform.value, review.problem)
            messages.append({"role": "assistant", "content": outputs[0].content})
            messages.append({"role": "user", "content": review.correction})
            try:
                outputs.append(self._ask(messages, platform=platform, topic=topic))
            except GenerationFailed as error:
                # The first draft is still worth showing, flagged with its problem.
                logger.warning("LLM rewrite for %s failed, keeping the first draft: %s", platform.value, error)
            else:
                review = _review(platform, outputs[-1])

        latency_ms = round((time.monotonic() - started) * 1000)
        final = outputs[-1]
        draft = GeneratedDraft(
            text=final.text,
            problem=review.problem,
            model=final.model,
            prompt_tokens=_sum_tokens([output.prompt_tokens for output in outputs]),
            completion_tokens=_sum_tokens([output.completion_tokens for output in outputs]),
            latency_ms=latency_ms,
        )
        logger.info(
            "Generated %s draft with %s in %d ms after %d request(s): %s prompt and %s completion tokens, problem: %s",
            platform.value,
            draft.model,
            latency_ms,
            len(outputs),
            draft.prompt_tokens,
            draft.completion_tokens,
            draft.problem,
        )
        return draft

    def _ask(self, messages: list[ChatCompletionMessageParam], *, platform: Platform, topic: str) -> _ModelOutput:
        """Send one chat completion request and return the cleaned output."""
        try:
            completion = self._client.chat.completions.create(model=self.model, messages=messages)
        except openai.APIError as error:
            logger.warning("LLM request to %s failed: %s", self.base_url, type(error).__name__)
            raise self._failure(error) from error
        return self._read_output(completion, platform=platform, topic=topic)

    def _read_output(self, completion: ChatCompletion, *, platform: Platform, topic: str) -> _ModelOutput:
        label = platform.label
        short_topic = _shorten(topic, _MAX_TOPIC_IN_MESSAGE)
        if not completion.choices:
            raise GenerationFailed(
                f"Model '{self.model}' returned no output for the {label} post. "
                "Try again, or set BORKER_LLM_MODEL to another model."
            )

        choice = completion.choices[0]
        if choice.message.refusal:
            refusal = _shorten(" ".join(choice.message.refusal.split()), _MAX_SERVER_MESSAGE)
            raise GenerationFailed(
                f"The model refused to write the {label} post about '{short_topic}' and replied: \"{refusal}\" "
                "Rephrase the topic and try again."
            )
        if choice.finish_reason == "content_filter":
            raise GenerationFailed(
                f"The LLM server's content filter blocked the {label} post about '{short_topic}'. "
                "Rephrase the topic and try again."
            )

        content = choice.message.content or ""
        text = canonicalize(clean_model_output(content))
        if not text:
            raise GenerationFailed(
                f"Model '{self.model}' returned an empty {label} post. "
                "Try again, or set BORKER_LLM_MODEL to another model."
            )

        usage = completion.usage
        return _ModelOutput(
            content=content,
            text=text,
            model=completion.model or self.model,
            finish_reason=choice.finish_reason,
            prompt_tokens=usage.prompt_tokens if usage is not None else None,
            completion_tokens=usage.completion_tokens if usage is not None else None,
        )

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
                    f"{server} failed with HTTP {error.status_code}{retried}: {detail}. Try again later."
                )
            return GenerationFailed(
                f"{server} rejected the request with HTTP {error.status_code}: {detail}. "
                f"Check that model '{self.model}' (BORKER_LLM_MODEL) supports chat completions."
            )
        return GenerationFailed(f"{server} returned a response that Borker could not read: {error.message}")


def _system_prompt(platform: Platform, brand: str | None) -> str:
    limit = text_limit(platform)
    writer = f"You write social media posts for {brand}." if brand else "You write social media posts for a company."
    lines = [
        writer,
        f"Write exactly one {platform.label} post about the topic you are given.",
        f"The post must be at most {limit.limit:,} {limit.unit}. "
        "Stay well under that limit, because a post that is even one over is rejected.",
        _PLATFORM_HINTS[platform],
        "Plain text only, no Markdown, no hashtags unless asked, no preamble.",
        "Reply with the post text only: no quotes around it, no explanation, no alternatives.",
    ]
    return "\n".join(lines)


_PLATFORM_HINTS = {
    Platform.X: "X counts every link as 23 characters and every emoji or CJK character as 2.",
    Platform.LINKEDIN: "Put the hook in the first two lines, which LinkedIn shows before 'see more'.",
    Platform.FARCASTER: (
        "Farcaster counts UTF-8 bytes: a plain ASCII character is 1 byte, an accented letter 2, an emoji 4."
    ),
}


def _user_prompt(platform: Platform, topic: str) -> str:
    # The "Platform:" and "Topic:" lines are a fixed format that the loopback
    # stand-in reads to pick its sample post.
    return f"Platform: {platform.label}\nTopic: {topic}\n\nWrite the {post_noun(platform)} now."


def _review(platform: Platform, output: _ModelOutput) -> _Review:
    """Find the first reason the output cannot be approved, with a rewrite request for the model."""
    noun = post_noun(platform)
    if output.finish_reason == "length":
        return _Review(
            problem=f"{noun} was cut off because the model reached its output token limit",
            correction="Your post was cut off. Write the complete post again, shorter, and reply with the post only.",
        )

    check = check_text(platform, output.text)
    if check.problem is not None:
        if check.length > check.limit:
            correction = (
                f"Your post is {check.length:,} {check.unit}, but {platform.label} allows at most "
                f"{check.limit:,}. Rewrite it shorter and reply with the post only."
            )
        else:
            correction = f"Your post cannot be published: {check.problem}. Rewrite it and reply with the post only."
        return _Review(problem=check.problem, correction=correction)

    placeholder = _PLACEHOLDER.search(output.text)
    if placeholder is not None:
        return _Review(
            problem=f"{noun} contains the placeholder {placeholder.group()}",
            correction=(
                f"Your post contains the placeholder {placeholder.group()}. Rewrite it without placeholders, "
                "leaving out anything you do not know, and reply with the post only."
            ),
        )
    return _Review(problem=None, correction=None)


def _sum_tokens(counts: list[int | None]) -> int | None:
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


# Output hygiene: models wrap posts in fences, quotes, preambles and Markdown
# although the prompt requests plain text. Each pattern below only matches the
# wrapping, so that a post that merely starts with "Here's" or ends with a
# "Let me know" call to action is left alone.

_FENCE_LINE = re.compile(r"^[ \t]*(?:```|~~~)[\w+-]*[ \t]*$", re.MULTILINE)
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_HEADING = re.compile(r"^#{1,6}[ \t]+", re.MULTILINE)
_RULE_LINE = re.compile(r"^[ \t]*(?:-{3,}|\*{3,}|_{3,})[ \t]*$", re.MULTILINE)
_MARKDOWN_LINK = re.compile(r"\[([^\]\n]+)\]\((https?://[^)\s]+)\)")
_AUTOLINK = re.compile(r"<(https?://[^>\s]+)>")

# Words that mark a line as talk about the post rather than part of it.
_ABOUT_THE_POST = re.compile(r"\b(?:post|draft|tweet|cast|version|caption|rewrite|rewritten)s?\b(?!-)", re.IGNORECASE)
_HERE_LINE = re.compile(r"^here(?:'s|’s| is| are)\b", re.IGNORECASE)
_ACKNOWLEDGEMENT_LINE = re.compile(
    r"^(?:sure|certainly|of course|absolutely|okay|ok|got it|great)\b", re.IGNORECASE
)
_BARE_ACKNOWLEDGEMENT = re.compile(
    r"^(?:sure|certainly|of course|absolutely|okay|ok|got it|great)(?: thing)?[.!,]*$", re.IGNORECASE
)
_LABEL_PREFIX = re.compile(
    r"^(?:(?:final |revised |shorter |new )?(?:draft|post|tweet|cast)|(?:x|linkedin|farcaster) (?:post|cast))"
    r"(?: ?\d+)?[ \t]*:[ \t]*",
    re.IGNORECASE,
)
_POSTAMBLE_LINE = re.compile(
    r"^\(?(?:let me know if (?:you(?:'d|’d| would)? (?:like|want|need|prefer)|(?:this|that|it) (?:works|helps)|"
    r"any|there|i should)|i hope this\b|hope this helps|feel free to (?:ask|adjust|edit|modify|tweak|let me know)|"
    r"would you like\b|do you want me\b|want me to\b|shall i\b|if you(?:'d|’d| would)? (?:like|want|need|prefer)\b|"
    r"i can (?:also )?(?:adjust|make|write|shorten|tweak|provide)\b|(?:character|word) count\b)",
    re.IGNORECASE,
)
_QUOTE_PAIRS = (('"', '"'), ("“", "”"), ("«", "»"), ("'", "'"), ("‘", "’"))
# A quote mark with a letter on both sides is an apostrophe ("don't"), not a quote.
_NON_APOSTROPHE = {
    "'": re.compile(r"(?<!\w)'|'(?!\w)"),
    "’": re.compile(r"(?<!\w)’|’(?!\w)"),
}
_PLACEHOLDER = re.compile(
    r"\[(?:link|url|insert[^\]\n]*|your [^\]\n]*|company(?: name)?|name|date)\]|\{(?:link|url)\}|<insert[^>\n]*>",
    re.IGNORECASE,
)
_MAX_WRAPPER_LINES = 3


def clean_model_output(text: str) -> str:
    """Remove the wrapping that models put around a post.

    Removes code fences, HTML comments, Markdown bold, headings, rules and link
    syntax, leading lines such as "Here is your post:", "Sure!" or "Draft:",
    trailing lines such as "Let me know if you'd like changes", and one pair of
    quotes around the whole remaining text.
    """
    text = _FENCE_LINE.sub("", text)
    text = _HTML_COMMENT.sub("", text)
    text = _BOLD.sub(r"\1", text)
    text = _HEADING.sub("", text)
    text = _RULE_LINE.sub("", text)
    text = _MARKDOWN_LINK.sub(_markdown_link_text, text)
    text = _AUTOLINK.sub(r"\1", text)

    lines = text.strip().split("\n")
    lines = _drop_preamble(lines)
    lines = _drop_postamble(lines)
    return _strip_wrapping_quotes("\n".join(lines).strip())


def _markdown_link_text(match: re.Match[str]) -> str:
    label, url = match.group(1), match.group(2)
    return url if label.strip() == url else f"{label} {url}"


def _drop_preamble(lines: list[str]) -> list[str]:
    for _ in range(_MAX_WRAPPER_LINES):
        lines = _without_leading_blank_lines(lines)
        if not lines:
            return lines
        first = lines[0].strip()
        label = _LABEL_PREFIX.match(first)
        if label is not None:
            rest = first[label.end():]
            lines = ([rest] if rest else []) + lines[1:]
            continue
        if _is_preamble(first):
            # "Here is your post: Ship it." keeps the text after the colon.
            _, colon, rest = first.partition(":")
            lines = ([rest.strip()] if colon and rest.strip() else []) + lines[1:]
            continue
        break
    return _without_leading_blank_lines(lines)


def _is_preamble(line: str) -> bool:
    if _HERE_LINE.match(line):
        return _ABOUT_THE_POST.search(line) is not None
    if _ACKNOWLEDGEMENT_LINE.match(line):
        return (
            _BARE_ACKNOWLEDGEMENT.match(line) is not None
            or line.endswith(":")
            or _ABOUT_THE_POST.search(line) is not None
        )
    return False


def _drop_postamble(lines: list[str]) -> list[str]:
    for _ in range(_MAX_WRAPPER_LINES):
        while lines and not lines[-1].strip():
            lines = lines[:-1]
        # A lone line is the post itself, even when it reads like a postamble.
        if len(lines) < 2 or not _POSTAMBLE_LINE.match(lines[-1].strip()):
            break
        lines = lines[:-1]
    return lines


def _without_leading_blank_lines(lines: list[str]) -> list[str]:
    while lines and not lines[0].strip():
        lines = lines[1:]
    return lines


def _strip_wrapping_quotes(text: str) -> str:
    """Remove one pair of quotes that encloses the whole text, and no other quote."""
    for opening, closing in _QUOTE_PAIRS:
        if len(text) < 2 or not (text.startswith(opening) and text.endswith(closing)):
            continue
        inner = text[1:-1]
        apostrophe = _NON_APOSTROPHE.get(closing)
        if apostrophe is not None:
            if apostrophe.search(inner) or (opening != closing and opening in inner):
                continue
        elif opening in inner or closing in inner:
            continue
        return inner.strip()
    return text

"""DraftGenerator against the OpenAI stand-in over loopback HTTP, and the stand-in itself."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import openai
import pytest

from borker.errors import ConfigurationError, GenerationFailed
from borker.generation import DraftGenerator, clean_model_output
from borker.models import Platform
from borker.platforms import canonicalize, check_text
from borker.standins.openai_api import Fault, OpenAIStandin, Reply

API_KEY = "test-key"
MODEL = "standin-model"
TOPIC = "release notes"
TOO_LONG = "word " * 100


@pytest.fixture
def standin() -> Iterator[OpenAIStandin]:
    server = OpenAIStandin(api_key=API_KEY, model=MODEL)
    server.start()
    yield server
    server.stop()


def make_generator(standin: OpenAIStandin, **options: Any) -> DraftGenerator:
    settings: dict[str, Any] = {
        "base_url": standin.base_url,
        "api_key": API_KEY,
        "model": MODEL,
        "timeout": 5.0,
        "max_retries": 0,
    }
    settings.update(options)
    return DraftGenerator(**settings)


@pytest.fixture
def generator(standin: OpenAIStandin) -> DraftGenerator:
    return make_generator(standin)


def messages_of(standin: OpenAIStandin, index: int) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = standin.requests[index]["messages"]
    return messages


def usage_total(standin: OpenAIStandin, field: str) -> int:
    return sum(int(response["usage"][field]) for response in standin.responses)


@pytest.mark.parametrize("platform", list(Platform))
def test_draft_per_platform(standin: OpenAIStandin, generator: DraftGenerator, platform: Platform) -> None:
    draft = generator.generate(platform=platform, topic=TOPIC)

    assert draft.problem is None
    assert check_text(platform, draft.text).ok
    assert TOPIC in draft.text.lower()
    assert draft.model == MODEL
    assert draft.prompt_tokens == standin.responses[0]["usage"]["prompt_tokens"]
    assert draft.completion_tokens == standin.responses[0]["usage"]["completion_tokens"]
    assert draft.latency_ms >= 0
    assert len(standin.requests) == 1

    user_message = messages_of(standin, 0)[-1]["content"]
    assert f"Platform: {platform.label}" in user_message.splitlines()
    assert f"Topic: {TOPIC}" in user_message.splitlines()


@pytest.mark.parametrize(
    ("platform", "limit"),
    [
        (Platform.X, "at most 280 weighted characters"),
        (Platform.LINKEDIN, "at most 3,000 characters"),
        (Platform.FARCASTER, "at most 320 bytes"),
    ],
)
def test_system_prompt_rules(
    standin: OpenAIStandin, generator: DraftGenerator, platform: Platform, limit: str
) -> None:
    generator.generate(platform=platform, topic=TOPIC)
    system = messages_of(standin, 0)[0]

    assert system["role"] == "system"
    assert platform.label in system["content"]
    assert limit in system["content"]
    assert "Plain text only, no Markdown, no hashtags unless asked, no preamble." in system["content"]


def test_brand_in_system_prompt(standin: OpenAIStandin, generator: DraftGenerator) -> None:
    generator.generate(platform=Platform.X, topic=TOPIC, brand="Acme Widgets")
    assert "Acme Widgets" in messages_of(standin, 0)[0]["content"]


def test_topic_whitespace_collapsed(standin: OpenAIStandin, generator: DraftGenerator) -> None:
    generator.generate(platform=Platform.X, topic="  release\nnotes  ")
    assert "Topic: release notes" in messages_of(standin, 0)[-1]["content"].splitlines()


def test_same_input_same_text(generator: DraftGenerator) -> None:
    first = generator.generate(platform=Platform.LINKEDIN, topic=TOPIC)
    second = generator.generate(platform=Platform.LINKEDIN, topic=TOPIC)
    assert first.text == second.text


def test_long_topic_sample_fits(generator: DraftGenerator) -> None:
    topic = "\u6f22" * 200
    for platform in Platform:
        draft = generator.generate(platform=platform, topic=topic)
        assert draft.problem is None


def test_scripted_preamble_removed(standin: OpenAIStandin, generator: DraftGenerator) -> None:
    standin.script('Here is your post:\n"Ship small, ship often."\nLet me know if you want any changes!')
    draft = generator.generate(platform=Platform.X, topic=TOPIC)

    assert draft.text == "Ship small, ship often."
    assert draft.problem is None
    assert len(standin.requests) == 1


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ('Here is your post:\n"Ship it."', "Ship it."),
        ("Sure! Here's a LinkedIn post about the launch:\n\nWe launched.", "We launched."),
        ("Sure!\nHere's your post:\nWe launched.", "We launched."),
        ("Here is your post: Ship it.", "Ship it."),
        ("Draft: We shipped it.", "We shipped it."),
        ("```text\nWe shipped it.\n```", "We shipped it."),
        ("**Big news**: we shipped.", "Big news: we shipped."),
        ("\u201cWe shipped it.\u201d", "We shipped it."),
        ("'Don't stop shipping.'", "Don't stop shipping."),
        ("We shipped.\n\nLet me know if you'd like a shorter version!", "We shipped."),
        ("We shipped.\n(Character count: 11)", "We shipped."),
        ("# Launch\nRead [the notes](https://example.com/n).", "Launch\nRead the notes https://example.com/n."),
        ("See <https://example.com>\n---", "See https://example.com"),
        ("Before<!-- note to self --> after", "Before after"),
    ],
)
def test_clean_model_output(output: str, expected: str) -> None:
    assert clean_model_output(output) == expected


@pytest.mark.parametrize(
    "post",
    [
        "Here's the thing: nobody reads the docs.",
        "Here's a post-mortem of our outage:\nIt was DNS.",
        "Sure, AI is hype.\nBut it ships code.",
        "We shipped.\n\nLet me know your thoughts below.",
        '"Great" news and "bad" news.',
        "'Don't stop' is our motto.",
        "Python's __init__ runs first.",
        "Let me know if you'd like a demo.",
    ],
)
def test_clean_keeps_real_posts(post: str) -> None:
    assert clean_model_output(post) == post


def test_reask_after_over_limit(standin: OpenAIStandin, generator: DraftGenerator) -> None:
    standin.script(TOO_LONG)
    draft = generator.generate(platform=Platform.X, topic=TOPIC)

    assert draft.problem is None
    assert check_text(Platform.X, draft.text).ok
    assert len(standin.requests) == 2

    second = messages_of(standin, 1)
    assert second[-2] == {"role": "assistant", "content": TOO_LONG}
    assert second[-1]["role"] == "user"
    assert "499 weighted characters" in second[-1]["content"]
    assert "at most 280" in second[-1]["content"]
    assert draft.text == standin.responses[1]["choices"][0]["message"]["content"]
    assert draft.prompt_tokens == usage_total(standin, "prompt_tokens")
    assert draft.completion_tokens == usage_total(standin, "completion_tokens")


def test_reask_sample_is_shorter(standin: OpenAIStandin, generator: DraftGenerator) -> None:
    first_pass = generator.generate(platform=Platform.LINKEDIN, topic=TOPIC)
    standin.script("a" * 3001)
    rewritten = generator.generate(platform=Platform.LINKEDIN, topic=TOPIC)

    assert rewritten.problem is None
    assert TOPIC in rewritten.text.lower()
    assert len(rewritten.text) < len(first_pass.text)


def test_over_limit_twice_flagged(standin: OpenAIStandin, generator: DraftGenerator) -> None:
    standin.script(TOO_LONG, TOO_LONG)
    draft = generator.generate(platform=Platform.X, topic=TOPIC)

    assert draft.problem == "X post is 499 weighted characters, over the limit of 280"
    assert draft.text == canonicalize(TOO_LONG)
    assert len(standin.requests) == 2
    assert draft.prompt_tokens == usage_total(standin, "prompt_tokens")


def test_farcaster_reask_names_bytes(standin: OpenAIStandin, generator: DraftGenerator) -> None:
    standin.script("\U0001F680" * 81)
    draft = generator.generate(platform=Platform.FARCASTER, topic=TOPIC)

    assert draft.problem is None
    reask = messages_of(standin, 1)[-1]["content"]
    assert "324 bytes" in reask
    assert "at most 320" in reask


def test_postiz_length_reasked(standin: OpenAIStandin, generator: DraftGenerator) -> None:
    standin.script("Notes: https://example.com/" + "a" * 280)
    draft = generator.generate(platform=Platform.X, topic=TOPIC)

    assert draft.problem is None
    assert "as Postiz counts them" in messages_of(standin, 1)[-1]["content"]


def test_truncated_output_reasked(standin: OpenAIStandin, generator: DraftGenerator) -> None:
    standin.script(Reply("Our launch went", finish_reason="length"))
    draft = generator.generate(platform=Platform.X, topic=TOPIC)

    assert draft.problem is None
    assert "cut off" in messages_of(standin, 1)[-1]["content"]


def test_truncated_twice_flagged(standin: OpenAIStandin, generator: DraftGenerator) -> None:
    standin.script(Reply("Our launch", finish_reason="length"), Reply("Our", finish_reason="length"))
    draft = generator.generate(platform=Platform.X, topic=TOPIC)

    assert draft.text == "Our"
    assert draft.problem == "X post was cut off because the model reached its output token limit"


def test_placeholder_reasked(standin: OpenAIStandin, generator: DraftGenerator) -> None:
    standin.script("Read the notes at [link] today.")
    draft = generator.generate(platform=Platform.X, topic=TOPIC)

    assert draft.problem is None
    assert "[link]" in messages_of(standin, 1)[-1]["content"]


def test_failed_rewrite_keeps_first(standin: OpenAIStandin, generator: DraftGenerator) -> None:
    standin.script(TOO_LONG, Fault(500))
    draft = generator.generate(platform=Platform.X, topic=TOPIC)

    assert draft.text == canonicalize(TOO_LONG)
    assert draft.problem == "X post is 499 weighted characters, over the limit of 280"
    assert draft.prompt_tokens == standin.responses[0]["usage"]["prompt_tokens"]


def test_rate_limit_fails(standin: OpenAIStandin, generator: DraftGenerator) -> None:
    standin.script(Fault(429))
    with pytest.raises(GenerationFailed, match="rate-limiting") as failure:
        generator.generate(platform=Platform.X, topic=TOPIC)

    assert "HTTP 429" in str(failure.value)
    assert len(standin.requests) == 1


def test_quota_exhausted_fails(standin: OpenAIStandin, generator: DraftGenerator) -> None:
    body = {"error": {"message": "You exceeded your quota.", "type": "insufficient_quota", "code": "insufficient_quota"}}
    standin.script(Fault(429, body))
    with pytest.raises(GenerationFailed, match="no quota left"):
        generator.generate(platform=Platform.X, topic=TOPIC)


def test_sdk_retries_server_error(standin: OpenAIStandin) -> None:
    generator = make_generator(standin, max_retries=1)
    standin.script(Fault(500, headers={"retry-after-ms": "10"}))
    draft = generator.generate(platform=Platform.X, topic=TOPIC)

    assert draft.problem is None
    assert len(standin.requests) == 2


def test_server_error_fails(standin: OpenAIStandin, generator: DraftGenerator) -> None:
    standin.script(Fault(503, {"error": {"message": "overloaded"}}))
    with pytest.raises(GenerationFailed, match="HTTP 503: overloaded"):
        generator.generate(platform=Platform.X, topic=TOPIC)


def test_bad_request_fails(standin: OpenAIStandin, generator: DraftGenerator) -> None:
    standin.script(Fault(400, {"error": {"message": "Unsupported parameter: 'messages'"}}))
    with pytest.raises(GenerationFailed, match="HTTP 400: Unsupported parameter") as failure:
        generator.generate(platform=Platform.X, topic=TOPIC)
    assert "BORKER_LLM_MODEL" in str(failure.value)


def test_timeout_names_seconds(standin: OpenAIStandin) -> None:
    generator = make_generator(standin, timeout=0.5)
    standin.script(Fault(200, delay=3.0))
    started = time.monotonic()
    with pytest.raises(GenerationFailed) as failure:
        generator.generate(platform=Platform.X, topic=TOPIC)

    message = str(failure.value)
    assert "0.5 seconds" in message
    assert "OPENAI_BASE_URL" in message
    assert time.monotonic() - started < 2.5


def test_wrong_key_hidden(standin: OpenAIStandin) -> None:
    secret = "sk-wrong-secret-4242"
    generator = make_generator(standin, api_key=secret)
    with pytest.raises(GenerationFailed) as failure:
        generator.generate(platform=Platform.X, topic=TOPIC)

    message = str(failure.value)
    assert "OPENAI_API_KEY" in message
    assert "HTTP 401" in message
    assert secret not in message
    assert "4242" not in message
    assert standin.requests == []


def test_model_not_found(standin: OpenAIStandin, generator: DraftGenerator) -> None:
    body = {"error": {"message": "The model does not exist.", "type": "invalid_request_error", "code": "model_not_found"}}
    standin.script(Fault(404, body))
    with pytest.raises(GenerationFailed) as failure:
        generator.generate(platform=Platform.X, topic=TOPIC)

    message = str(failure.value)
    assert f"Model '{MODEL}' not found" in message
    assert "BORKER_LLM_MODEL" in message


def test_wrong_path_not_found(standin: OpenAIStandin) -> None:
    generator = make_generator(standin, base_url=standin.url)
    with pytest.raises(GenerationFailed, match="HTTP 404") as failure:
        generator.generate(platform=Platform.X, topic=TOPIC)
    assert "/v1" in str(failure.value)


def test_connection_refused() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base_url = f"http://127.0.0.1:{port}/v1"
    generator = DraftGenerator(base_url=base_url, api_key=API_KEY, model=MODEL, timeout=2.0, max_retries=0)

    with pytest.raises(GenerationFailed) as failure:
        generator.generate(platform=Platform.X, topic=TOPIC)

    message = str(failure.value)
    assert base_url in message
    assert "OPENAI_BASE_URL" in message


def test_refusal_fails(standin: OpenAIStandin, generator: DraftGenerator) -> None:
    standin.script(Reply(None, refusal="I can't help with that."))
    with pytest.raises(GenerationFailed, match="refused") as failure:
        generator.generate(platform=Platform.X, topic=TOPIC)
    assert "I can't help with that." in str(failure.value)


def test_content_filter_fails(standin: OpenAIStandin, generator: DraftGenerator) -> None:
    standin.script(Reply("", finish_reason="content_filter"))
    with pytest.raises(GenerationFailed, match="content filter"):
        generator.generate(platform=Platform.X, topic=TOPIC)


@pytest.mark.parametrize("content", ["", "  \n ", "Here is your post:", "```\n```"])
def test_empty_output_fails(standin: OpenAIStandin, generator: DraftGenerator, content: str) -> None:
    standin.script(content)
    with pytest.raises(GenerationFailed, match="empty X post"):
        generator.generate(platform=Platform.X, topic=TOPIC)
    assert len(standin.requests) == 1


def test_empty_topic_rejected(standin: OpenAIStandin, generator: DraftGenerator) -> None:
    with pytest.raises(GenerationFailed, match="topic is empty"):
        generator.generate(platform=Platform.X, topic=" \n ")
    assert standin.requests == []


def test_empty_key_rejected(standin: OpenAIStandin) -> None:
    with pytest.raises(ConfigurationError, match="OPENAI_API_KEY"):
        make_generator(standin, api_key="")


def test_standin_delay_applies(standin: OpenAIStandin, generator: DraftGenerator) -> None:
    standin.delay = 0.3
    draft = generator.generate(platform=Platform.X, topic=TOPIC)
    assert draft.latency_ms >= 300


def test_standin_concurrent_requests(standin: OpenAIStandin, generator: DraftGenerator) -> None:
    topics = [f"topic {number}" for number in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        drafts = list(pool.map(lambda topic: generator.generate(platform=Platform.X, topic=topic), topics))

    assert [topic in draft.text.lower() for draft, topic in zip(drafts, topics)] == [True] * 8
    assert len(standin.requests) == 8
    assert len({response["id"] for response in standin.responses}) == 8


def test_standin_requires_bearer(standin: OpenAIStandin) -> None:
    url = standin.base_url + "/chat/completions"
    body = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}]}

    missing = httpx.post(url, json=body)
    empty = httpx.post(url, json=body, headers={"Authorization": "Bearer"})
    wrong = httpx.post(url, json=body, headers={"Authorization": "Bearer other"})

    for response in (missing, empty, wrong):
        assert response.status_code == 401
        assert response.json()["error"]["type"] == "invalid_request_error"
    assert wrong.json()["error"]["message"] == "Incorrect API key provided: oth***ther."
    assert standin.requests == []


def test_standin_any_key_accepted() -> None:
    with OpenAIStandin() as server:
        assert isinstance(server, OpenAIStandin)
        client = openai.OpenAI(base_url=server.base_url, api_key="anything", max_retries=0, timeout=5.0)
        completion = client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "Platform: X\nTopic: cats"}]
        )
    assert completion.model == "m"
    assert completion.choices[0].finish_reason == "stop"
    assert "cats" in (completion.choices[0].message.content or "").lower()
    assert completion.usage is not None
    assert completion.usage.total_tokens == completion.usage.prompt_tokens + completion.usage.completion_tokens


def test_standin_lists_models(standin: OpenAIStandin) -> None:
    client = openai.OpenAI(base_url=standin.base_url, api_key=API_KEY, max_retries=0, timeout=5.0)
    assert [model.id for model in client.models.list()] == [MODEL]


def test_standin_json_schema(standin: OpenAIStandin) -> None:
    schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["platform", "parts", "post_text", "notes", "cta_url"],
        "properties": {
            "platform": {"type": "string", "enum": ["x", "linkedin", "farcaster"]},
            "parts": {"type": "array", "items": {"type": "string"}},
            "post_text": {"type": "string"},
            "notes": {"type": "string"},
            "cta_url": {"type": ["string", "null"]},
        },
    }
    client = openai.OpenAI(base_url=standin.base_url, api_key=API_KEY, max_retries=0, timeout=5.0)
    completion = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "Platform: Farcaster\nTopic: cats"}],
        response_format={"type": "json_schema", "json_schema": {"name": "draft", "schema": schema, "strict": True}},
    )
    content = json.loads(completion.choices[0].message.content or "")

    assert set(content) == {"platform", "parts", "post_text", "notes", "cta_url"}
    assert "cats" in content["post_text"].lower()
    assert check_text(Platform.FARCASTER, content["post_text"]).ok
    assert content["platform"] == "x"
    assert content["parts"] == []
    assert content["notes"] == ""
    assert content["cta_url"] == ""


def test_standin_json_object(standin: OpenAIStandin) -> None:
    client = openai.OpenAI(base_url=standin.base_url, api_key=API_KEY, max_retries=0, timeout=5.0)
    completion = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "Platform: X\nTopic: cats"}],
        response_format={"type": "json_object"},
    )
    assert "cats" in json.loads(completion.choices[0].message.content or "")["text"].lower()


def test_standin_rejects_bad_json(standin: OpenAIStandin) -> None:
    response = httpx.post(
        standin.base_url + "/chat/completions",
        content=b"{not json",
        headers={"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["error"]["message"]

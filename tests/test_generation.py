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

from borker.drafting import DraftRules, check_content
from borker.errors import ConfigurationError, GenerationFailed
from borker.generation import DraftGenerator, DraftRequest, clean_model_output
from borker.models import Platform
from borker.platforms import ContentType, canonicalize, check_text
from borker.standins.openai_api import Fault, OpenAIStandin, Reply, draft_json
from borker.workspace import BrandVoice, VoiceAttributes, VoiceOverride

API_KEY = "test-key"
MODEL = "standin-model"
TOPIC = "release notes"
TOO_LONG = "word " * 100
TOO_LONG_PROBLEM = "X post is 499 weighted characters, over the limit of 280"
CUT_OFF_PROBLEM = "X post was cut off because the model reached its output token limit"

BRAND = BrandVoice(
    name="Acme Robotics",
    mission="Make warehouse robots anyone can program.",
    audience="Operations leads at mid-sized warehouses",
    voice=VoiceAttributes(formality=4, friendliness=3, brevity=2, technical_depth=5),
    platform_voice={"x": VoiceOverride(formality=2, brevity=5)},
    principles=["Lead with the customer's problem.", "One idea per post."],
    terms_to_use=["pick rate", "cobot"],
    terms_to_avoid=["revolutionary", "synergy"],
    examples={
        "x": ["Our cobots now learn a new pick path in 4 minutes.", "Pick rate up 18% at one site this week."],
        "linkedin": ["What we learned from 100 warehouse installs."],
    },
    emoji="none",
    hashtags="sparing",
)


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


@pytest.fixture
def limited_standin(request: pytest.FixtureRequest) -> Iterator[OpenAIStandin]:
    """A stand-in that supports only the output modes given as the test's parameter."""
    server = OpenAIStandin(api_key=API_KEY, model=MODEL, supports=request.param)
    server.start()
    yield server
    server.stop()


def draft_request(content_type: ContentType = ContentType.X_POST, **fields: Any) -> DraftRequest:
    fields.setdefault("topic", TOPIC)
    return DraftRequest(content_type=content_type, **fields)


def messages_of(standin: OpenAIStandin, index: int) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = standin.requests[index]["messages"]
    return messages


def system_prompt(standin: OpenAIStandin, index: int = 0) -> str:
    message = messages_of(standin, index)[0]
    assert message["role"] == "system"
    return str(message["content"])


def user_prompt(standin: OpenAIStandin, index: int = 0) -> str:
    message = messages_of(standin, index)[1]
    assert message["role"] == "user"
    return str(message["content"])


def last_message(standin: OpenAIStandin, index: int) -> str:
    return str(messages_of(standin, index)[-1]["content"])


def format_type(request: dict[str, Any]) -> str:
    """Return the output mode that a recorded request selected."""
    response_format = request.get("response_format")
    return "text" if response_format is None else str(response_format["type"])


def usage_total(standin: OpenAIStandin, field: str) -> int:
    return sum(int(response["usage"][field]) for response in standin.responses)


# Drafts in the default json_schema mode


@pytest.mark.parametrize("content_type", list(ContentType))
def test_draft_per_content_type(
    standin: OpenAIStandin, generator: DraftGenerator, content_type: ContentType
) -> None:
    draft = generator.generate(draft_request(content_type))

    assert draft.problem is None
    assert check_content(content_type, draft.text).ok
    assert TOPIC in draft.text.lower()
    assert draft.output_mode == "json_schema"
    assert draft.model == MODEL
    assert draft.prompt_tokens == standin.responses[0]["usage"]["prompt_tokens"]
    assert draft.completion_tokens == standin.responses[0]["usage"]["completion_tokens"]
    assert draft.latency_ms >= 0
    assert len(standin.requests) == 1
    assert format_type(standin.requests[0]) == "json_schema"

    lines = user_prompt(standin).splitlines()
    assert f"Platform: {content_type.platform.label}" in lines
    assert f"Content type: {content_type.value}" in lines
    assert f"Topic: {TOPIC}" in lines


def test_single_post_has_one_part(generator: DraftGenerator) -> None:
    draft = generator.generate(draft_request(ContentType.LINKEDIN_POST))
    assert draft.parts == [draft.text]


def test_thread_parts_numbered(standin: OpenAIStandin, generator: DraftGenerator) -> None:
    draft = generator.generate(draft_request(ContentType.X_THREAD))

    sent_parts = json.loads(standin.responses[0]["choices"][0]["message"]["content"])["parts"]
    assert 3 <= len(sent_parts) <= 5
    assert len(draft.parts) >= 2
    for number, part in enumerate(draft.parts, start=1):
        assert part.startswith(f"{number}/{len(draft.parts)} ")
        assert check_text(Platform.X, part).ok
    assert draft.text == "\n\n".join(draft.parts)


def test_schema_is_strict(standin: OpenAIStandin, generator: DraftGenerator) -> None:
    generator.generate(draft_request())
    response_format = standin.requests[0]["response_format"]
    schema = response_format["json_schema"]["schema"]

    assert response_format["json_schema"]["strict"] is True
    assert schema["additionalProperties"] is False
    assert schema["required"] == ["parts", "hashtags", "notes"]
    assert schema["properties"]["parts"]["type"] == "array"
    assert schema["properties"]["hashtags"]["type"] == "array"
    assert {"type": "null"} in schema["properties"]["notes"]["anyOf"]


def test_hashtags_appended_and_capped(standin: OpenAIStandin, generator: DraftGenerator) -> None:
    standin.script(draft_json("We rewrote our release notes page.", hashtags=("launch", "#Docs", "dev tools")))
    draft = generator.generate(draft_request())

    assert draft.text == "We rewrote our release notes page.\n\n#launch #Docs"
    assert draft.problem is None
    assert len(draft.warnings) == 1
    assert "#devtools" in draft.warnings[0]


def test_hashtags_alone_are_empty(standin: OpenAIStandin, generator: DraftGenerator) -> None:
    standin.script(draft_json(" ", hashtags=("launch",)))
    with pytest.raises(GenerationFailed, match="empty X post"):
        generator.generate(draft_request())


def test_parts_cleaned(standin: OpenAIStandin, generator: DraftGenerator) -> None:
    standin.script(draft_json('Here is your post:\n"Ship small, ship often."'))
    draft = generator.generate(draft_request())

    assert draft.text == "Ship small, ship often."
    assert draft.problem is None
    assert len(standin.requests) == 1


def test_same_input_same_text(generator: DraftGenerator) -> None:
    first = generator.generate(draft_request(ContentType.LINKEDIN_POST))
    second = generator.generate(draft_request(ContentType.LINKEDIN_POST))
    assert first.text == second.text


@pytest.mark.parametrize("content_type", list(ContentType))
def test_long_topic_sample_fits(generator: DraftGenerator, content_type: ContentType) -> None:
    draft = generator.generate(draft_request(content_type, topic="\u6f22" * 200))
    assert draft.problem is None


def test_rules_type_mismatch_rejected() -> None:
    with pytest.raises(ValueError, match="x-post has rules for linkedin-post"):
        draft_request(ContentType.X_POST, rules=DraftRules(ContentType.LINKEDIN_POST))


# Output mode ladder


@pytest.mark.parametrize("limited_standin", [{"json_object", "text"}], indirect=True)
def test_falls_back_to_json_object(limited_standin: OpenAIStandin) -> None:
    generator = make_generator(limited_standin)
    draft = generator.generate(draft_request())

    assert draft.problem is None
    assert draft.output_mode == "json_object"
    assert TOPIC in draft.text.lower()
    assert [format_type(request) for request in limited_standin.rejected] == ["json_schema"]
    assert [format_type(request) for request in limited_standin.requests] == ["json_object"]
    assert "JSON" in last_message(limited_standin, 0)
    assert generator.current_mode == "json_object"


@pytest.mark.parametrize("limited_standin", [{"text"}], indirect=True)
def test_falls_back_to_text(limited_standin: OpenAIStandin) -> None:
    generator = make_generator(limited_standin)
    draft = generator.generate(draft_request(ContentType.X_THREAD))

    assert draft.problem is None
    assert draft.output_mode == "text"
    assert check_content(ContentType.X_THREAD, draft.text).ok
    assert [format_type(request) for request in limited_standin.rejected] == ["json_schema", "json_object"]
    assert [format_type(request) for request in limited_standin.requests] == ["text"]
    assert "JSON" not in last_message(limited_standin, 0)
    assert generator.current_mode == "text"


@pytest.mark.parametrize("limited_standin", [{"json_object", "text"}], indirect=True)
def test_ladder_remembers_mode(limited_standin: OpenAIStandin) -> None:
    generator = make_generator(limited_standin)
    generator.generate(draft_request())
    second = generator.generate(draft_request(ContentType.FARCASTER_CAST))

    assert second.output_mode == "json_object"
    assert len(limited_standin.rejected) == 1
    assert [format_type(request) for request in limited_standin.requests] == ["json_object", "json_object"]


@pytest.mark.parametrize("limited_standin", [{"text"}], indirect=True)
def test_ladder_per_generator(limited_standin: OpenAIStandin) -> None:
    make_generator(limited_standin).generate(draft_request())
    make_generator(limited_standin).generate(draft_request())
    assert len(limited_standin.rejected) == 4


def test_ignored_schema_falls_back(standin: OpenAIStandin, generator: DraftGenerator) -> None:
    standin.script("Plain text from a server that ignores response_format.")
    draft = generator.generate(draft_request())

    assert draft.output_mode == "json_object"
    assert draft.problem is None
    assert [format_type(request) for request in standin.requests] == ["json_schema", "json_object"]
    assert draft.prompt_tokens == usage_total(standin, "prompt_tokens")
    assert draft.completion_tokens == usage_total(standin, "completion_tokens")
    assert generator.current_mode == "json_object"


def test_fixed_mode_wrong_shape(standin: OpenAIStandin) -> None:
    generator = make_generator(standin, output_mode="json_object")
    standin.script(json.dumps({"text": "A post in the wrong field."}))
    with pytest.raises(GenerationFailed, match="no usable json_object output") as failure:
        generator.generate(draft_request())
    assert "parts, hashtags and notes" in str(failure.value)


def test_invalid_json_object_falls_back(standin: OpenAIStandin) -> None:
    generator = make_generator(standin)
    standin.script("not json", '{"parts": "one string, not a list"}')
    draft = generator.generate(draft_request())

    assert draft.output_mode == "text"
    assert [format_type(request) for request in standin.requests] == ["json_schema", "json_object", "text"]
    assert TOPIC in draft.text.lower()


@pytest.mark.parametrize("limited_standin", [{"text"}], indirect=True)
def test_fixed_mode_not_supported(limited_standin: OpenAIStandin) -> None:
    generator = make_generator(limited_standin, output_mode="json_schema")
    with pytest.raises(GenerationFailed, match="no usable json_schema output") as failure:
        generator.generate(draft_request())

    message = str(failure.value)
    assert "response_format" in message
    assert "output_mode 'auto'" in message
    assert len(limited_standin.rejected) == 1
    assert limited_standin.requests == []


@pytest.mark.parametrize("limited_standin", [{"json_schema", "json_object", "text"}], indirect=True)
def test_fixed_text_mode(limited_standin: OpenAIStandin) -> None:
    generator = make_generator(limited_standin, output_mode="text")
    draft = generator.generate(draft_request(ContentType.LINKEDIN_POST))

    assert draft.output_mode == "text"
    assert "response_format" not in limited_standin.requests[0]


@pytest.mark.parametrize("limited_standin", [set()], indirect=True)
def test_every_mode_rejected(limited_standin: OpenAIStandin) -> None:
    generator = make_generator(limited_standin)
    with pytest.raises(GenerationFailed, match="HTTP 400") as failure:
        generator.generate(draft_request())

    assert "response_format" in str(failure.value)
    assert [format_type(request) for request in limited_standin.rejected] == ["json_schema", "json_object", "text"]


def test_unrelated_bad_request_no_fallback(standin: OpenAIStandin, generator: DraftGenerator) -> None:
    standin.script(Fault(400, {"error": {"message": "Unsupported parameter: 'messages'"}}))
    with pytest.raises(GenerationFailed, match="HTTP 400: Unsupported parameter") as failure:
        generator.generate(draft_request())

    assert "BORKER_LLM_MODEL" in str(failure.value)
    assert len(standin.requests) == 1
    assert generator.current_mode == "json_schema"


def test_mode_rejected_with_422(standin: OpenAIStandin, generator: DraftGenerator) -> None:
    body = {"error": {"message": "json_schema is not supported by this model", "type": "invalid_request_error"}}
    standin.script(Fault(422, body))
    draft = generator.generate(draft_request())

    assert draft.output_mode == "json_object"
    assert [format_type(request) for request in standin.requests] == ["json_schema", "json_object"]


def test_invalid_mode_setting(standin: OpenAIStandin) -> None:
    with pytest.raises(ConfigurationError, match="'xml'"):
        make_generator(standin, output_mode="xml")


@pytest.mark.parametrize("limited_standin", [{"text"}], indirect=True)
def test_concurrent_fallback(limited_standin: OpenAIStandin) -> None:
    generator = make_generator(limited_standin)
    topics = [f"topic {number}" for number in range(6)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        drafts = list(pool.map(lambda topic: generator.generate(draft_request(topic=topic)), topics))

    assert {draft.output_mode for draft in drafts} == {"text"}
    assert generator.current_mode == "text"


# Prompts


def test_prompt_has_brand_identity(standin: OpenAIStandin, generator: DraftGenerator) -> None:
    generator.generate(draft_request(brand=BRAND))
    system = system_prompt(standin)

    assert "You write X posts for Acme Robotics." in system
    assert "Mission: Make warehouse robots anyone can program." in system
    assert "Audience: Operations leads at mid-sized warehouses" in system
    assert "- Lead with the customer's problem." in system
    assert "Use these terms where they fit: pick rate, cobot." in system
    assert "Never use these terms: revolutionary, synergy." in system
    assert "Use no emoji." in system
    assert "Use at most 2 hashtags" in system


def test_prompt_has_platform_examples(standin: OpenAIStandin, generator: DraftGenerator) -> None:
    generator.generate(draft_request(brand=BRAND))
    system = system_prompt(standin)

    assert "Example 1:\nOur cobots now learn a new pick path in 4 minutes." in system
    assert "Example 2:\nPick rate up 18% at one site this week." in system
    assert "100 warehouse installs" not in system


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        (
            ContentType.X_POST,
            [
                "- Formality: casual (2/5)",
                "- Friendliness: friendly (3/5)",
                "- Brevity: as short as possible (5/5)",
                "- Technical depth: deeply technical, for experts (5/5)",
            ],
        ),
        (
            ContentType.LINKEDIN_POST,
            [
                "- Formality: formal (4/5)",
                "- Friendliness: friendly (3/5)",
                "- Brevity: detailed (2/5)",
                "- Technical depth: deeply technical, for experts (5/5)",
            ],
        ),
    ],
)
def test_voice_tuned_per_platform(
    standin: OpenAIStandin, generator: DraftGenerator, content_type: ContentType, expected: list[str]
) -> None:
    generator.generate(draft_request(content_type, brand=BRAND))
    lines = system_prompt(standin).splitlines()

    assert f"Voice on {content_type.platform.label}:" in lines
    for line in expected:
        assert line in lines


def test_generic_voice_without_brand(standin: OpenAIStandin, generator: DraftGenerator) -> None:
    generator.generate(draft_request(ContentType.FARCASTER_CAST))
    system = system_prompt(standin)

    assert "You write Farcaster casts for a company." in system
    assert "- Formality: neither casual nor formal (3/5)" in system
    assert "Use no hashtags." in system
    assert "Example 1:" not in system


def test_system_prompt_is_stable(standin: OpenAIStandin, generator: DraftGenerator) -> None:
    generator.generate(draft_request(topic="warehouse safety", brand=BRAND))
    generator.generate(draft_request(topic="pick rates", angle="Speed hides errors.", brand=BRAND))

    assert system_prompt(standin, 0) == system_prompt(standin, 1)
    assert "warehouse safety" not in system_prompt(standin, 0)
    assert "warehouse safety" in user_prompt(standin, 0)


def test_prompt_has_topic_context(standin: OpenAIStandin, generator: DraftGenerator) -> None:
    request = draft_request(
        topic="  release\nnotes  ",
        angle="Nobody reads changelogs; show the one change that matters.",
        keywords=("changelog", " ", "release cadence"),
        pool="Product Updates",
    )
    generator.generate(request)
    lines = user_prompt(standin).splitlines()

    assert "Topic: release notes" in lines
    assert "Angle: Nobody reads changelogs; show the one change that matters." in lines
    assert "Keywords: changelog, release cadence" in lines
    assert "Topic pool: Product Updates" in lines


@pytest.mark.parametrize(
    ("content_type", "rules", "expected"),
    [
        (ContentType.X_POST, None, ["One post of at most 280 weighted characters."]),
        (ContentType.X_THREAD, None, ["A thread of 3 to 8 posts.", "hook", "call to action", "Do not number"]),
        (ContentType.LINKEDIN_POST, None, ["150 to 300 words", "first two lines", "short paragraphs"]),
        (ContentType.FARCASTER_CAST, None, ["at most 320 bytes", "Web3-native and plain"]),
        (
            ContentType.FARCASTER_CAST,
            DraftRules(ContentType.FARCASTER_CAST, long_casts=True),
            ["at most 1,024 bytes"],
        ),
    ],
)
def test_prompt_has_format(
    standin: OpenAIStandin,
    generator: DraftGenerator,
    content_type: ContentType,
    rules: DraftRules | None,
    expected: list[str],
) -> None:
    generator.generate(draft_request(content_type, rules=rules))
    format_line = next(line for line in user_prompt(standin).splitlines() if line.startswith("Format: "))
    for phrase in expected:
        assert phrase in format_line


def test_prompt_lists_recent_posts(standin: OpenAIStandin, generator: DraftGenerator) -> None:
    recent = tuple(f"Recent post number {number} about shipping." for number in range(1, 7))
    long_post = "Shipping every week.\n" + "More detail. " * 40
    generator.generate(draft_request(recent_posts=(long_post, *recent)))
    prompt = user_prompt(standin)

    assert "Recent posts on this platform, newest first. Do not repeat them:" in prompt
    assert "- Shipping every week. More detail." in prompt
    for number in range(1, 5):
        assert f"- Recent post number {number} about shipping." in prompt
    assert "number 5" not in prompt
    assert "More detail. " * 40 not in prompt


def test_no_recent_section_without_posts(standin: OpenAIStandin, generator: DraftGenerator) -> None:
    generator.generate(draft_request())
    assert "Recent posts" not in user_prompt(standin)


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        (DraftRules(ContentType.X_POST, hashtag_policy="none"), "Use no hashtags."),
        (DraftRules(ContentType.X_POST, allowed_hashtags=frozenset({"ops", "ai"})), "only from this list: #ai, #ops."),
        (DraftRules(ContentType.X_POST), 'never write "link in bio"'),
    ],
)
def test_prompt_has_rules(
    standin: OpenAIStandin, generator: DraftGenerator, rules: DraftRules, expected: str
) -> None:
    generator.generate(draft_request(rules=rules))
    assert expected in system_prompt(standin)


def test_brand_hashtag_policy_default(standin: OpenAIStandin, generator: DraftGenerator) -> None:
    brand = BRAND.model_copy(update={"hashtags": "none"})
    standin.script(draft_json("We rewrote our release notes page.", hashtags=("launch",)))
    draft = generator.generate(draft_request(brand=brand))

    assert "Use no hashtags." in system_prompt(standin)
    assert draft.text == "We rewrote our release notes page."


@pytest.mark.parametrize(
    ("mode", "phrase"),
    [
        ("json_schema", 'the post text in "parts"'),
        ("json_object", "Answer with one JSON object and nothing else."),
        ("text", "Answer with the post text only."),
    ],
)
def test_reply_format_per_mode(standin: OpenAIStandin, mode: str, phrase: str) -> None:
    generator = make_generator(standin, output_mode=mode)
    generator.generate(draft_request())
    assert phrase in user_prompt(standin)


# Re-asks


def test_reask_names_problem(standin: OpenAIStandin, generator: DraftGenerator) -> None:
    first = draft_json(TOO_LONG)
    standin.script(first)
    draft = generator.generate(draft_request())

    assert draft.problem is None
    assert check_text(Platform.X, draft.text).ok
    assert len(standin.requests) == 2

    second = messages_of(standin, 1)
    assert second[-2] == {"role": "assistant", "content": first}
    assert second[-1]["role"] == "user"
    assert f"- {TOO_LONG_PROBLEM}" in second[-1]["content"].splitlines()
    assert draft.prompt_tokens == usage_total(standin, "prompt_tokens")
    assert draft.completion_tokens == usage_total(standin, "completion_tokens")
    assert draft.output_mode == "json_schema"


def test_still_invalid_returns_problem(standin: OpenAIStandin, generator: DraftGenerator) -> None:
    standin.script(draft_json(TOO_LONG), draft_json(TOO_LONG))
    draft = generator.generate(draft_request())

    assert draft.problem == TOO_LONG_PROBLEM
    assert draft.text == canonicalize(TOO_LONG)
    assert len(standin.requests) == 2
    assert draft.prompt_tokens == usage_total(standin, "prompt_tokens")


def test_problems_joined(standin: OpenAIStandin, generator: DraftGenerator) -> None:
    short = draft_json("Read the notes at [link] today.")
    standin.script(short, short)
    draft = generator.generate(draft_request(ContentType.LINKEDIN_POST))

    reask = last_message(standin, 1)
    assert '- contains the placeholder "[link]"; write the real text or leave it out' in reask.splitlines()
    assert "- LinkedIn post has 6 words, under the minimum of 150" in reask.splitlines()
    assert draft.problem == (
        'contains the placeholder "[link]"; write the real text or leave it out; '
        "LinkedIn post has 6 words, under the minimum of 150"
    )


def test_reask_sample_is_shorter(standin: OpenAIStandin, generator: DraftGenerator) -> None:
    first_pass = generator.generate(draft_request(ContentType.LINKEDIN_POST))
    standin.script(draft_json("a" * 3001))
    rewritten = generator.generate(draft_request(ContentType.LINKEDIN_POST))

    assert rewritten.problem is None
    assert TOPIC in rewritten.text.lower()
    assert len(rewritten.text) < len(first_pass.text)


def test_farcaster_reask_names_bytes(standin: OpenAIStandin, generator: DraftGenerator) -> None:
    standin.script(draft_json("\U0001F680" * 81))
    draft = generator.generate(draft_request(ContentType.FARCASTER_CAST))

    assert draft.problem is None
    assert "- Farcaster cast is 324 bytes, over the limit of 320" in last_message(standin, 1).splitlines()


def test_postiz_length_reasked(standin: OpenAIStandin, generator: DraftGenerator) -> None:
    standin.script(draft_json("Notes: https://example.com/" + "a" * 280))
    draft = generator.generate(draft_request())

    assert draft.problem is None
    assert "as Postiz counts them" in last_message(standin, 1)


def test_near_duplicate_reasked(standin: OpenAIStandin, generator: DraftGenerator) -> None:
    earlier = generator.generate(draft_request())
    draft = generator.generate(draft_request(recent_posts=(earlier.text,)))

    assert draft.problem is None
    assert draft.text != earlier.text
    assert "nearly repeats a recent post" in last_message(standin, 2)


def test_placeholder_reasked(standin: OpenAIStandin, generator: DraftGenerator) -> None:
    standin.script(draft_json("Read the notes at [link] today."))
    draft = generator.generate(draft_request())

    assert draft.problem is None
    assert '"[link]"' in last_message(standin, 1)


def test_text_mode_reask(standin: OpenAIStandin) -> None:
    generator = make_generator(standin, output_mode="text")
    standin.script(TOO_LONG)
    draft = generator.generate(draft_request())

    reask = last_message(standin, 1)
    assert f"- {TOO_LONG_PROBLEM}" in reask.splitlines()
    assert reask.endswith("Answer with the post text only. Put hashtags, if any, on the last line.")
    assert draft.problem is None
    assert draft.output_mode == "text"


def test_truncated_output_reasked(standin: OpenAIStandin, generator: DraftGenerator) -> None:
    standin.script(Reply('{"parts": ["Our launch went', finish_reason="length"))
    draft = generator.generate(draft_request())

    reask = last_message(standin, 1)
    assert f"- {CUT_OFF_PROBLEM}" in reask.splitlines()
    assert "Make it shorter" in reask
    assert draft.problem is None
    assert len(standin.requests) == 2


def test_truncated_twice_fails(standin: OpenAIStandin, generator: DraftGenerator) -> None:
    cut = Reply('{"parts": ["Our launch', finish_reason="length")
    standin.script(cut, cut)
    with pytest.raises(GenerationFailed, match="output token limit twice"):
        generator.generate(draft_request())
    assert len(standin.requests) == 2


def test_truncated_text_flagged(standin: OpenAIStandin) -> None:
    generator = make_generator(standin, output_mode="text")
    standin.script(Reply("Our launch", finish_reason="length"), Reply("Our", finish_reason="length"))
    draft = generator.generate(draft_request())

    assert draft.text == "Our"
    assert draft.problem == CUT_OFF_PROBLEM


def test_failed_rewrite_keeps_first(standin: OpenAIStandin, generator: DraftGenerator) -> None:
    standin.script(draft_json(TOO_LONG), Fault(500))
    draft = generator.generate(draft_request())

    assert draft.text == canonicalize(TOO_LONG)
    assert draft.problem == TOO_LONG_PROBLEM
    assert draft.prompt_tokens == standin.responses[0]["usage"]["prompt_tokens"]


def test_empty_rewrite_keeps_first(standin: OpenAIStandin, generator: DraftGenerator) -> None:
    standin.script(draft_json(TOO_LONG), draft_json(""))
    draft = generator.generate(draft_request())

    assert draft.text == canonicalize(TOO_LONG)
    assert draft.problem == TOO_LONG_PROBLEM


# Server errors, refusals and bad output


def test_rate_limit_fails(standin: OpenAIStandin, generator: DraftGenerator) -> None:
    standin.script(Fault(429))
    with pytest.raises(GenerationFailed, match="rate-limiting") as failure:
        generator.generate(draft_request())

    assert "HTTP 429" in str(failure.value)
    assert len(standin.requests) == 1


def test_quota_exhausted_fails(standin: OpenAIStandin, generator: DraftGenerator) -> None:
    body = {"error": {"message": "You exceeded your quota.", "type": "insufficient_quota", "code": "insufficient_quota"}}
    standin.script(Fault(429, body))
    with pytest.raises(GenerationFailed, match="no quota left"):
        generator.generate(draft_request())


def test_sdk_retries_server_error(standin: OpenAIStandin) -> None:
    generator = make_generator(standin, max_retries=1)
    standin.script(Fault(500, headers={"retry-after-ms": "10"}))
    draft = generator.generate(draft_request())

    assert draft.problem is None
    assert len(standin.requests) == 2


def test_server_error_fails(standin: OpenAIStandin, generator: DraftGenerator) -> None:
    standin.script(Fault(503, {"error": {"message": "overloaded"}}))
    with pytest.raises(GenerationFailed, match="HTTP 503: overloaded"):
        generator.generate(draft_request())


def test_timeout_names_seconds(standin: OpenAIStandin) -> None:
    generator = make_generator(standin, timeout=0.5)
    standin.script(Fault(200, delay=3.0))
    started = time.monotonic()
    with pytest.raises(GenerationFailed) as failure:
        generator.generate(draft_request())

    message = str(failure.value)
    assert "0.5 seconds" in message
    assert "OPENAI_BASE_URL" in message
    assert time.monotonic() - started < 2.5


def test_wrong_key_hidden(standin: OpenAIStandin) -> None:
    secret = "sk-wrong-secret-4242"
    generator = make_generator(standin, api_key=secret)
    with pytest.raises(GenerationFailed) as failure:
        generator.generate(draft_request())

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
        generator.generate(draft_request())

    message = str(failure.value)
    assert f"Model '{MODEL}' not found" in message
    assert "BORKER_LLM_MODEL" in message


def test_wrong_path_not_found(standin: OpenAIStandin) -> None:
    generator = make_generator(standin, base_url=standin.url)
    with pytest.raises(GenerationFailed, match="HTTP 404") as failure:
        generator.generate(draft_request())
    assert "/v1" in str(failure.value)


def test_connection_refused() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base_url = f"http://127.0.0.1:{port}/v1"
    generator = DraftGenerator(base_url=base_url, api_key=API_KEY, model=MODEL, timeout=2.0, max_retries=0)

    with pytest.raises(GenerationFailed) as failure:
        generator.generate(draft_request())

    message = str(failure.value)
    assert base_url in message
    assert "OPENAI_BASE_URL" in message


@pytest.mark.parametrize("mode", ["json_schema", "json_object", "text"])
def test_refusal_fails(standin: OpenAIStandin, mode: str) -> None:
    generator = make_generator(standin, output_mode=mode)
    standin.script(Reply(None, refusal="I can't help with that."))
    with pytest.raises(GenerationFailed, match="refused") as failure:
        generator.generate(draft_request())

    assert "I can't help with that." in str(failure.value)
    assert len(standin.requests) == 1


@pytest.mark.parametrize("mode", ["json_schema", "json_object", "text"])
def test_content_filter_fails(standin: OpenAIStandin, mode: str) -> None:
    generator = make_generator(standin, output_mode=mode)
    standin.script(Reply("", finish_reason="content_filter"))
    with pytest.raises(GenerationFailed, match="content filter"):
        generator.generate(draft_request())


@pytest.mark.parametrize(
    "content",
    ["", "  \n ", draft_json(), draft_json(""), draft_json("Here is your post:"), draft_json("```\n```")],
)
def test_empty_output_fails(standin: OpenAIStandin, generator: DraftGenerator, content: str) -> None:
    standin.script(content)
    with pytest.raises(GenerationFailed, match="empty X post"):
        generator.generate(draft_request())
    assert len(standin.requests) == 1


@pytest.mark.parametrize("content", ["Here is your post:", "```\n```"])
def test_empty_text_output_fails(standin: OpenAIStandin, content: str) -> None:
    generator = make_generator(standin, output_mode="text")
    standin.script(content)
    with pytest.raises(GenerationFailed, match="empty X thread"):
        generator.generate(draft_request(ContentType.X_THREAD))
    assert len(standin.requests) == 1


def test_empty_topic_rejected(standin: OpenAIStandin, generator: DraftGenerator) -> None:
    with pytest.raises(GenerationFailed, match="topic is empty"):
        generator.generate(draft_request(topic=" \n "))
    assert standin.requests == []


def test_empty_key_rejected(standin: OpenAIStandin) -> None:
    with pytest.raises(ConfigurationError, match="OPENAI_API_KEY"):
        make_generator(standin, api_key="")


# clean_model_output


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



# The stand-in


def test_standin_delay_applies(standin: OpenAIStandin, generator: DraftGenerator) -> None:
    standin.delay = 0.3
    draft = generator.generate(draft_request())
    assert draft.latency_ms >= 300


def test_standin_concurrent_requests(standin: OpenAIStandin, generator: DraftGenerator) -> None:
    topics = [f"topic {number}" for number in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        drafts = list(pool.map(lambda topic: generator.generate(draft_request(topic=topic)), topics))

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


def test_standin_other_schema(standin: OpenAIStandin) -> None:
    schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["platform", "parts", "post_text", "notes", "cta_url", "hashtags"],
        "properties": {
            "platform": {"type": "string", "enum": ["x", "linkedin", "farcaster"]},
            "parts": {"type": "array", "items": {"type": "string"}},
            "post_text": {"type": "string"},
            "notes": {"type": "string"},
            "cta_url": {"type": ["string", "null"]},
            "hashtags": {"type": "array", "items": {"type": "string"}},
        },
    }
    client = openai.OpenAI(base_url=standin.base_url, api_key=API_KEY, max_retries=0, timeout=5.0)
    completion = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "Platform: Farcaster\nTopic: cats"}],
        response_format={"type": "json_schema", "json_schema": {"name": "draft", "schema": schema, "strict": True}},
    )
    content = json.loads(completion.choices[0].message.content or "")

    assert set(content) == {"platform", "parts", "post_text", "notes", "cta_url", "hashtags"}
    assert "cats" in content["post_text"].lower()
    assert check_text(Platform.FARCASTER, content["post_text"]).ok
    assert content["parts"] == [content["post_text"]]
    assert content["platform"] == "x"
    assert content["notes"] == ""
    assert content["cta_url"] is None
    assert content["hashtags"] == []


def test_standin_thread_schema(standin: OpenAIStandin) -> None:
    client = openai.OpenAI(base_url=standin.base_url, api_key=API_KEY, max_retries=0, timeout=5.0)
    schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["parts", "hashtags", "notes"],
        "properties": {
            "parts": {"type": "array", "items": {"type": "string"}},
            "hashtags": {"type": "array", "items": {"type": "string"}},
            "notes": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        },
    }
    completion = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "Platform: X\nContent type: x-thread\nTopic: cats"}],
        response_format={"type": "json_schema", "json_schema": {"name": "draft", "schema": schema, "strict": True}},
    )
    content = json.loads(completion.choices[0].message.content or "")

    assert 3 <= len(content["parts"]) <= 5
    assert "cats" in content["parts"][0].lower()
    assert content["hashtags"] == []
    assert content["notes"] is None


def test_standin_json_object(standin: OpenAIStandin) -> None:
    client = openai.OpenAI(base_url=standin.base_url, api_key=API_KEY, max_retries=0, timeout=5.0)
    completion = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "Platform: X\nTopic: cats"}],
        response_format={"type": "json_object"},
    )
    content = json.loads(completion.choices[0].message.content or "")

    assert set(content) == {"parts", "hashtags", "notes"}
    assert len(content["parts"]) == 1
    assert "cats" in content["parts"][0].lower()
    assert content["hashtags"] == []
    assert content["notes"] is None


def test_standin_text_thread(standin: OpenAIStandin) -> None:
    client = openai.OpenAI(base_url=standin.base_url, api_key=API_KEY, max_retries=0, timeout=5.0)
    completion = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "Content type: x-thread\nTopic: cats"}]
    )
    paragraphs = (completion.choices[0].message.content or "").split("\n\n")
    assert 3 <= len(paragraphs) <= 5


def test_standin_scripted_as_is(standin: OpenAIStandin) -> None:
    client = openai.OpenAI(base_url=standin.base_url, api_key=API_KEY, max_retries=0, timeout=5.0)
    standin.script("not JSON at all")
    completion = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "Platform: X\nTopic: cats"}],
        response_format={"type": "json_object"},
    )
    assert completion.choices[0].message.content == "not JSON at all"


@pytest.mark.parametrize("limited_standin", [{"text"}], indirect=True)
def test_standin_rejects_mode(limited_standin: OpenAIStandin) -> None:
    client = openai.OpenAI(base_url=limited_standin.base_url, api_key=API_KEY, max_retries=0, timeout=5.0)
    limited_standin.script("kept for the next accepted request")
    with pytest.raises(openai.BadRequestError) as failure:
        client.chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": "Platform: X\nTopic: cats"}],
            response_format={"type": "json_object"},
        )

    assert failure.value.param == "response_format"
    assert "'json_object' is not supported" in failure.value.message
    assert len(limited_standin.rejected) == 1
    assert limited_standin.requests == []


def test_standin_unknown_mode_rejected() -> None:
    with pytest.raises(ValueError, match="xml"):
        OpenAIStandin(supports={"xml"})


def test_standin_rejects_bad_json(standin: OpenAIStandin) -> None:
    response = httpx.post(
        standin.base_url + "/chat/completions",
        content=b"{not json",
        headers={"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["error"]["message"]

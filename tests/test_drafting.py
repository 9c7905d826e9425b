"""Drafting: model output clean-up, placeholders, hashtags, thread splitting, limits and near-duplicates."""

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from borker.drafting import (
    NEAR_DUPLICATE_THRESHOLD,
    DraftRules,
    ThreadTooLong,
    check_content,
    clean_output,
    prepare_draft,
    similarity,
    split_thread,
    strip_thread_markers,
)
from borker.platforms import ContentType, canonicalize, javascript_length, x_weighted_length

FAMILY = "\U0001F468\u200D\U0001F469\u200D\U0001F467\u200D\U0001F466"
ROCKET = "\U0001F680"
THUMBS_UP_MEDIUM = "\U0001F44D\U0001F3FD"
FLAG_DE = "\U0001F1E9\U0001F1EA"
HAN = "\u6f22"

X_POST = DraftRules(ContentType.X_POST)
X_THREAD = DraftRules(ContentType.X_THREAD)
LINKEDIN = DraftRules(ContentType.LINKEDIN_POST)
FARCASTER = DraftRules(ContentType.FARCASTER_CAST)

LINKEDIN_HOOK = "We shipped the new planner today."


def linkedin_text(word_count: int, hook: str = LINKEDIN_HOOK) -> str:
    """Return a LinkedIn post with the hook as its first line and ``word_count`` words in all."""
    hook_words = len(hook.split())
    return hook + "\n\n" + " ".join(["detail"] * (word_count - hook_words))


def numbering_of(part: str) -> str:
    return part.split(" ", 1)[0]


def body_of(part: str) -> str:
    return part.split(" ", 1)[1]


def postiz_length_problem(noun: str, length: int) -> str:
    return (
        f"{noun} is {length} characters as Postiz counts them, over Postiz's limit of 280 "
        "(Postiz counts links at full length)"
    )


def placeholder_problem(placeholder: str) -> str:
    return f'contains the placeholder "{placeholder}"; write the real text or leave it out'


# ---------------------------------------------------------------------------
# clean_output
# ---------------------------------------------------------------------------

CLEAN_CASES = [
    ("preamble line", 'Here is your post:\n"Ship small, ship often."', "Ship small, ship often."),
    ("preamble same line", "Here's your post: Ship it.", "Ship it."),
    ("acknowledgement", "Sure! Here's a LinkedIn post about the launch:\n\nWe launched.", "We launched."),
    ("draft label", "Draft: We shipped it.", "We shipped it."),
    ("thread label", "Here's the thread:\nWe shipped it.", "We shipped it."),
    ("postamble", "We shipped.\n\nLet me know if you'd like a shorter version!", "We shipped."),
    ("hope this helps", "We shipped.\n\nI hope this helps!", "We shipped."),
    ("straight quotes", '"Ship small, ship often."', "Ship small, ship often."),
    ("curly quotes", "\u201cShip small, ship often.\u201d", "Ship small, ship often."),
    ("single quotes", "'Don't stop shipping.'", "Don't stop shipping."),
    ("inner quotes kept", '"Fast" beats "perfect".', '"Fast" beats "perfect".'),
    ("asterisk bold", "**Big news**: we shipped.", "Big news: we shipped."),
    ("underscore bold", "__Big news__: we shipped.", "Big news: we shipped."),
    ("dunder name kept", "Python's __init__ runs first.", "Python's __init__ runs first."),
    ("heading", "## Launch day\nWe shipped.", "Launch day\nWe shipped."),
    ("hashtag not heading", "#AI is here.", "#AI is here."),
    ("dash bullets", "Why:\n- fast\n- small", "Why:\n• fast\n• small"),
    ("asterisk bullets", "Why:\n* fast\n  * small", "Why:\n• fast\n• small"),
    ("rule removed", "We shipped.\n---\nMore soon.", "We shipped.\n\nMore soon."),
    ("trailing rule", "See <https://example.com>\n---", "See https://example.com"),
    ("code fence", "```text\nWe shipped it.\n```", "We shipped it."),
    ("html comment", "We shipped.<!-- tone: upbeat -->", "We shipped."),
    ("autolink", "Notes: <https://example.com/notes>", "Notes: https://example.com/notes"),
    ("markdown link", "Read [the notes](https://example.com/n).", "Read the notes https://example.com/n."),
    ("link of itself", "[https://example.com](https://example.com)", "https://example.com"),
    ("json text", '{"text": "We shipped it."}', "We shipped it."),
    ("json post", '{"post": "We shipped it.", "notes": "upbeat"}', "We shipped it."),
    ("json content", '{"content": "We shipped it."}', "We shipped it."),
    ("json nested", '{"post": {"text": "We shipped it."}}', "We shipped it."),
    ("json parts", '{"parts": ["First.", "Second."]}', "First.\n\nSecond."),
    ("json list", '["First.", "Second."]', "First.\n\nSecond."),
    ("json empty parts", '{"parts": []}', ""),
    ("json first text wins", '{"text": "", "parts": ["First."]}', "First."),
    (
        "json output schema",
        '{"parts": ["We shipped."], "hashtags": ["AI"], "notes": "upbeat"}',
        "We shipped.\n\n#AI",
    ),
    ("json list of numbers", "[1, 2] is a list.", "[1, 2] is a list."),
    ("fenced json", '```json\n{"post": "We shipped it."}\n```', "We shipped it."),
    (
        "json with wrapping",
        'Sure! Here is the JSON:\n```json\n{"text": "We shipped."}\n```\nLet me know if you want changes.',
        "We shipped.",
    ),
    (
        "json link and tags",
        '{"parts": ["We shipped."], "hashtags": ["AI", "#ML"], "cta_url": "https://example.com"}',
        "We shipped.\n\nhttps://example.com #AI #ML",
    ),
    ("json quoted in post", 'Our API returns {"text": "hi"} now.', 'Our API returns {"text": "hi"} now.'),
    ("json after prose", 'Config:\n{"text": "hi"}', 'Config:\n{"text": "hi"}'),
    ("json markdown inside", '{"text": "**Big** news"}', "Big news"),
    ("canonical form", "We shipped.\r\n\r\n\r\n\r\nMore  \r\nsoon.\ufeff", "We shipped.\n\n\nMore\nsoon."),
]


@pytest.mark.parametrize(("raw", "expected"), [case[1:] for case in CLEAN_CASES], ids=[case[0] for case in CLEAN_CASES])
def test_clean_output_cases(raw: str, expected: str) -> None:
    assert clean_output(raw) == expected


@pytest.mark.parametrize(
    "post",
    [
        "Here's the thing: nobody reads the docs.",
        "Sure, AI is hype.\nBut it ships code.",
        "We shipped.\n\nLet me know your thoughts below.",
        "Let me know if you'd like a demo.",
        "1. Plan\n2. Ship",
        "Price: -5% today.",
    ],
)
def test_clean_output_keeps_posts(post: str) -> None:
    assert clean_output(post) == post


@given(st.text())
def test_clean_output_is_canonical(raw: str) -> None:
    cleaned = clean_output(raw)
    assert canonicalize(cleaned) == cleaned


# ---------------------------------------------------------------------------
# prepare_draft: bad model outputs end to end
# ---------------------------------------------------------------------------

LONG_URL_POST = "Notes: https://example.com/" + "a" * 260

PREPARE_CASES = [
    ("preamble and postamble", "Here is your post:\nShip it.\n\nLet me know if this works!", X_POST, "Ship it.", []),
    ("quoted x post", "\u201cShip small, ship often.\u201d", X_POST, "Ship small, ship often.", []),
    ("json farcaster", '```json\n{"text": "gm, we shipped"}\n```', FARCASTER, "gm, we shipped", []),
    ("link placeholder", "Read more at [link]", X_POST, "Read more at [link]", [placeholder_problem("[link]")]),
    ("url placeholder", "Docs: [URL]", X_POST, "Docs: [URL]", [placeholder_problem("[URL]")]),
    ("curly placeholder", "Docs: {link}", X_POST, "Docs: {link}", [placeholder_problem("{link}")]),
    ("double curly", "Hi {{first_name}}!", X_POST, "Hi {{first_name}}!", [placeholder_problem("{{first_name}}")]),
    (
        "insert placeholder",
        "Join us on <insert date>.",
        X_POST,
        "Join us on <insert date>.",
        [placeholder_problem("<insert date>")],
    ),
    ("name placeholder", "Thanks, [Your Name]", X_POST, "Thanks, [Your Name]", [placeholder_problem("[Your Name]")]),
    (
        "capitalised placeholder",
        "Launching on [Release Date].",
        X_POST,
        "Launching on [Release Date].",
        [placeholder_problem("[Release Date]")],
    ),
    ("one bracketed word", "[Update] We shipped.", X_POST, "[Update] We shipped.", []),
    (
        "two placeholders",
        "Read [link] by [Author Name]. Read [link] again.",
        X_POST,
        "Read [link] by [Author Name]. Read [link] again.",
        [placeholder_problem("[link]"), placeholder_problem("[Author Name]")],
    ),
    (
        "link in bio",
        "Full story: link in bio.",
        FARCASTER,
        "Full story: link in bio.",
        [placeholder_problem("link in bio")],
    ),
    (
        "link in bio configured",
        "Full story: link in bio.",
        DraftRules(ContentType.FARCASTER_CAST, link_configured=True),
        "Full story: link in bio.",
        [],
    ),
    ("rockets at 320 bytes", ROCKET * 80, FARCASTER, ROCKET * 80, []),
    (
        "rockets over 320 bytes",
        ROCKET * 81,
        FARCASTER,
        ROCKET * 81,
        ["Farcaster cast is 324 bytes, over the limit of 320"],
    ),
    (
        "rockets as long cast",
        ROCKET * 81,
        DraftRules(ContentType.FARCASTER_CAST, long_casts=True),
        ROCKET * 81,
        [],
    ),
    ("families at 300 bytes", FAMILY * 12, FARCASTER, FAMILY * 12, []),
    ("families over 320 bytes", FAMILY * 13, FARCASTER, FAMILY * 13, ["Farcaster cast is 325 bytes, over the limit of 320"]),
    (
        "long cast over postiz",
        "a" * 801,
        DraftRules(ContentType.FARCASTER_CAST, long_casts=True),
        "a" * 801,
        ["Farcaster cast is 801 characters, over Postiz's limit of 800 for Farcaster"],
    ),
    ("cjk at 280", HAN * 140, X_POST, HAN * 140, []),
    ("cjk over 280", HAN * 141, X_POST, HAN * 141, ["X post is 282 weighted characters, over the limit of 280"]),
    (
        "long url raw length",
        LONG_URL_POST,
        X_POST,
        LONG_URL_POST,
        [postiz_length_problem("X post", 287)],
    ),
    ("empty after clean-up", "```\n```", X_POST, "", ["X post is empty"]),
    ("empty thread", "", X_THREAD, "", ["X thread is empty"]),
]


@pytest.mark.parametrize(
    ("raw", "rules", "text", "problems"),
    [case[1:] for case in PREPARE_CASES],
    ids=[case[0] for case in PREPARE_CASES],
)
def test_prepare_draft_cases(raw: str, rules: DraftRules, text: str, problems: list[str]) -> None:
    check = prepare_draft(raw, rules)
    assert check.text == text
    assert check.problems == problems


def test_prepare_single_post_parts() -> None:
    check = prepare_draft("Ship it.", X_POST)
    assert check.parts == ["Ship it."]


def test_prepare_empty_has_no_parts() -> None:
    check = prepare_draft("", X_POST)
    assert check.parts == []


def test_prepare_structured_parts() -> None:
    check = prepare_draft(["Here is the first post:\nFirst.", '"Second."'], LINKEDIN)
    assert check.text == "First.\n\nSecond."


def test_prepare_x_bullets_swapped() -> None:
    # With "•" the post weighs 282, with "-" it weighs 280.
    raw = "Why:\n- " + "a" * 135 + "\n- " + "b" * 135
    check = prepare_draft(raw, X_POST)

    assert check.problems == []
    assert check.text == raw
    assert check.warnings == ['replaced "•" bullets with "-" so that the X post fits, because X counts "•" as 2']


def test_prepare_x_bullets_kept() -> None:
    check = prepare_draft("Why:\n- fast\n- small", X_POST)
    assert check.text == "Why:\n• fast\n• small"


# ---------------------------------------------------------------------------
# Hashtags
# ---------------------------------------------------------------------------

HASHTAG_CASES = [
    ("x cap", "Ship it. #one #two #three", X_POST, "Ship it. #one #two"),
    ("tags after words", "Big launch today #one #two #three", X_POST, "Big launch today #one #two"),
    ("one tag after words", "We love #Rust", FARCASTER, "We love Rust"),
    ("x within cap", "Ship it. #one #two", X_POST, "Ship it. #one #two"),
    ("linkedin cap", "Ship it.\n\n#a1 #b2 #c3 #d4", LINKEDIN, "Ship it.\n\n#a1 #b2 #c3"),
    ("farcaster sparing", "Shipped " + ROCKET + " #launch", FARCASTER, "Shipped " + ROCKET),
    ("inline keeps word", "We #shipped today.", FARCASTER, "We shipped today."),
    ("tag line removed", "Shipped.\n#launch #news\nMore soon.", FARCASTER, "Shipped.\nMore soon."),
    ("repeat removed", "We love #Rust. #rust #AI", X_POST, "We love #Rust. #AI"),
    ("repeat inline", "#AI now, #ai later.", X_POST, "#AI now, ai later."),
    ("none policy", "We love #Rust. #AI", DraftRules(ContentType.X_POST, hashtag_policy="none"), "We love Rust."),
    (
        "free linkedin",
        "Ship it. #a1 #b2 #c3 #d4 #e5 #f6",
        DraftRules(ContentType.LINKEDIN_POST, hashtag_policy="free"),
        "Ship it. #a1 #b2 #c3 #d4 #e5",
    ),
    (
        "free farcaster",
        "Ship it. #a1 #b2 #c3",
        DraftRules(ContentType.FARCASTER_CAST, hashtag_policy="free"),
        "Ship it. #a1 #b2",
    ),
    (
        "allowed list",
        "We love #Rust and #AI. #crypto",
        DraftRules(ContentType.X_POST, allowed_hashtags=frozenset({"ai"})),
        "We love Rust and #AI.",
    ),
    ("url fragment", "See https://example.com/page#intro #one", X_POST, "See https://example.com/page#intro #one"),
    ("number sign", "We are #1 again.", FARCASTER, "We are #1 again."),
]


@pytest.mark.parametrize(
    ("raw", "rules", "expected"),
    [case[1:] for case in HASHTAG_CASES],
    ids=[case[0] for case in HASHTAG_CASES],
)
def test_hashtag_rules_cases(raw: str, rules: DraftRules, expected: str) -> None:
    assert prepare_draft(raw, rules).text == expected


def test_hashtag_cap_warning() -> None:
    check = prepare_draft("Ship it. #one #two #three #four", X_POST)
    expected = 'removed hashtags over the limit of 2 for X with the "sparing" hashtag policy: #three, #four'
    assert check.warnings == [expected]


def test_hashtag_repeat_warning() -> None:
    check = prepare_draft("We love #Rust. #rust", X_POST)
    assert check.warnings == ["removed repeated hashtags: #rust"]


def test_hashtag_allowed_warning() -> None:
    rules = DraftRules(ContentType.X_POST, allowed_hashtags=frozenset({"ai"}))
    check = prepare_draft("Ship it. #AI #crypto", rules)
    assert check.warnings == ["removed hashtags that are not on the allowed list: #crypto"]


def test_hashtags_removed_before_measuring() -> None:
    raw = "a" * 270 + " #one #two #three"
    check = prepare_draft(raw, X_POST)

    assert check.text == "a" * 270 + " #one #two"
    assert x_weighted_length(check.text) == 280
    assert check.problems == []


# ---------------------------------------------------------------------------
# LinkedIn
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word_count", "problems"),
    [
        (149, ["LinkedIn post has 149 words, under the minimum of 150"]),
        (150, []),
        (300, []),
        (301, ["LinkedIn post has 301 words, over the maximum of 300"]),
    ],
)
def test_linkedin_word_count(word_count: int, problems: list[str]) -> None:
    assert prepare_draft(linkedin_text(word_count), LINKEDIN).problems == problems


def test_linkedin_bullets_not_words() -> None:
    text = linkedin_text(150) + "\n• " + ROCKET + "\n—"
    assert prepare_draft(text, LINKEDIN).problems == []


def test_linkedin_characters_and_words() -> None:
    text = linkedin_text(301, hook="x" * 2800)
    expected = [
        "LinkedIn post is 4,901 characters, over the limit of 3,000",
        "LinkedIn post has 301 words, over the maximum of 300",
    ]
    assert prepare_draft(text, LINKEDIN).problems == expected


def test_linkedin_hook_at_fold() -> None:
    check = prepare_draft(linkedin_text(150, hook="x" * 210), LINKEDIN)
    assert check.warnings == []


def test_linkedin_hook_past_fold() -> None:
    check = prepare_draft(linkedin_text(150, hook="x" * 211), LINKEDIN)
    expected = (
        'hook: the first line is 211 characters, but LinkedIn shows only about 210 before "see more"; '
        "end the hook with a line break within 140 characters"
    )
    assert check.warnings == [expected]


def test_linkedin_hook_not_blocking() -> None:
    check = prepare_draft(linkedin_text(150, hook="x" * 211), LINKEDIN)
    assert check.problems == []


def test_linkedin_plain_mention_warning() -> None:
    text = linkedin_text(150, hook="Thanks @Dana for the review.")
    expected = ['LinkedIn shows "@Dana" as plain text, not as a mention; write the name without "@"']
    assert prepare_draft(text, LINKEDIN).warnings == expected


def test_linkedin_url_not_mention() -> None:
    text = linkedin_text(150, hook="Read https://medium.com/@dana/planner today.")
    assert prepare_draft(text, LINKEDIN).warnings == []


def test_linkedin_email_not_mention() -> None:
    text = linkedin_text(150, hook="Write to team@example.com today.")
    assert prepare_draft(text, LINKEDIN).warnings == []


# ---------------------------------------------------------------------------
# Thread splitting: examples
# ---------------------------------------------------------------------------


def filler(word_count: int) -> str:
    return " ".join(["word"] * word_count)


def assert_parts_fit(parts: list[str]) -> None:
    for part in parts:
        assert x_weighted_length(part) <= 280, part
        assert javascript_length(part) <= 280, part


def test_split_short_text() -> None:
    assert split_thread("Ship it.") == ["1/1 Ship it."]


def test_split_empty_text() -> None:
    assert split_thread("  \n ") == []


def test_split_prefers_paragraphs() -> None:
    first = "First paragraph. " + filler(20)
    second = "Second paragraph. " + filler(50)
    assert split_thread(first + "\n\n" + second) == ["1/2 " + first, "2/2 " + second]


def test_split_joins_short_paragraphs() -> None:
    assert split_thread("One.\n\nTwo.") == ["1/1 One.\n\nTwo."]


def test_split_prefers_sentences() -> None:
    first = "Short sentence one. " + filler(40) + "."
    second = "Another sentence " + filler(40) + "."
    parts = split_thread(first + " " + second)
    assert parts == ["1/2 " + first, "2/2 " + second]


def test_split_numbering_counts_prefix() -> None:
    # 276 characters fit behind "1/1 ", but not behind a prefix plus one more word.
    text = "a" * 276
    assert split_thread(text) == ["1/1 " + text]


def test_split_at_exact_limit() -> None:
    text = filler(55) + " a"
    parts = split_thread(text)
    assert [x_weighted_length(part) for part in parts] == [280]


def test_split_two_digit_numbering() -> None:
    text = "\n\n".join(f"Paragraph {index}. " + filler(50) for index in range(12))
    parts = split_thread(text)

    assert len(parts) == 12
    assert [numbering_of(part) for part in parts] == [f"{index}/12" for index in range(1, 13)]
    assert_parts_fit(parts)


@pytest.mark.parametrize(
    "entity",
    [
        "https://example.com/releases/2026/planner-and-scheduler",
        "@borker_team",
        "#BuildInPublic",
        "$ACME",
        FAMILY,
        THUMBS_UP_MEDIUM,
        FLAG_DE,
    ],
    ids=["url", "mention", "hashtag", "cashtag", "zwj family", "skin tone", "flag"],
)
def test_split_keeps_entity_whole(entity: str) -> None:
    # Put the entity across the point where the first part fills up, at each offset.
    for words_before in range(45, 56):
        text = filler(words_before) + " " + entity + " " + filler(30)
        parts = split_thread(text)
        containing = [part for part in parts if entity in part]

        assert len(containing) == 1, (words_before, parts)
        assert_parts_fit(parts)


def test_split_keeps_link_position() -> None:
    url = "https://example.com/notes"
    text = "Read " + url + " first. " + filler(60)
    parts = split_thread(text)
    assert parts[0] == "1/3 Read " + url + " first."


def test_split_cjk_without_spaces() -> None:
    text = HAN * 300
    parts = split_thread(text)

    assert len(parts) == 3
    assert "".join(body_of(part) for part in parts) == text
    assert_parts_fit(parts)


def test_split_cjk_at_full_stop() -> None:
    text = HAN * 100 + "\u3002" + HAN * 100
    parts = split_thread(text)
    assert parts == ["1/2 " + HAN * 100 + "\u3002", "2/2 " + HAN * 100]


def test_split_long_url_alone() -> None:
    url = "https://example.com/" + "a" * 300
    parts = split_thread("Read this: " + url + " today")
    assert parts == ["1/3 Read this:", "2/3 " + url, "3/3 today"]


def test_split_too_many_parts() -> None:
    text = "\n\n".join(filler(50) for _ in range(26))
    with pytest.raises(ThreadTooLong) as raised:
        split_thread(text)
    assert len(raised.value.parts) == 26


def test_split_part_limit_argument() -> None:
    with pytest.raises(ThreadTooLong):
        split_thread(filler(100), max_parts=1)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1/3 First.\n\n2/3 Second.\n\n3/3 Third.", "First.\n\nSecond.\n\nThird."),
        ("1/ First.\n2/ Second.", "First.\n\nSecond."),
        ("(1/2) First.\n\n(2/2) Second.", "First.\n\nSecond."),
        ("Tweet 1/2: First.\n\nTweet 2/2: Second.", "First.\n\nSecond."),
        ("First. 1/2\n\nSecond. 2/2", "First.\n\nSecond."),
        ("\U0001F9F5 First.\n\nSecond.", "First.\n\nSecond."),
        ("A thread \U0001F9F5\U0001F447\n\nFirst.", "First."),
        ("1/ First.", "First."),
        ("1/2 price today.", "1/2 price today."),
        ("24/7 support.\n\nAlways.", "24/7 support.\n\nAlways."),
        ("1/2 cup flour\n2/3 cup milk", "1/2 cup flour\n2/3 cup milk"),
        ("1/ Open 24/7.\n\n24/7 means always.\n\n2/ Done.", "Open 24/7.\n\n24/7 means always.\n\nDone."),
    ],
)
def test_strip_thread_markers(raw: str, expected: str) -> None:
    assert strip_thread_markers(raw) == expected


def test_split_ignores_model_count() -> None:
    raw = "1/5 " + filler(20) + "\n\n2/5 " + filler(20) + "\n\n3/5 " + filler(40)
    parts = split_thread(raw)
    assert [numbering_of(part) for part in parts] == ["1/2", "2/2"]


def test_prepare_thread_text() -> None:
    check = prepare_draft(["1/2 " + filler(40), "2/2 " + filler(40)], X_THREAD)

    assert check.parts == ["1/2 " + filler(40), "2/2 " + filler(40)]
    assert check.text == "\n\n".join(check.parts)
    assert check.problems == []


def test_prepare_thread_too_many_parts() -> None:
    check = prepare_draft("\n\n".join(filler(50) for _ in range(26)), X_THREAD)
    assert check.problems == ["X thread has 26 parts, over the maximum of 25; shorten the text"]


def test_prepare_thread_long_url() -> None:
    url = "https://example.com/" + "a" * 300
    check = prepare_draft("Read this: " + url, X_THREAD)
    assert check.problems == [postiz_length_problem("part 2/2", 324)]


# ---------------------------------------------------------------------------
# Thread splitting: properties
# ---------------------------------------------------------------------------

PLAIN_WORDS = st.text(alphabet=string.ascii_letters, min_size=1, max_size=12)
WORDS = st.one_of(
    PLAIN_WORDS,
    st.builds("{}.".format, PLAIN_WORDS),
    st.builds("https://example.com/{}".format, st.text(alphabet=string.ascii_lowercase + "/-", max_size=60)),
    st.builds("@{}".format, st.text(alphabet=string.ascii_letters + string.digits + "_", min_size=1, max_size=15)),
    st.builds("#{}{}".format, st.sampled_from(string.ascii_letters), st.text(alphabet=string.ascii_letters, max_size=15)),
    st.builds("${}".format, st.text(alphabet=string.ascii_uppercase, min_size=1, max_size=5)),
    st.sampled_from([FAMILY, ROCKET, THUMBS_UP_MEDIUM, FLAG_DE, "1\ufe0f\u20e3", "\u2764\ufe0f", "caf\u00e9"]),
    st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x4FFF), min_size=1, max_size=20),
)
SEPARATORS = st.sampled_from([" ", " ", " ", " ", "\n", "\n\n"])


@st.composite
def thread_texts(draw: st.DrawFn) -> str:
    words = draw(st.lists(WORDS, min_size=1, max_size=250))
    text = words[0]
    for word in words[1:]:
        text += draw(SEPARATORS) + word
    return text


@settings(max_examples=150, deadline=None)
@given(thread_texts())
def test_split_parts_fit(text: str) -> None:
    parts = split_thread(text)
    for part in parts:
        assert x_weighted_length(part) <= 280
        assert javascript_length(part) <= 280


@settings(max_examples=150, deadline=None)
@given(thread_texts())
def test_split_numbering_sequence(text: str) -> None:
    parts = split_thread(text)
    count = len(parts)
    assert [numbering_of(part) for part in parts] == [f"{index}/{count}" for index in range(1, count + 1)]


@settings(max_examples=150, deadline=None)
@given(thread_texts())
def test_split_keeps_words(text: str) -> None:
    parts = split_thread(text)
    joined = " ".join(body_of(part) for part in parts)
    assert joined.split() == canonicalize(text).split()


@settings(max_examples=50, deadline=None)
@given(thread_texts())
def test_split_deterministic(text: str) -> None:
    assert split_thread(text) == split_thread(text)


@settings(max_examples=100, deadline=None)
@given(thread_texts())
def test_split_stable_on_own_output(text: str) -> None:
    parts = split_thread(text)
    assert split_thread("\n\n".join(parts)) == parts


@settings(max_examples=50, deadline=None)
@given(st.lists(st.sampled_from([HAN, "\u3002", ROCKET, FAMILY, "a"]), min_size=1, max_size=900).map("".join))
def test_split_unspaced_text(text: str) -> None:
    parts = split_thread(text)
    assert "".join(body_of(part) for part in parts) == text
    assert_parts_fit(parts)


# ---------------------------------------------------------------------------
# check_content
# ---------------------------------------------------------------------------


def test_check_thread_ok() -> None:
    text = "\n\n".join(split_thread(filler(60) + "\n\n" + filler(10)))
    check = check_content(ContentType.X_THREAD, text)

    assert check.problem is None
    assert check.length == x_weighted_length("1/2 " + filler(55))
    assert check.limit == 280
    assert check.unit == "weighted characters"


def test_check_thread_long_part() -> None:
    text = "1/2 Short.\n\n2/2 " + "a" * 296
    check = check_content(ContentType.X_THREAD, text)

    assert check.length == 300
    assert check.problem == "part 2/2 is 300 weighted characters, over the limit of 280"


def test_check_thread_numbering() -> None:
    check = check_content(ContentType.X_THREAD, "1/2 First.\n\n3/2 Second.")
    assert check.problem == 'part 2 of 2 does not start with its numbering "2/2"'


def test_check_thread_paragraphs_in_part() -> None:
    check = check_content(ContentType.X_THREAD, "1/2 First.\n\nStill first.\n\n2/2 Second.")
    assert check.problem is None


def test_check_thread_empty() -> None:
    assert check_content(ContentType.X_THREAD, "").problem == "X thread is empty"


def test_check_linkedin_words() -> None:
    check = check_content(ContentType.LINKEDIN_POST, linkedin_text(120))
    assert check.problem == "LinkedIn post has 120 words, under the minimum of 150"


def test_check_linkedin_characters() -> None:
    check = check_content(ContentType.LINKEDIN_POST, linkedin_text(150))
    assert check.length == len(linkedin_text(150))


def test_check_x_post() -> None:
    check = check_content(ContentType.X_POST, HAN * 141)
    assert check.problem == "X post is 282 weighted characters, over the limit of 280"


def test_check_farcaster_long_casts() -> None:
    assert check_content(ContentType.FARCASTER_CAST, ROCKET * 81, long_casts=True).problem is None


# ---------------------------------------------------------------------------
# Near-duplicates
# ---------------------------------------------------------------------------

BASE_WORDS = [f"w{index}" for index in range(20)]


def with_replaced(count: int) -> str:
    """Return the 20 base words with ``count`` of them, spread out, replaced by new words."""
    words = list(BASE_WORDS)
    for position in range(count):
        words[5 * position + 2] = f"new{position}"
    return " ".join(words)


def test_similarity_identical() -> None:
    assert similarity("Ship it today.", "Ship it today.") == 1.0


def test_similarity_ignores_case_and_punctuation() -> None:
    assert similarity("Ship it, today!", "ship IT today") == 1.0


def test_similarity_ignores_thread_numbering() -> None:
    assert similarity("1/2 Ship it.\n\n2/2 Today.", "Ship it.\n\nToday.") == 1.0


def test_similarity_unrelated() -> None:
    assert similarity("Ship it today.", "Planner docs are live") == 0.0


def test_similarity_at_threshold() -> None:
    assert similarity(" ".join(BASE_WORDS), with_replaced(3)) == NEAR_DUPLICATE_THRESHOLD


def test_near_duplicate_at_threshold() -> None:
    check = prepare_draft(" ".join(BASE_WORDS), X_POST, recent=[with_replaced(3)])
    assert check.problems == ["nearly repeats a recent post (similarity 0.85); choose a new angle"]


def test_near_duplicate_below_threshold() -> None:
    check = prepare_draft(" ".join(BASE_WORDS), X_POST, recent=[with_replaced(4)])
    assert check.problems == []


def test_near_duplicate_reports_highest() -> None:
    recent = [with_replaced(3), with_replaced(1)]
    check = prepare_draft(" ".join(BASE_WORDS), X_POST, recent=recent)
    assert check.problems == ["nearly repeats a recent post (similarity 0.95); choose a new angle"]


def test_near_duplicate_exact_repeat() -> None:
    check = prepare_draft('"Ship it today."', X_POST, recent=["Ship it today."])
    assert check.problems == ["nearly repeats a recent post (similarity 1.00); choose a new angle"]


def test_near_duplicate_ignores_blank() -> None:
    assert prepare_draft("Ship it.", X_POST, recent=["", "  "]).problems == []

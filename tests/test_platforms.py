"""Platform text rules: canonical form, X weighted counting and the per-platform limits."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from twitter_text import parse_tweet  # type: ignore[import-untyped]  # no type hints in 3.0.0

from borker.models import Platform
from borker.platforms import (
    FARCASTER_LONG_CAST_MAX_BYTES,
    FARCASTER_MAX_BYTES,
    LINKEDIN_MAX_LENGTH,
    POSTIZ_FARCASTER_MAX_LENGTH,
    X_MAX_WEIGHTED_LENGTH,
    ContentType,
    canonicalize,
    check_text,
    default_content_type,
    javascript_length,
    post_noun,
    text_limit,
    x_weighted_length,
)

FAMILY = "\U0001F468\u200D\U0001F469\u200D\U0001F467\u200D\U0001F466"
ROCKET = "\U0001F680"

# Cases from twitter-text conformance/validate.yml, section WeightedTweetsWithDiscountedEmojiCounterTest (config v3).
CONFORMANCE = [
    ("url after text", "Hi http://test.co", 26, True),
    ("url alone", "http://test.co", 23, True),
    ("ten urls", "https://www.twitter.com/aloha " * 10, 240, True),
    ("160 cjk", "\u6f22" * 160, 320, False),
    ("five emoji", "\U0001F637\U0001F47E\U0001F621\U0001F525\U0001F4A9", 10, True),
    ("skin tone and zwj", "\U0001F64B\U0001F3FD\U0001F468\u200D\U0001F3A4", 4, True),
    ("140 families", FAMILY * 140, 280, True),
    ("keycap", "1\u20e3", 2, True),
    ("decomposed accent", "A\u0301B", 2, True),
    ("invalid characters", "ABC\u202a\uffffABC\ufffe", 12, False),
]


@pytest.mark.parametrize(
    ("text", "weighted", "valid"),
    [case[1:] for case in CONFORMANCE],
    ids=[case[0] for case in CONFORMANCE],
)
def test_x_conformance_vectors(text: str, weighted: int, valid: bool) -> None:
    assert x_weighted_length(text) == weighted
    assert parse_tweet(text).valid is valid


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a\r\nb", "a\nb"),
        ("a\rb", "a\nb"),
        ("a\r\n\r\nb", "a\n\nb"),
        ("\ufeffhello", "hello"),
        ("he\ufffell\uffffo", "hello"),
        ("Cafe\u0301", "Caf\u00e9"),
        ("line  \t\nnext ", "line\nnext"),
        ("a\n\n\n\n\n\nb", "a\n\n\nb"),
        ("a\n \n\t\n  \n\nb", "a\n\n\nb"),
        ("a\n\n\nb", "a\n\n\nb"),
        ("\n\n  text  \n\n", "text"),
        ("", ""),
    ],
)
def test_canonicalize_cases(raw: str, expected: str) -> None:
    assert canonicalize(raw) == expected


@given(st.text())
def test_canonicalize_is_idempotent(text: str) -> None:
    once = canonicalize(text)
    assert canonicalize(once) == once


@given(st.text())
def test_canonicalize_output_shape(text: str) -> None:
    result = canonicalize(text)
    assert "\r" not in result
    assert "\ufeff" not in result
    assert "\n\n\n\n" not in result
    assert all(line == line.rstrip() for line in result.split("\n"))
    assert result == result.strip()


def test_x_within_limit() -> None:
    check = check_text(Platform.X, "a" * 280)
    assert check.ok
    assert check.length == 280
    assert check.limit == X_MAX_WEIGHTED_LENGTH
    assert check.unit == "weighted characters"


def test_x_over_limit_message() -> None:
    check = check_text(Platform.X, "\u6f22" * 156)
    assert not check.ok
    assert check.length == 312
    assert check.problem == "X post is 312 weighted characters, over the limit of 280"


def test_x_counts_canonical_text() -> None:
    # 140 CRLF pairs would be 280 code units raw, but canonicalize turns them into LF.
    check = check_text(Platform.X, "a\r\n" * 140)
    assert check.ok
    assert check.length == 279


def test_x_postiz_raw_length() -> None:
    text = "Our notes: https://example.com/" + "a" * 270
    check = check_text(Platform.X, text)
    assert check.length == 34
    assert check.problem is not None
    assert "301 characters as Postiz counts them" in check.problem
    assert "limit of 280" in check.problem


def test_x_postiz_counts_utf16_units() -> None:
    # 40 family emoji weigh 80, but JavaScript's .length is 11 per family.
    check = check_text(Platform.X, FAMILY * 40)
    assert check.length == 80
    assert check.problem is not None
    assert "440 characters as Postiz counts them" in check.problem


def test_x_stripped_invalid_characters() -> None:
    check = check_text(Platform.X, "ABC\u202a\uffffABC\ufffe")
    assert check.ok
    assert check.length == 8


def test_control_character_rejected() -> None:
    check = check_text(Platform.X, "fine\x00text")
    assert check.problem == "X post contains an invalid character (U+0000)"


def test_lone_surrogate_rejected() -> None:
    for platform in Platform:
        check = check_text(platform, "broken \ud83d emoji")
        assert check.problem == f"{post_noun(platform)} contains an invalid character (U+D83D)"


def test_tab_and_newline_allowed() -> None:
    assert check_text(Platform.LINKEDIN, "a\tb\nc").ok


@pytest.mark.parametrize("platform", list(Platform))
def test_empty_post(platform: Platform) -> None:
    check = check_text(platform, " \r\n\ufeff ")
    assert check.length == 0
    assert check.problem == f"{post_noun(platform)} is empty"


def test_linkedin_boundary() -> None:
    at_limit = check_text(Platform.LINKEDIN, "a" * 3000)
    over = check_text(Platform.LINKEDIN, "a" * 3001)
    assert at_limit.ok
    assert at_limit.limit == LINKEDIN_MAX_LENGTH
    assert over.problem == "LinkedIn post is 3,001 characters, over the limit of 3,000"


def test_linkedin_counts_utf16_units() -> None:
    assert check_text(Platform.LINKEDIN, ROCKET * 1500).ok
    assert check_text(Platform.LINKEDIN, ROCKET * 1500 + "a").length == 3001


def test_linkedin_trailing_spaces_free() -> None:
    assert check_text(Platform.LINKEDIN, "a" * 3000 + "   \r\n").ok


def test_farcaster_byte_boundary() -> None:
    fits = check_text(Platform.FARCASTER, ROCKET * 80)
    over = check_text(Platform.FARCASTER, ROCKET * 81)
    assert fits.ok
    assert fits.length == 320
    assert fits.limit == FARCASTER_MAX_BYTES
    assert over.length == 324
    assert over.problem == "Farcaster cast is 324 bytes, over the limit of 320"


def test_farcaster_counts_nfc_bytes() -> None:
    # Decomposed "e" + U+0301 is 3 bytes, the NFC form U+00E9 is 2.
    check = check_text(Platform.FARCASTER, "e\u0301" * 160)
    assert check.ok
    assert check.length == 320


def test_farcaster_long_casts() -> None:
    assert check_text(Platform.FARCASTER, ROCKET * 81, long_casts=True).ok
    fits = check_text(Platform.FARCASTER, "\u00e9" * 512, long_casts=True)
    over = check_text(Platform.FARCASTER, "\u00e9" * 513, long_casts=True)
    assert fits.ok
    assert fits.limit == FARCASTER_LONG_CAST_MAX_BYTES
    assert over.problem == "Farcaster cast is 1,026 bytes, over the limit of 1,024"


def test_farcaster_postiz_length() -> None:
    check = check_text(Platform.FARCASTER, "a" * 801, long_casts=True)
    assert check.length == 801
    assert check.problem is not None
    assert f"over Postiz's limit of {POSTIZ_FARCASTER_MAX_LENGTH}" in check.problem


def test_javascript_length() -> None:
    assert javascript_length("abc") == 3
    assert javascript_length(ROCKET) == 2
    assert javascript_length(FAMILY) == 11


def test_text_limits() -> None:
    assert text_limit(Platform.X).limit == 280
    assert text_limit(Platform.LINKEDIN).unit == "characters"
    assert text_limit(Platform.FARCASTER).limit == 320
    assert text_limit(Platform.FARCASTER, long_casts=True).limit == 1024


def test_content_types() -> None:
    assert ContentType("x-thread").platform is Platform.X
    assert ContentType.LINKEDIN_POST.platform is Platform.LINKEDIN
    assert ContentType.FARCASTER_CAST.platform is Platform.FARCASTER
    assert {default_content_type(platform) for platform in Platform} == {
        ContentType.X_POST,
        ContentType.LINKEDIN_POST,
        ContentType.FARCASTER_CAST,
    }
    for platform in Platform:
        assert default_content_type(platform).platform is platform

"""Text rules per platform: canonical form, content types and length limits.

Every limit is checked on the canonical text (see ``canonicalize``), because that
is the text Borker sends. X counting uses ``twitter_text.parse_tweet`` from
twitter-text-parser 3.0.0, a port of twitter-text with the v3 configuration.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from twitter_text import parse_tweet  # type: ignore[import-untyped]  # no type hints in 3.0.0

from borker.models import Platform

# X counts with twitter-text v3 weights: URLs count 23, emoji sequences, CJK and
# most symbols above U+2037 count 2, everything else counts 1.
X_MAX_WEIGHTED_LENGTH = 280
# Postiz checks an X post against the maximum of its weighted length and its
# JavaScript ``.length``, so a short post with a long URL can still be rejected.
POSTIZ_X_MAX_LENGTH = 280
# LinkedIn commentary limit, which Postiz enforces with JavaScript ``.length``.
LINKEDIN_MAX_LENGTH = 3000
# Farcaster limits are UTF-8 bytes: 320 for a normal cast, 1,024 for a long cast.
FARCASTER_MAX_BYTES = 320
FARCASTER_LONG_CAST_MAX_BYTES = 1024
# Postiz's Farcaster provider also rejects text longer than 800 (JavaScript
# ``.length``), which only binds for long casts of mostly one-byte characters.
POSTIZ_FARCASTER_MAX_LENGTH = 800

# twitter-text rejects these code points, so canonicalize removes them.
_X_INVALID_CHARACTERS = "\ufeff\ufffe\uffff"
_BLANK_LINES = re.compile(r"\n{4,}")

_NOUNS = {
    Platform.X: "X post",
    Platform.LINKEDIN: "LinkedIn post",
    Platform.FARCASTER: "Farcaster cast",
}


class ContentType(StrEnum):
    X_POST = "x-post"
    X_THREAD = "x-thread"
    LINKEDIN_POST = "linkedin-post"
    FARCASTER_CAST = "farcaster-cast"

    @property
    def platform(self) -> Platform:
        return _CONTENT_TYPE_PLATFORMS[self]


_CONTENT_TYPE_PLATFORMS = {
    ContentType.X_POST: Platform.X,
    ContentType.X_THREAD: Platform.X,
    ContentType.LINKEDIN_POST: Platform.LINKEDIN,
    ContentType.FARCASTER_CAST: Platform.FARCASTER,
}

_DEFAULT_CONTENT_TYPES = {
    Platform.X: ContentType.X_POST,
    Platform.LINKEDIN: ContentType.LINKEDIN_POST,
    Platform.FARCASTER: ContentType.FARCASTER_CAST,
}


def post_noun(platform: Platform) -> str:
    """Return what a single post is called on the platform, such as "Farcaster cast"."""
    return _NOUNS[platform]


def default_content_type(platform: Platform) -> ContentType:
    """Return the content type of a single post on the platform."""
    return _DEFAULT_CONTENT_TYPES[platform]


@dataclass(frozen=True)
class TextLimit:
    """Maximum length of a post on a platform, in the unit that the platform counts."""

    limit: int
    unit: str


def text_limit(platform: Platform, *, long_casts: bool = False) -> TextLimit:
    """Return the main length limit of the platform.

    ``long_casts`` selects the 1,024-byte Farcaster limit for accounts that can
    publish long casts. Secondary Postiz limits are applied by ``check_text``.
    """
    if platform is Platform.X:
        return TextLimit(X_MAX_WEIGHTED_LENGTH, "weighted characters")
    if platform is Platform.LINKEDIN:
        return TextLimit(LINKEDIN_MAX_LENGTH, "characters")
    if long_casts:
        return TextLimit(FARCASTER_LONG_CAST_MAX_BYTES, "bytes")
    return TextLimit(FARCASTER_MAX_BYTES, "bytes")


def canonicalize(text: str) -> str:
    """Return the form of a draft that Borker counts and sends.

    The steps remove U+FEFF, U+FFFE and U+FFFF, convert CRLF and CR to LF, apply
    NFC, trim trailing whitespace on each line, keep at most two consecutive blank
    lines and strip blank space around the whole text. Applying it twice gives
    the same result as applying it once.
    """
    for character in _X_INVALID_CHARACTERS:
        text = text.replace(character, "")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = unicodedata.normalize("NFC", text)
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    text = _BLANK_LINES.sub("\n\n\n", text)
    return text.strip()


def x_weighted_length(text: str) -> int:
    """Return the length of the text as X counts it (twitter-text v3 weights)."""
    return int(parse_tweet(text).weightedLength)


def javascript_length(text: str) -> int:
    """Return the text's JavaScript ``.length``, which counts UTF-16 code units.

    Postiz measures posts this way, so an emoji outside the Basic Multilingual
    Plane counts 2 and a family emoji joined with ZWJ counts 11.
    """
    return len(text.encode("utf-16-le")) // 2


@dataclass(frozen=True)
class TextCheck:
    """Length of a canonical post, its limit, and what stops it from being sent."""

    length: int
    limit: int
    unit: str
    problem: str | None

    @property
    def ok(self) -> bool:
        return self.problem is None


def check_text(platform: Platform, text: str, *, long_casts: bool = False) -> TextCheck:
    """Measure ``canonicalize(text)`` against the platform's limits.

    ``problem`` is None when the platform and Postiz accept the text. Otherwise
    it is a phrase that names the numbers, such as "X post is 312 weighted
    characters, over the limit of 280". ``long_casts`` raises the Farcaster limit
    from 320 to 1,024 bytes.
    """
    text = canonicalize(text)
    limit = text_limit(platform, long_casts=long_casts)
    noun = post_noun(platform)

    if not text:
        return TextCheck(0, limit.limit, limit.unit, f"{noun} is empty")

    # Checked before measuring: a lone surrogate cannot be encoded, and
    # twitter-text raises UnicodeEncodeError on it.
    invalid = _find_invalid_character(text)
    if invalid is not None:
        problem = f"{noun} contains an invalid character (U+{ord(invalid):04X})"
        return TextCheck(_measure_encodable(platform, text), limit.limit, limit.unit, problem)

    if platform is Platform.X:
        return _check_x(text, noun, limit)
    if platform is Platform.LINKEDIN:
        return _check_linkedin(text, noun, limit)
    return _check_farcaster(text, noun, limit)


def check_thread_part(text: str, *, number: int, count: int) -> TextCheck:
    """Measure one numbered part of an X thread against X's and Postiz's limits.

    The part is measured as given, numbering included, because that is what X
    receives. A problem names the part, such as "part 2/5 is 291 weighted
    characters, over the limit of 280".
    """
    noun = f"part {number}/{count}"
    limit = text_limit(Platform.X)
    if not text:
        return TextCheck(0, limit.limit, limit.unit, f"{noun} is empty")
    invalid = _find_invalid_character(text)
    if invalid is not None:
        problem = f"{noun} contains an invalid character (U+{ord(invalid):04X})"
        return TextCheck(_measure_encodable(Platform.X, text), limit.limit, limit.unit, problem)
    return _check_x(text, noun, limit)


def _check_x(text: str, noun: str, limit: TextLimit) -> TextCheck:
    parsed = parse_tweet(text)
    length = parsed.weightedLength
    raw_length = javascript_length(text)

    problem: str | None = None
    if length > limit.limit:
        problem = f"{noun} is {length:,} {limit.unit}, over the limit of {limit.limit:,}"
    elif raw_length > POSTIZ_X_MAX_LENGTH:
        problem = (
            f"{noun} is {raw_length:,} characters as Postiz counts them, over Postiz's limit of "
            f"{POSTIZ_X_MAX_LENGTH:,} (Postiz counts links at full length)"
        )
    elif not parsed.valid:
        # Not reached with the v3 configuration once the length and the invalid
        # characters are checked, but the verdict of twitter-text still decides.
        problem = f"{noun} is not valid according to twitter-text"
    return TextCheck(length, limit.limit, limit.unit, problem)


def _check_linkedin(text: str, noun: str, limit: TextLimit) -> TextCheck:
    length = javascript_length(text)
    problem: str | None = None
    if length > limit.limit:
        problem = f"{noun} is {length:,} {limit.unit}, over the limit of {limit.limit:,}"
    return TextCheck(length, limit.limit, limit.unit, problem)


def _check_farcaster(text: str, noun: str, limit: TextLimit) -> TextCheck:
    length = len(text.encode("utf-8"))
    raw_length = javascript_length(text)

    problem: str | None = None
    if length > limit.limit:
        problem = f"{noun} is {length:,} {limit.unit}, over the limit of {limit.limit:,}"
    elif raw_length > POSTIZ_FARCASTER_MAX_LENGTH:
        problem = (
            f"{noun} is {raw_length:,} characters, over Postiz's limit of "
            f"{POSTIZ_FARCASTER_MAX_LENGTH:,} for Farcaster"
        )
    return TextCheck(length, limit.limit, limit.unit, problem)


def _measure_encodable(platform: Platform, text: str) -> int:
    """Return the text's length in the platform's unit, with lone surrogates counted as "?"."""
    text = text.encode("utf-8", "replace").decode("utf-8")
    if platform is Platform.X:
        return x_weighted_length(text)
    if platform is Platform.LINKEDIN:
        return javascript_length(text)
    return len(text.encode("utf-8"))


def _find_invalid_character(text: str) -> str | None:
    """Return the first character that no platform should receive, or None.

    That is a control character other than tab and line feed, which has no place
    in a post (PostgreSQL text cannot even store NUL), or a lone surrogate, which
    has no UTF-8 encoding.
    """
    for character in text:
        if character in "\n\t":
            continue
        category = unicodedata.category(character)
        if category in ("Cc", "Cs"):
            return character
    return None

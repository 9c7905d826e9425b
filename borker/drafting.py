"""Turn raw model output into a draft that a platform accepts, or name why it cannot be one.

``prepare_draft`` runs the whole pipeline. ``clean_output`` removes what models
wrap around a post (JSON, code fences, preambles, quotes, Markdown) and
canonicalises the text. Then placeholders are reported, hashtags are
de-duplicated and capped, an X thread is split and numbered by ``split_thread``,
and every limit of the content type is checked on the final text.
"""

from __future__ import annotations

import difflib
import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from twitter_text import (  # type: ignore[import-untyped]  # no type hints in 3.0.0
    extract_emojis_with_indices,
    extract_urls_with_indices,
)

from borker.models import Platform
from borker.platforms import (
    X_MAX_WEIGHTED_LENGTH,
    ContentType,
    TextCheck,
    canonicalize,
    check_text,
    check_thread_part,
    javascript_length,
    post_noun,
    x_weighted_length,
)

HashtagPolicy = Literal["none", "sparing", "free"]

# Several schedulers cap a thread at 25 parts. No such X limit is confirmed.
MAX_THREAD_PARTS = 25
# Borker's editorial range for a LinkedIn post, in words. LinkedIn sets no such limit.
LINKEDIN_MIN_WORDS = 150
LINKEDIN_MAX_WORDS = 300
# LinkedIn publishes no number for its "see more" fold. About 210 characters is
# the usual figure for desktop, and some devices fold earlier, so a hook should
# end within 140.
LINKEDIN_FOLD_LENGTH = 210
LINKEDIN_HOOK_LENGTH = 140
# Drafts at least this similar to a recent post are rejected, because X (error 187)
# and LinkedIn (422 DUPLICATE_POST) refuse repeats. With ``similarity``, 0.85 means
# that about 85% of the words match in order, for example 17 of 20 with 3 replaced.
NEAR_DUPLICATE_THRESHOLD = 0.85

# Maximum number of hashtags per draft, by hashtag policy and platform.
HASHTAG_CAPS: dict[HashtagPolicy, dict[Platform, int]] = {
    "none": {Platform.X: 0, Platform.LINKEDIN: 0, Platform.FARCASTER: 0},
    "sparing": {Platform.X: 2, Platform.LINKEDIN: 3, Platform.FARCASTER: 0},
    "free": {Platform.X: 2, Platform.LINKEDIN: 5, Platform.FARCASTER: 2},
}


@dataclass(frozen=True)
class DraftRules:
    """Settings of one account that decide what a valid draft looks like."""

    content_type: ContentType
    long_casts: bool = False
    hashtag_policy: HashtagPolicy = "sparing"
    # Lower-case tags without "#". None allows any tag.
    allowed_hashtags: frozenset[str] | None = None
    # "link in bio" is a placeholder unless the account has a link configured.
    link_configured: bool = False


@dataclass(frozen=True)
class DraftCheck:
    """A prepared draft, what it publishes, and what stops or concerns its approval."""

    # The text that Borker stores. An X thread is its numbered parts separated
    # by blank lines: "1/5 first…\n\n2/5 second…".
    text: str
    # The texts that get published: the numbered thread parts, or [text] for one post.
    parts: list[str]
    # Each problem names one violation with its numbers. No problems means approvable.
    problems: list[str]
    # Changes made to the text and concerns that do not block approval.
    warnings: list[str]


class ThreadTooLong(ValueError):
    """Raised by ``split_thread`` when the text needs more parts than allowed.

    ``parts`` contains the complete numbered split, so it can still be shown.
    """

    def __init__(self, parts: list[str], max_parts: int) -> None:
        super().__init__(f"X thread has {len(parts)} parts, over the maximum of {max_parts}")
        self.parts = parts
        self.max_parts = max_parts


# ---------------------------------------------------------------------------
# The draft pipeline
# ---------------------------------------------------------------------------


def prepare_draft(raw: str | Sequence[str], rules: DraftRules, *, recent: Sequence[str] = ()) -> DraftCheck:
    """Clean model output, apply the account's rules and check every platform limit.

    ``raw`` is the model's text, or the parts of a structured output, which are
    cleaned one by one and joined with blank lines. ``recent`` contains the
    account's recent posts, against which near-duplicates are reported.
    """
    content_type = rules.content_type
    platform = content_type.platform
    text = _clean_raw(raw)
    problems: list[str] = []
    warnings: list[str] = []

    if not text:
        noun = "X thread" if content_type is ContentType.X_THREAD else post_noun(platform)
        return DraftCheck(text="", parts=[], problems=[f"{noun} is empty"], warnings=[])

    problems.extend(find_placeholders(text, link_configured=rules.link_configured))

    text, hashtag_warnings = apply_hashtag_rules(
        text, platform, policy=rules.hashtag_policy, allowed=rules.allowed_hashtags
    )
    warnings.extend(hashtag_warnings)

    if content_type is ContentType.X_THREAD:
        parts, thread_problems = _prepare_thread(text)
        text = "\n\n".join(parts)
        problems.extend(thread_problems)
    else:
        if content_type is ContentType.X_POST:
            text, bullet_warnings = _fit_x_bullets(text)
            warnings.extend(bullet_warnings)
        parts = [text]
        check = check_text(platform, text, long_casts=rules.long_casts)
        if check.problem is not None:
            problems.append(check.problem)

    if content_type is ContentType.LINKEDIN_POST:
        word_problem = linkedin_word_problem(text)
        if word_problem is not None:
            problems.append(word_problem)
        warnings.extend(linkedin_warnings(text))

    repeat = _near_duplicate_problem(text, recent)
    if repeat is not None:
        problems.append(repeat)

    return DraftCheck(text=text, parts=parts, problems=problems, warnings=warnings)


def check_content(content_type: ContentType, text: str, *, long_casts: bool = False) -> TextCheck:
    """Measure a stored draft, for display and for re-checks after a human edit.

    An X thread is split at the blank lines before each "i/n " numbering, and the
    result reports the longest part's weighted length against 280 with the first
    problem of any part. A LinkedIn post also gets the 150 to 300 word rule.
    Other types are measured by ``check_text``.
    """
    if content_type is ContentType.X_THREAD:
        return _check_stored_thread(canonicalize(text))

    check = check_text(content_type.platform, text, long_casts=long_casts)
    if content_type is ContentType.LINKEDIN_POST and check.problem is None:
        problem = linkedin_word_problem(canonicalize(text))
        if problem is not None:
            return TextCheck(check.length, check.limit, check.unit, problem)
    return check


def _clean_raw(raw: str | Sequence[str]) -> str:
    if isinstance(raw, str):
        return clean_output(raw)
    cleaned = [clean_output(part) for part in raw]
    return "\n\n".join(part for part in cleaned if part)


def _prepare_thread(text: str) -> tuple[list[str], list[str]]:
    """Split the text into numbered parts and return them with the problems of the thread."""
    problems: list[str] = []
    try:
        parts = split_thread(text, max_parts=MAX_THREAD_PARTS)
    except ThreadTooLong as error:
        parts = error.parts
        problems.append(f"{error}; shorten the text")

    if not parts:
        return parts, ["X thread is empty"]
    for number, part in enumerate(parts, start=1):
        check = check_thread_part(part, number=number, count=len(parts))
        if check.problem is not None:
            problems.append(check.problem)
    return parts, problems


def _check_stored_thread(text: str) -> TextCheck:
    unit = "weighted characters"
    if not text:
        return TextCheck(0, X_MAX_WEIGHTED_LENGTH, unit, "X thread is empty")

    parts = _NUMBERED_PART_START.split(text)
    checks = [check_thread_part(part, number=number, count=len(parts)) for number, part in enumerate(parts, start=1)]
    longest = max(check.length for check in checks)
    return TextCheck(longest, X_MAX_WEIGHTED_LENGTH, unit, _stored_thread_problem(parts, checks))


def _stored_thread_problem(parts: list[str], checks: list[TextCheck]) -> str | None:
    """Return the first problem of a stored thread: its part count, then numbering, then lengths."""
    count = len(parts)
    if count > MAX_THREAD_PARTS:
        return f"X thread has {count} parts, over the maximum of {MAX_THREAD_PARTS}"
    for number, part in enumerate(parts, start=1):
        expected = f"{number}/{count}"
        if not part.startswith(expected + " "):
            return f'part {number} of {count} does not start with its numbering "{expected}"'
    for check in checks:
        if check.problem is not None:
            return check.problem
    return None


# "•" weighs 2 on X and "-" weighs 1, so bullets are the cheapest characters to
# trade when a post is just over the limit.
_BULLET_MARK = re.compile(r"^• ", re.MULTILINE)


def _fit_x_bullets(text: str) -> tuple[str, list[str]]:
    """Replace "• " bullets with "- " when the post is over X's limits and that makes it fit."""
    if check_text(Platform.X, text).ok or not _BULLET_MARK.search(text):
        return text, []
    dashed = _BULLET_MARK.sub("- ", text)
    if not check_text(Platform.X, dashed).ok:
        return text, []
    return dashed, ['replaced "•" bullets with "-" so that the X post fits, because X counts "•" as 2']


# ---------------------------------------------------------------------------
# LinkedIn
# ---------------------------------------------------------------------------

# A person mention typed as "@Name" is published as plain text through Postiz.
# Organization mentions in the form "@[Name](urn:li:organization:…)" do not match.
_PLAIN_MENTION = re.compile(r"(?<![\w@])@\w+")


def count_words(text: str) -> int:
    """Count the whitespace-separated words that contain a letter or digit.

    Bullets, dashes and emoji standing alone are not words. A URL is one word.
    """
    return sum(1 for token in text.split() if re.search(r"\w", token))


def linkedin_word_problem(text: str) -> str | None:
    """Return the problem with the post's word count, or None when it has 150 to 300 words."""
    words = count_words(text)
    if words < LINKEDIN_MIN_WORDS:
        return f"LinkedIn post has {words} words, under the minimum of {LINKEDIN_MIN_WORDS}"
    if words > LINKEDIN_MAX_WORDS:
        return f"LinkedIn post has {words} words, over the maximum of {LINKEDIN_MAX_WORDS}"
    return None


def linkedin_warnings(text: str) -> list[str]:
    """Return the non-blocking concerns of a LinkedIn post: a long hook and plain "@" mentions."""
    warnings: list[str] = []
    first_line = text.split("\n", 1)[0]
    if len(first_line) > LINKEDIN_FOLD_LENGTH:
        warnings.append(
            f"hook: the first line is {len(first_line)} characters, but LinkedIn shows only about "
            f'{LINKEDIN_FOLD_LENGTH} before "see more"; end the hook with a line break within '
            f"{LINKEDIN_HOOK_LENGTH} characters"
        )

    url_spans = [(url["indices"][0], url["indices"][1]) for url in extract_urls_with_indices(text)]
    mentions = list(
        dict.fromkeys(
            match.group()
            for match in _PLAIN_MENTION.finditer(text)
            if not any(start <= match.start() < end for start, end in url_spans)
        )
    )
    if mentions:
        names = ", ".join(f'"{mention}"' for mention in mentions)
        warnings.append(f'LinkedIn shows {names} as plain text, not as a mention; write the name without "@"')
    return warnings


# ---------------------------------------------------------------------------
# Near-duplicates
# ---------------------------------------------------------------------------

_THREAD_NUMBERING = re.compile(r"^\d{1,3}/\d{1,3}[ \t]+", re.MULTILINE)


def similarity(a: str, b: str) -> float:
    """Return how alike two posts are, from 0 (nothing shared) to 1 (the same words).

    Both texts are canonicalised, thread numbering at line starts is removed,
    and the words are case-folded. The result is ``difflib.SequenceMatcher``'s
    ratio on the two word sequences: twice the number of words matched in order,
    divided by the total number of words. Punctuation and spacing do not count.
    """
    words_a = _comparison_words(a)
    words_b = _comparison_words(b)
    return difflib.SequenceMatcher(None, words_a, words_b, autojunk=False).ratio()


def _comparison_words(text: str) -> list[str]:
    text = _THREAD_NUMBERING.sub("", canonicalize(text))
    return re.findall(r"\w+", text.casefold())


def _near_duplicate_problem(text: str, recent: Sequence[str]) -> str | None:
    scores = [similarity(text, post) for post in recent if post.strip()]
    if not scores:
        return None
    highest = max(scores)
    if highest < NEAR_DUPLICATE_THRESHOLD:
        return None
    # Rounded down, so a score just under 1 never reads as an exact repeat.
    displayed_score = int(highest * 100) / 100
    return f"nearly repeats a recent post (similarity {displayed_score:.2f}); choose a new angle"


# ---------------------------------------------------------------------------
# Placeholders
# ---------------------------------------------------------------------------

# Nouns that models put in brackets where they lack the real value.
_PLACEHOLDER_NOUNS = (
    r"(?:link|url|website|name|full name|first name|company|company name|brand|product|product name|"
    r"date|time|location|city|title|job title|handle|email|phone|number|event|event name|topic|industry)"
)
_PLACEHOLDER_PHRASES = rf"(?:{_PLACEHOLDER_NOUNS}|(?:your|insert|add|enter)\b[^\]\}}>\n]*)"
_PLACEHOLDER = re.compile(
    rf"\[[ \t]*{_PLACEHOLDER_PHRASES}[ \t]*\]"
    rf"|\{{\{{?[ \t]*{_PLACEHOLDER_PHRASES}[ \t]*\}}\}}?"
    r"|\{\{[^{}\n]+\}\}"
    rf"|<[ \t]*{_PLACEHOLDER_PHRASES}[ \t]*>"
    # Two or more capitalised words in brackets, such as "[Product Launch Date]".
    r"|\[[A-Z][\w'’-]*(?:[ \t]+[A-Z][\w'’-]*)+\]",
    re.IGNORECASE,
)
# Case-insensitive matching above would accept "[big news]" in the last
# alternative, so capitalisation is checked on each match again.
_CAPITALISED_WORDS = re.compile(r"\[[A-Z][\w'’-]*(?:[ \t]+[A-Z][\w'’-]*)+\]")
_PLACEHOLDER_WORDS = re.compile(rf"^[\[{{<]+[ \t]*{_PLACEHOLDER_PHRASES}[ \t]*[\]}}>]+$", re.IGNORECASE)
_LINK_IN_BIO = re.compile(r"\blink (?:is )?in (?:my |our |the )?bio\b", re.IGNORECASE)


def find_placeholders(text: str, *, link_configured: bool = False) -> list[str]:
    """Return one problem per distinct placeholder in the text, in order of appearance.

    Placeholders are bracketed stand-ins such as "[link]", "[URL]", "{link}",
    "<insert date>", "{{name}}" and "[Your Name]", and "link in bio" when the
    account has no link configured.
    """
    found: list[str] = []
    for match in _PLACEHOLDER.finditer(text):
        placeholder = match.group()
        is_known_phrase = _PLACEHOLDER_WORDS.match(placeholder) is not None
        if is_known_phrase or placeholder.startswith("{{") or _CAPITALISED_WORDS.fullmatch(placeholder):
            found.append(placeholder)
    if not link_configured:
        found.extend(match.group() for match in _LINK_IN_BIO.finditer(text))

    unique = dict.fromkeys(found)
    return [f'contains the placeholder "{placeholder}"; write the real text or leave it out' for placeholder in unique]


# ---------------------------------------------------------------------------
# Hashtags
# ---------------------------------------------------------------------------

# A hashtag needs a letter or underscore, so "#1" is not one. A "#" after a word
# character, "/" or "&" is part of a URL or an HTML entity.
_HASHTAG = re.compile(r"(?<![\w&/#＃])[#＃](?![\ufe0f\u20e3])(\w*[^\W\d]\w*)")
# Characters after which a run of hashtags at the end of a line is an appended
# tag list rather than part of the sentence.
_SENTENCE_END = ".!?…:;)]\"”’"
_TRAILING_HASHTAGS = re.compile(r"(?:(?<!\S)[#＃]\w+[ \t]*)+$")


@dataclass(frozen=True)
class _Hashtag:
    line: int
    start: int
    end: int
    tag: str

    @property
    def key(self) -> str:
        return self.tag.casefold()


def apply_hashtag_rules(
    text: str,
    platform: Platform,
    *,
    policy: HashtagPolicy = "sparing",
    allowed: frozenset[str] | None = None,
) -> tuple[str, list[str]]:
    """Remove repeated, unlisted and surplus hashtags, and return the text with warnings.

    Repeats are matched case-insensitively and the first occurrence stays. Tags
    missing from ``allowed`` (lower case, no "#") are removed. Of the rest, the
    first ``HASHTAG_CAPS[policy][platform]`` stay, so the surplus is removed from
    the end of the text. A removed tag inside a sentence keeps its word and loses
    only the "#", so the sentence still reads. A removed tag in a tag list at the
    end of a line disappears with its word.
    """
    lines = text.split("\n")
    hashtags = [tag for number, line in enumerate(lines) for tag in _find_hashtags(line, number)]
    if not hashtags:
        return text, []

    repeated: list[_Hashtag] = []
    unlisted: list[_Hashtag] = []
    accepted: list[_Hashtag] = []
    seen: set[str] = set()
    for hashtag in hashtags:
        if hashtag.key in seen:
            repeated.append(hashtag)
        elif allowed is not None and hashtag.key not in allowed:
            unlisted.append(hashtag)
        else:
            seen.add(hashtag.key)
            accepted.append(hashtag)
    cap = HASHTAG_CAPS[policy][platform]
    surplus = accepted[cap:]

    removed = repeated + unlisted + surplus
    if not removed:
        return text, []

    warnings: list[str] = []
    if repeated:
        warnings.append(f"removed repeated hashtags: {_tag_list(repeated)}")
    if unlisted:
        warnings.append(f"removed hashtags that are not on the allowed list: {_tag_list(unlisted)}")
    if surplus:
        warnings.append(
            f'removed hashtags over the limit of {cap} for {platform.label} with the "{policy}" '
            f"hashtag policy: {_tag_list(surplus)}"
        )
    return _remove_hashtags(lines, removed), warnings


def _find_hashtags(line: str, number: int) -> list[_Hashtag]:
    url_spans = [(url["indices"][0], url["indices"][1]) for url in extract_urls_with_indices(line)]
    hashtags = []
    for match in _HASHTAG.finditer(line):
        if any(start <= match.start() < end for start, end in url_spans):
            continue
        hashtags.append(_Hashtag(line=number, start=match.start(), end=match.end(), tag=match.group(1)))
    return hashtags


def _tag_list(hashtags: list[_Hashtag]) -> str:
    return ", ".join(f"#{hashtag.tag}" for hashtag in hashtags)


def _remove_hashtags(lines: list[str], removed: list[_Hashtag]) -> str:
    by_line: dict[int, list[_Hashtag]] = {}
    for hashtag in removed:
        by_line.setdefault(hashtag.line, []).append(hashtag)

    result: list[str] = []
    for number, line in enumerate(lines):
        edits = sorted(by_line.get(number, []), key=lambda hashtag: hashtag.start, reverse=True)
        if not edits:
            result.append(line)
            continue
        tag_list_start = _tag_list_start(line)
        for hashtag in edits:
            if hashtag.start >= tag_list_start:
                line = line[: hashtag.start].rstrip(" \t") + line[hashtag.end :]
            else:
                line = line[: hashtag.start] + line[hashtag.start + 1 :]
        line = line.strip(" \t")
        # A line that contained only removed tags goes, rather than leaving a blank line.
        if line:
            result.append(line)
    return canonicalize("\n".join(result))


def _tag_list_start(line: str) -> int:
    """Return where the tag list at the end of the line starts, or len(line) when it has none.

    A tag list is a run of two or more hashtags that ends the line, or a single
    hashtag that ends the line and follows nothing, the end of a sentence, or a
    symbol such as an emoji. "We love #Rust" keeps its hashtag in the sentence.
    """
    match = _TRAILING_HASHTAGS.search(line)
    if match is None:
        return len(line)
    before = line[: match.start()].rstrip(" \t")
    tag_count = len(_HASHTAG.findall(match.group()))
    if tag_count >= 2 or not before or _ends_sentence_or_symbol(before):
        return match.start()
    return len(line)


def _ends_sentence_or_symbol(text: str) -> bool:
    last = text[-1]
    # An emoji may end in variation selector 16, which is not a symbol itself.
    return last in _SENTENCE_END or last == "\ufe0f" or unicodedata.category(last).startswith("S")


# ---------------------------------------------------------------------------
# X threads
# ---------------------------------------------------------------------------

# Break levels, from the best place to end a part to the worst.
_BREAK_PARAGRAPH = 3
_BREAK_SENTENCE = 2
_BREAK_WORD = 1
_BREAK_CHARACTER = 0

# Whitespace where a line may break. No-break spaces keep their words together.
_BREAKABLE_SPACE = re.compile(r"([^\S\u00a0\u2007\u202f]+)")
_SENTENCE_FINAL = re.compile(r"[.!?…。！？][\"'”’)\]」』]*$")
_CJK_SENTENCE_FINAL = "。！？"
_MENTION = re.compile(r"(?<![\w@])@\w{1,15}")
_CASHTAG = re.compile(r"(?<![\w$])\$[A-Za-z]{1,6}(?:[._][A-Za-z]{1,2})?(?!\w)")
_NUMBERED_PART_START = re.compile(r"\n{2,}(?=\d{1,3}/\d{1,3} )")

# Numbering that models add to thread parts: "1/", "1/5", "(1/5)", "Tweet 1/5:"
# at the start of a line, or "1/5" at the end of one.
_LEADING_MARKER = re.compile(
    r"^(?:(?:tweet|post|part)[ \t]*)?[(\[]?(\d{1,2})[ \t]*/[ \t]*(\d{1,2}|n)?[)\]]?[.:]?(?:[ \t]+|$)",
    re.IGNORECASE,
)
_TRAILING_MARKER = re.compile(r"[ \t]*[(\[]?(\d{1,2})/(\d{1,2})[)\]]?$")
# The thread emoji, with an optional pointing-down emoji, at the start or end of a line.
_THREAD_EMOJI = re.compile(r"^[ \t]*🧵[ \t]*(?:👇|⬇️?)?[ \t]*|[ \t]*🧵[ \t]*(?:👇|⬇️?)?[ \t]*$", re.MULTILINE)
_THREAD_LABEL_LINE = re.compile(r"^(?:a[ \t]+)?thread[ \t]*[:.]?$", re.IGNORECASE)


@dataclass(frozen=True)
class _Piece:
    """A unit that a thread part never splits, with the whitespace before it in the text."""

    text: str
    separator: str
    level: int
    weight: int
    raw_length: int


def split_thread(text: str, *, max_parts: int = MAX_THREAD_PARTS, limit: int = X_MAX_WEIGHTED_LENGTH) -> list[str]:
    """Split text into numbered X thread parts, each within ``limit`` with its "i/n " prefix.

    The text is canonicalised and numbering that the model added ("1/", "1/5",
    "(1/5)", "🧵") is removed first, so the count always comes from this split.
    Each part ends at the furthest paragraph break that fits. Without one, it ends
    at the furthest sentence end or line break, then the furthest space. A single
    word longer than a whole part is broken between characters, but never inside
    a URL, @mention, #hashtag, $cashtag or emoji sequence. Such an entity that
    alone exceeds the limit, like a URL longer than 280 characters, gets a part of
    its own that is over the limit, which ``check_thread_part`` reports.

    A part fits when its X weighted length and its JavaScript length (Postiz's
    check) are both at most ``limit``. Returns [] for empty text. Raises
    ThreadTooLong when more than ``max_parts`` parts are needed.
    """
    body = strip_thread_markers(text)
    if not body:
        return []

    # The prefix width depends on the number of parts, so the split is repeated
    # with a wider prefix until the count has no more digits than were reserved.
    digits = 1
    while True:
        widest_prefix = f"{'9' * digits}/{'9' * digits} "
        bodies = _pack_parts(body, widest_prefix, limit)
        if len(str(len(bodies))) <= digits:
            break
        digits += 1

    count = len(bodies)
    parts = [f"{number}/{count} {part}" for number, part in enumerate(bodies, start=1)]
    if count > max_parts:
        raise ThreadTooLong(parts, max_parts)
    return parts


def strip_thread_markers(text: str) -> str:
    """Remove the thread numbering and thread emoji that a model added, and canonicalise.

    Leading markers are removed only when they count 1, 2, 3… down the lines, so
    a line that starts with "24/7" or "1/2 price" stays. Markers that are not
    part of that count stay too. A numbered line that did not start a paragraph
    starts one afterwards, so that the split prefers to end a part there.
    """
    text = canonicalize(text)
    text = _THREAD_EMOJI.sub("", text)
    lines = [line for line in text.split("\n") if not _THREAD_LABEL_LINE.match(line.strip())]

    numbered = _counted_markers(lines, _LEADING_MARKER)
    if numbered:
        result: list[str] = []
        for index, line in enumerate(lines):
            marker = numbered.get(index)
            if marker is not None:
                line = line[marker.end() :]
                if result and result[-1]:
                    result.append("")
            result.append(line)
        lines = result

    for index, marker in _counted_markers(lines, _TRAILING_MARKER).items():
        lines[index] = lines[index][: marker.start()]
    return canonicalize("\n".join(lines))


def _counted_markers(lines: list[str], pattern: re.Pattern[str]) -> dict[int, re.Match[str]]:
    """Return the markers, by line index, that count 1, 2, 3… down the lines.

    Markers out of that sequence are skipped. When the counted markers name
    different totals, as in "1/2 cup" and "2/3 cup", they are fractions and none
    is returned. One marker alone counts only as a bare "1/", "1/1" or "1/n",
    because "1/2" alone is more likely a fraction than a one-part thread.
    """
    counted: dict[int, re.Match[str]] = {}
    expected = 1
    for index, line in enumerate(lines):
        match = pattern.search(line)
        if match is None or int(match.group(1)) != expected:
            continue
        counted[index] = match
        expected += 1

    totals = {match.group(2).lower() for match in counted.values() if match.group(2)}
    if len(totals) > 1:
        return {}
    if len(counted) == 1 and not totals <= {"1", "n"}:
        return {}
    return counted


def _pack_parts(body: str, prefix: str, limit: int) -> list[str]:
    """Split the body into part texts that fit ``limit`` behind a prefix as wide as ``prefix``."""
    budget_weight = limit - x_weighted_length(prefix)
    budget_raw = limit - javascript_length(prefix)
    pieces = _split_pieces(body, budget_weight, budget_raw)

    parts: list[str] = []
    start = 0
    while start < len(pieces):
        end = _part_end(pieces, start, budget_weight, budget_raw)
        part = pieces[start].text + "".join(piece.separator + piece.text for piece in pieces[start + 1 : end])
        parts.append(part)
        start = end
    return parts


def _part_end(pieces: list[_Piece], start: int, budget_weight: int, budget_raw: int) -> int:
    """Return the index after the last piece of the part that starts at ``start``.

    The part ends at the break with the highest level among those that fit, and
    at the furthest one of that level. A part has at least one piece.
    """
    weight = pieces[start].weight
    raw_length = pieces[start].raw_length
    best_end = start + 1
    best_level = -1
    for end in range(start + 1, len(pieces)):
        following = pieces[end]
        if following.level >= best_level:
            best_end, best_level = end, following.level

        weight += _weight(following.separator) + following.weight
        raw_length += javascript_length(following.separator) + following.raw_length
        if weight > budget_weight or raw_length > budget_raw:
            return best_end
    return len(pieces)


def _split_pieces(body: str, budget_weight: int, budget_raw: int) -> list[_Piece]:
    """Cut the body into words with the whitespace before each and the quality of that break.

    Lengths add up across pieces because X counts URLs and emoji sequences within
    one word, and no URL or emoji contains whitespace.
    """
    tokens = _BREAKABLE_SPACE.split(body)
    pieces: list[_Piece] = []
    previous_word = ""
    for index in range(0, len(tokens), 2):
        word = tokens[index]
        separator = tokens[index - 1] if index else ""
        level = _break_level(separator, previous_word)
        previous_word = word
        if _weight(word) <= budget_weight and javascript_length(word) <= budget_raw:
            pieces.append(_Piece(word, separator, level, _weight(word), javascript_length(word)))
        else:
            pieces.extend(_break_word(word, separator, level))
    return pieces


def _break_level(separator: str, previous_word: str) -> int:
    if "\n\n" in separator:
        return _BREAK_PARAGRAPH
    if "\n" in separator or _SENTENCE_FINAL.search(previous_word):
        return _BREAK_SENTENCE
    return _BREAK_WORD


def _break_word(word: str, separator: str, level: int) -> list[_Piece]:
    """Cut a word that does not fit in one part into its smallest unbreakable units.

    Chinese and Japanese text has no spaces, so this is where it gets its breaks.
    A break after "。", "！" or "？" counts as a sentence end.
    """
    pieces: list[_Piece] = []
    for unit in _unbreakable_units(word):
        if pieces:
            previous = pieces[-1].text
            unit_level = _BREAK_SENTENCE if previous[-1] in _CJK_SENTENCE_FINAL else _BREAK_CHARACTER
            pieces.append(_Piece(unit, "", unit_level, _weight(unit), javascript_length(unit)))
        else:
            pieces.append(_Piece(unit, separator, level, _weight(unit), javascript_length(unit)))
    return pieces


def _unbreakable_units(word: str) -> list[str]:
    """Cut a word into URLs, mentions, hashtags, cashtags, emoji sequences and single characters.

    A character keeps the combining marks, variation selectors, emoji modifiers
    and zero-width joiners that follow it.
    """
    entity_ends = _entity_spans(word)
    units: list[str] = []
    index = 0
    while index < len(word):
        end = entity_ends.get(index)
        if end is None:
            end = index + 1
            while end < len(word) and end not in entity_ends and _continues_character(word[end - 1], word[end]):
                end += 1
        units.append(word[index:end])
        index = end
    return units


def _entity_spans(word: str) -> dict[int, int]:
    """Return the start and end of each entity in the word, with overlapping entities merged."""
    spans = [(url["indices"][0], url["indices"][1]) for url in extract_urls_with_indices(word)]
    spans += [(emoji["indices"][0], emoji["indices"][1]) for emoji in extract_emojis_with_indices(word)]
    for pattern in (_MENTION, _HASHTAG, _CASHTAG):
        spans += [(match.start(), match.end()) for match in pattern.finditer(word)]

    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return dict(merged)


def _continues_character(previous: str, character: str) -> bool:
    """Return whether ``character`` belongs to the same visible character as ``previous``.

    NOTE: an approximation of Unicode extended grapheme clusters (UAX #29), since
    Borker does not depend on a grapheme library. Emoji sequences are found by
    twitter-text's emoji pattern before this is consulted.
    """
    if previous == "\u200d" or character == "\u200d":
        return True
    if unicodedata.category(character) in ("Mn", "Mc", "Me"):
        return True
    code = ord(character)
    is_variation_selector = 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF
    is_emoji_modifier = 0x1F3FB <= code <= 0x1F3FF
    is_tag = 0xE0020 <= code <= 0xE007F
    return is_variation_selector or is_emoji_modifier or is_tag


@lru_cache(maxsize=4096)
def _weight(text: str) -> int:
    return x_weighted_length(text) if text else 0


# ---------------------------------------------------------------------------
# Output clean-up
# ---------------------------------------------------------------------------

# Models wrap posts in JSON, fences, quotes, preambles and Markdown although the
# prompt requests plain text. Each pattern below matches only the wrapping, so
# that a post that merely starts with "Here's" or ends with a "Let me know" call
# to action is left alone.

_FENCE_LINE = re.compile(r"^[ \t]*(?:```|~~~)[\w+-]*[ \t]*$", re.MULTILINE)
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_UNDERSCORE_BOLD = re.compile(r"(?<!\w)__(?=\S)(.+?)(?<=\S)__(?!\w)")
# A lower-case identifier between double underscores is a Python name such as
# "__init__", not bold text.
_DUNDER_NAME = re.compile(r"[a-z0-9_]+")
_HEADING = re.compile(r"^[ \t]*#{1,6}[ \t]+", re.MULTILINE)
_RULE_LINE = re.compile(r"^[ \t]*(?:-{3,}|\*{3,}|_{3,}|={3,})[ \t]*$", re.MULTILINE)
_BULLET = re.compile(r"^[ \t]*[-*][ \t]+(?=\S)", re.MULTILINE)
_MARKDOWN_LINK = re.compile(r"\[([^\]\n]+)\]\((https?://[^)\s]+)\)")
_AUTOLINK = re.compile(r"<(https?://[^>\s]+)>")

# Words that mark a line as talk about the post rather than part of it.
_ABOUT_THE_POST = re.compile(
    r"\b(?:post|draft|tweet|cast|thread|version|caption|rewrite|rewritten|json)s?\b(?!-)", re.IGNORECASE
)
_HERE_LINE = re.compile(r"^here(?:'s|’s| is| are)\b", re.IGNORECASE)
_ACKNOWLEDGEMENT_LINE = re.compile(
    r"^(?:sure|certainly|of course|absolutely|okay|ok|got it|great)\b", re.IGNORECASE
)
_BARE_ACKNOWLEDGEMENT = re.compile(
    r"^(?:sure|certainly|of course|absolutely|okay|ok|got it|great)(?: thing)?[.!,]*$", re.IGNORECASE
)
_LABEL_PREFIX = re.compile(
    r"^(?:(?:final |revised |shorter |new )?(?:draft|post|tweet|cast|thread)"
    r"|(?:x|linkedin|farcaster) (?:post|cast|thread))"
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
_MAX_WRAPPER_LINES = 3

_JSON_START = re.compile(r"^[ \t]*[{\[]", re.MULTILINE)
_JSON_TEXT_FIELDS = ("text", "post", "content", "parts")
_JSON_DECODER = json.JSONDecoder()


def clean_output(raw: str) -> str:
    """Remove what a model wrapped around a post and return the canonical text.

    Unwraps a JSON object with a "text", "post", "content" or "parts" field, or
    a JSON list of strings. Removes code fences, HTML comments, preambles such as
    "Here is your post:", "Sure!" or "Draft:", postambles such as "Let me know if
    you'd like changes", and one pair of quotes around the whole text. Converts
    Markdown to plain text: bold and headings lose their marks, "- " and "* "
    bullets become "• ", rules go, and links become "text url". Finally applies
    ``canonicalize``.
    """
    text = canonicalize(raw)
    text = _FENCE_LINE.sub("", text)
    unwrapped = _unwrap_json(text)
    if unwrapped is not None:
        text = unwrapped

    text = _HTML_COMMENT.sub("", text)
    text = _BOLD.sub(r"\1", text)
    text = _UNDERSCORE_BOLD.sub(_underscore_bold_text, text)
    text = _HEADING.sub("", text)
    text = _RULE_LINE.sub("", text)
    text = _BULLET.sub("• ", text)
    text = _MARKDOWN_LINK.sub(_markdown_link_text, text)
    text = _AUTOLINK.sub(r"\1", text)

    lines = text.strip().split("\n")
    lines = _drop_preamble(lines)
    lines = _drop_postamble(lines)
    return canonicalize(_strip_wrapping_quotes("\n".join(lines).strip()))


def _unwrap_json(text: str) -> str | None:
    """Return the post inside a JSON wrapper, or None when the text is not one.

    The JSON value must start a line, and the lines around it may only be a
    preamble and a postamble, so a post that quotes JSON is left alone.
    """
    for match in _JSON_START.finditer(text):
        start = match.end() - 1
        try:
            value, end = _JSON_DECODER.raw_decode(text, start)
        except json.JSONDecodeError:
            continue
        post = _post_from_json(value)
        if post is None:
            continue
        before = text[: match.start()].split("\n")
        after = [line.strip() for line in text[end:].split("\n") if line.strip()]
        if _drop_preamble(before) or not all(_POSTAMBLE_LINE.match(line) for line in after):
            continue
        return post
    return None


def _post_from_json(value: object) -> str | None:
    """Return the post text in a decoded JSON value, or None when it contains none.

    The first field with text wins. Lists of parts are joined with blank lines,
    and an empty list is an empty post. A "hashtags" list and a "cta_url" string
    next to the text are appended in a last paragraph, so that the hashtag rules
    and the length checks see them.
    """
    if isinstance(value, list):
        parts: list[str] = []
        for item in value:
            part = item if isinstance(item, str) else _post_from_json(item)
            if part is None:
                return None
            if part.strip():
                parts.append(part.strip())
        return "\n\n".join(parts)
    if not isinstance(value, dict):
        return None

    bodies: list[str] = []
    for field in _JSON_TEXT_FIELDS:
        field_value = value.get(field)
        if isinstance(field_value, str):
            bodies.append(field_value)
        elif isinstance(field_value, (dict, list)):
            nested = _post_from_json(field_value)
            if nested is not None:
                bodies.append(nested)
    if not bodies:
        return None
    body = next((text for text in bodies if text.strip()), bodies[0])

    extras: list[str] = []
    link = value.get("cta_url")
    if isinstance(link, str) and link.strip():
        extras.append(link.strip())
    hashtags = value.get("hashtags")
    if isinstance(hashtags, list):
        extras += ["#" + tag.strip().lstrip("#") for tag in hashtags if isinstance(tag, str) and tag.strip("# ")]
    if extras:
        body = f"{body.rstrip()}\n\n{' '.join(extras)}"
    return body


def _underscore_bold_text(match: re.Match[str]) -> str:
    inner = match.group(1)
    return match.group() if _DUNDER_NAME.fullmatch(inner) else inner


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
            rest = first[label.end() :]
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

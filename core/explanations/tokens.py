"""The tokens of a raw tweet, with character offsets, and where each one lands after preprocessing.

Explanations are given on the words the person typed, not on the model's internal features.
:func:`raw_tokens` cuts the original text into URLs, @mentions, #hashtags, HTML entities,
numbers, words (with inner apostrophes) and runs of one punctuation mark; :func:`align` maps
every character of the preprocessed text the model sees back to the raw token it came from.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass

# Same shapes as core.data.cleaning's rules, so one raw token cleans to whole cleaned tokens.
_RAW_TOKEN_RE = re.compile(
    r"(?:https?://|www\.)\S+"  # URL (cleaned to "http")
    r"|[@#]\w+"  # @mention (-> "@user") or #hashtag (-> the word)
    r"|&(?:#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+\d*);"  # HTML entity (-> its character)
    r"|[-+]?\d+(?:[.,:/]\d+)*(?!\w)"  # number (-> "0")
    r"|\w+(?:['’]\w+)*"  # word, contraction
    r"|(\S)\1*"  # one symbol, or a run of the same one ("!!!")
)


@dataclass(frozen=True)
class RawToken:
    """One token of the original text: ``text[start:end]``."""

    text: str
    start: int
    end: int


def raw_tokens(text: str) -> list[RawToken]:
    """Cut a raw tweet into tokens with their character offsets (Python ``str`` indices).

    Args:
        text: the tweet exactly as received.

    Returns:
        The tokens in order; whitespace belongs to no token.
    """
    return [RawToken(m.group(0), m.start(), m.end()) for m in _RAW_TOKEN_RE.finditer(text)]


def align(tokens: list[RawToken], processed: str, preprocess: Callable[[str], str]) -> list[int | None]:
    """For each character of ``processed`` (the model's input), the index of the raw token it came from.

    Each raw token is preprocessed alone and the results are matched, character by character
    and ignoring spaces, against ``processed`` (the whole tweet preprocessed at once) with
    :class:`difflib.SequenceMatcher`; so the rare token whose preprocessing depends on its
    neighbours only loses its own characters, never shifts the others.

    Args:
        tokens: the raw tokens of the tweet.
        processed: the whole tweet through the model's preprocessor.
        preprocess: the same preprocessor, applied to one raw token.

    Returns:
        A list as long as ``processed``: a token index, or ``None`` for spaces and unmatched characters.
    """
    owners: list[int] = []
    stream: list[str] = []
    for index, token in enumerate(tokens):
        for ch in preprocess(token.text):
            if not ch.isspace():
                stream.append(ch)
                owners.append(index)
    positions = [i for i, ch in enumerate(processed) if not ch.isspace()]
    target = [processed[i] for i in positions]
    owner_of: list[int | None] = [None] * len(processed)
    matcher = difflib.SequenceMatcher(None, stream, target, autojunk=False)
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            owner_of[positions[block.b + k]] = owners[block.a + k]
    return owner_of


def owners_of(owner_of: list[int | None], start: int, end: int) -> set[int]:
    """The raw tokens behind the characters ``start:end`` of the preprocessed text."""
    return {o for o in owner_of[max(start, 0) : max(end, 0)] if o is not None}

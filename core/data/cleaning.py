"""Text cleaning shared by every model: the same function runs at training and serving time.

Steps, in order: HTML entities unescaped, mis-decoded UTF-8 repaired, URLs -> ``http``,
@mentions -> ``@user``, hashtags lose their ``#``, numbers -> ``0``, letters repeated three
times or more cut to two (``soooo`` -> ``soo``), lower case, spaces collapsed.
"""

from __future__ import annotations

import html
import re

URL_TOKEN = "http"
USER_TOKEN = "@user"
NUMBER_TOKEN = "0"

_URL_RE = re.compile(r"(?:https?://|www\.)\S+|\b[\w.-]+\.(?:com|net|org|ly|gl)/\S*", re.IGNORECASE)
_MENTION_RE = re.compile(r"(?<![\w@])@\w+")
_HASHTAG_RE = re.compile(r"(?<![\w#])#(\w+)")
_NUMBER_RE = re.compile(r"(?<![\w.<:;=])[-+]?\d+(?:[.,:/]\d+)*(?![\w])")
_REPEAT_RE = re.compile(r"(\S)\1{2,}")
_SPACE_RE = re.compile(r"\s+")


def repair_encoding(text: str) -> str:
    """Undo UTF-8 bytes decoded as latin-1 (``cafÃ©`` -> ``café``); leave other text alone."""
    if not any(ord(ch) > 127 for ch in text):
        return text
    try:
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


def clean_text(text: str) -> str:
    """Normalise one raw tweet (see the module docstring for the steps).

    Args:
        text: the raw tweet.

    Returns:
        The cleaned, lower-cased tweet; may be empty.
    """
    text = repair_encoding(html.unescape(str(text)))
    text = _URL_RE.sub(f" {URL_TOKEN} ", text)
    text = _MENTION_RE.sub(f" {USER_TOKEN} ", text)
    text = _HASHTAG_RE.sub(r"\1", text)
    text = _NUMBER_RE.sub(f" {NUMBER_TOKEN} ", text)
    text = _REPEAT_RE.sub(r"\1\1", text)
    return _SPACE_RE.sub(" ", text).strip().lower()

"""Preprocessing variants applied after cleaning: ``none``, ``lemmatize`` (WordNet), ``stem`` (Snowball).

NLTK reads its data from the configured folder (``$NLTK_DATA`` or ``../shared/nltk_data``)
and never downloads; a missing corpus raises :class:`ResourceError`.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path

from tqdm.auto import tqdm

from core.config import DEFAULT_NLTK_DATA, PREPROCESSING_VARIANTS
from core.data.cleaning import clean_text
from core.errors import ConfigError, ResourceError

# Words, contractions (don't), the @user token, and any other non-space symbol.
_TOKEN_RE = re.compile(r"@user|[a-z0-9]+(?:'[a-z]+)?|[^\sa-z0-9]")


def tokenize(cleaned: str) -> list[str]:
    """Split a cleaned tweet into tokens (words, contractions, punctuation)."""
    return _TOKEN_RE.findall(cleaned)


def use_nltk_data(folder: Path | None) -> Path:
    """Point NLTK at ``folder`` (first in its search path) and check it exists.

    Raises:
        ResourceError: the folder does not exist.
    """
    import nltk  # lazy: only the lemmatize and stem variants load NLTK

    folder = Path(folder) if folder is not None else DEFAULT_NLTK_DATA
    if not folder.is_dir():
        raise ResourceError(
            f"NLTK data folder {folder} does not exist; set NLTK_DATA to a folder holding "
            "corpora/wordnet.zip (nothing is downloaded)."
        )
    if str(folder) not in nltk.data.path:
        nltk.data.path.insert(0, str(folder))
    return folder


@functools.lru_cache(maxsize=4)
def _lemmatizer(folder: str) -> Callable[[str], str]:
    from nltk.stem import WordNetLemmatizer  # lazy: see use_nltk_data

    root = use_nltk_data(Path(folder))
    if not ((root / "corpora" / "wordnet.zip").exists() or (root / "corpora" / "wordnet").is_dir()):
        raise ResourceError(
            f"NLTK corpus 'wordnet' is missing from {root} (expected corpora/wordnet.zip); "
            "the lemmatize variant needs it and nothing is downloaded."
        )
    lemmatizer = WordNetLemmatizer()
    try:
        lemmatizer.lemmatize("flights")
    except LookupError:
        raise ResourceError(
            f"NLTK corpus 'wordnet' is missing from {folder} (expected corpora/wordnet.zip); "
            "the lemmatize variant needs it and nothing is downloaded."
        ) from None

    @functools.lru_cache(maxsize=200_000)
    def lemma(token: str) -> str:
        return lemmatizer.lemmatize(lemmatizer.lemmatize(token), pos="v")

    return lemma


@functools.lru_cache(maxsize=1)
def _stemmer() -> Callable[[str], str]:
    from nltk.stem.snowball import SnowballStemmer  # lazy: see use_nltk_data

    stem = SnowballStemmer("english").stem
    return functools.lru_cache(maxsize=200_000)(stem)


class Preprocessor:
    """Cleaning + one preprocessing variant; picklable, saved with every model.

    Args:
        variant: ``none``, ``lemmatize`` or ``stem``.
        nltk_data: NLTK data folder (only the ``lemmatize`` variant reads it).
    """

    def __init__(self, variant: str = "none", nltk_data: Path | None = None) -> None:
        if variant not in PREPROCESSING_VARIANTS:
            raise ConfigError(
                f"Unknown preprocessing variant '{variant}': choose from {', '.join(PREPROCESSING_VARIANTS)}."
            )
        self.variant = variant
        self.nltk_data = str(nltk_data) if nltk_data is not None else None

    def _token_map(self) -> Callable[[str], str] | None:
        if self.variant == "lemmatize":
            folder = self.nltk_data or os.environ.get("NLTK_DATA") or str(DEFAULT_NLTK_DATA)
            return _lemmatizer(folder.split(os.pathsep)[0])
        if self.variant == "stem":
            return _stemmer()
        return None

    def __call__(self, text: str) -> str:
        """Clean and preprocess one raw tweet."""
        cleaned = clean_text(text)
        mapper = self._token_map()
        if mapper is None:
            return cleaned
        return " ".join(mapper(token) for token in tokenize(cleaned))

    def transform(self, texts: Iterable[str], progress: bool = False) -> list[str]:
        """Clean and preprocess many raw tweets (with a progress bar when asked)."""
        texts = list(texts)
        iterator = tqdm(texts, desc=f"preprocess[{self.variant}]", unit="tweet", disable=not progress)
        return [self(text) for text in iterator]

    def to_dict(self) -> dict[str, str]:
        """What is saved next to the weights."""
        return {"variant": self.variant}

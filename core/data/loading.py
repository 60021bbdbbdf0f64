"""Loading the tweets: the Sentiment140 CSV and NLTK's ``twitter_samples`` (out of domain).

Labels are encoded once, here: ``1`` = negative (the class the airline wants to catch),
``0`` = positive. Every probability in the project is P(negative).
"""

from __future__ import annotations

import csv
import hashlib
import html
import json
import logging
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from core.errors import DataError

logger = logging.getLogger(__name__)

NEGATIVE, POSITIVE = 1, 0
LABEL_NAMES = {NEGATIVE: "negative", POSITIVE: "positive"}
COLUMNS = ("polarity", "id", "date", "query", "user", "text")
_POLARITY_TO_LABEL = {"0": NEGATIVE, "4": POSITIVE}
_DATE_FORMAT = "%a %b %d %H:%M:%S PDT %Y"

# Emoticons that labelled twitter_samples (and their cousins); stripped before scoring
# out of domain, otherwise the corpus is trivially easy.
EMOTICON_RE = re.compile(
    r"(?<!\d)[>}\]]?[:;=][-'´^o]?(?:[()\[\]{}|*@]+|3(?!\d)|[DPpO](?![A-Za-z]))"  # :) :-( ;D :P >:( :*
    r"|(?<!\w)[()\[\]]+[-'^o]?[:;=](?![/\w])"  # (: )-:
    r"|[:;=][-']?[/\\](?![/\w])"  # :/ but not ://
    r"|</?3+"  # hearts
    r"|\^_*\^|-_+-|[oO]_[oO]|T_T|;_;"  # kaomoji
)


def file_sha256(path: Path) -> str:
    """The sha256 of a file's bytes (logged with every run)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _check_file(path: Path) -> None:
    if not path.exists():
        raise DataError(f"Data file {path} does not exist.")
    if not path.is_file():
        raise DataError(f"Data path {path} is not a file.")
    if path.stat().st_size == 0:
        raise DataError(f"Data file {path} is empty.")


def _parse_rows(path: Path) -> tuple[list[list[str]], int]:
    """Read and validate every row; returns the kept rows and how many neutral rows were dropped."""
    rows: list[list[str]] = []
    neutral = 0
    with open(path, encoding="latin-1", newline="") as fh:
        reader = csv.reader(fh, strict=True)
        try:
            for record in reader:
                line = reader.line_num
                if not record or record == [""]:
                    continue
                if len(record) != len(COLUMNS):
                    raise DataError(
                        f"{path}, line {line}: expected {len(COLUMNS)} comma-separated fields "
                        f"(polarity, id, date, query, user, text), found {len(record)}."
                    )
                polarity = record[0].strip()
                if polarity == "2":
                    neutral += 1
                    continue
                if polarity not in _POLARITY_TO_LABEL:
                    raise DataError(f"{path}, line {line}: polarity must be 0, 2 or 4, found '{record[0][:20]}'.")
                rows.append(record)
        except csv.Error as exc:
            raise DataError(f"{path}, line {reader.line_num}: malformed CSV ({exc}).") from None
    return rows, neutral


def load_sentiment140(path: Path) -> pd.DataFrame:
    """Load a Sentiment140-format file (6 quoted columns, no header, latin-1).

    Neutral rows (polarity 2) are dropped: the product is binary.

    Args:
        path: the CSV file.

    Returns:
        A frame with columns ``id``, ``date`` (datetime), ``user``, ``text`` (raw) and
        ``label`` (1 = negative, 0 = positive), in file order.

    Raises:
        DataError: missing, empty or malformed file, or an unknown polarity; the message
            names the file and the line.
    """
    path = Path(path)
    _check_file(path)
    rows, neutral = _parse_rows(path)
    if not rows:
        raise DataError(f"Data file {path} has no negative (0) or positive (4) tweet.")
    if neutral:
        logger.info("Dropped %d neutral (polarity 2) rows from %s.", neutral, path)
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    frame["label"] = frame["polarity"].str.strip().map(_POLARITY_TO_LABEL).astype("int64")
    frame["date"] = pd.to_datetime(frame["date"], format=_DATE_FORMAT, errors="coerce")
    return frame[["id", "date", "user", "text", "label"]]


def stratified_sample(frame: pd.DataFrame, n: int | None, seed: int) -> pd.DataFrame:
    """A seeded, class-stratified subsample of ``n`` rows (all rows when ``n`` is None or larger)."""
    if n is None or n >= len(frame):
        return frame
    rng = np.random.default_rng(seed)
    shares = frame["label"].value_counts(normalize=True)
    parts = []
    for label, share in shares.items():
        group = frame.index[frame["label"] == label].to_numpy()
        take = min(len(group), max(1, round(n * share)))
        parts.append(rng.choice(group, size=take, replace=False))
    return frame.loc[np.sort(np.concatenate(parts))]


def strip_emoticons(text: str) -> str:
    """Remove emoticons (``:)``, ``:-(``, ``;D``, ``<3``...) and collapse spaces."""
    return re.sub(r"\s+", " ", EMOTICON_RE.sub(" ", text)).strip()


def load_twitter_samples(nltk_data: Path, max_rows: int | None = None, seed: int = 42) -> pd.DataFrame:
    """NLTK ``twitter_samples`` (5,000 positive, 5,000 negative), emoticons stripped.

    Tweets left empty by the stripping are dropped.

    Args:
        nltk_data: the NLTK data folder holding ``corpora/twitter_samples(.zip)``.
        max_rows: class-stratified subsample size (``None``: all).
        seed: subsample seed.

    Returns:
        A frame with ``text`` (stripped) and ``label`` columns.
    """
    records = []
    for name, label in (("negative_tweets.json", NEGATIVE), ("positive_tweets.json", POSITIVE)):
        for line in _read_corpus_file(Path(nltk_data), f"twitter_samples/{name}"):
            text = strip_emoticons(html.unescape(json.loads(line)["text"]))
            if text:
                records.append((text, label))
    frame = pd.DataFrame(records, columns=["text", "label"])
    return stratified_sample(frame, max_rows, seed).reset_index(drop=True)


def split_twitter_samples(
    nltk_data: Path, ood_rows: int | None, extra_rows: int, seed: int = 42
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two disjoint parts of stripped ``twitter_samples``: the out-of-domain evaluation set and
    extra training tweets.

    Args:
        nltk_data: the NLTK data folder.
        ood_rows: size of the evaluation set, exactly the tweets of
            ``load_twitter_samples(nltk_data, ood_rows, seed)`` (``None``: all, leaving nothing).
        extra_rows: class-stratified sample of the other tweets (0: none; more than there are: all).
        seed: sampling seed.

    Returns:
        The evaluation set and the extra training tweets, each with ``text`` and ``label``.
    """
    everything = load_twitter_samples(nltk_data, None, seed)
    evaluation = stratified_sample(everything, ood_rows, seed)
    rest = everything.drop(evaluation.index)
    extra = stratified_sample(rest, extra_rows, seed) if extra_rows else rest.iloc[:0]
    return evaluation.reset_index(drop=True), extra.reset_index(drop=True)


def _read_corpus_file(nltk_data: Path, member: str) -> list[str]:
    folder = nltk_data / "corpora" / member
    if folder.exists():
        return folder.read_text(encoding="utf-8").splitlines()
    archive = nltk_data / "corpora" / "twitter_samples.zip"
    if not archive.exists():
        raise DataError(
            f"NLTK corpus twitter_samples is not in {nltk_data} (looked for {archive}); "
            "set NLTK_DATA or data.nltk_data, or disable the out-of-domain check."
        )
    with zipfile.ZipFile(archive) as zf:
        return zf.read(member).decode("utf-8").splitlines()

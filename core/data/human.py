"""Tweets labelled by people: the product's yardstick, never trained on.

A folder (``data.human_dir``, default ``../shared/data/human_dev``) holds any of:

- ``sts_gold_tweet.csv``: STS-Gold, ``"id";"polarity";"tweet"`` (semicolon-separated, quoted,
  UTF-8, polarity ``0`` negative / ``4`` positive). Tweets whose id is also in the training
  file are dropped (380 of the 2,034 are in the shared Sentiment140 subset);
- ``tweeteval_val_text.txt`` + ``tweeteval_val_labels.txt``: TweetEval sentiment, one tweet and
  one label per line (``0`` negative, ``1`` neutral, ``2`` positive); neutrals are dropped;
- any other ``*.csv`` with a header ``text,label`` (label ``negative``/``positive``): a user's
  own human-labelled tweets, a set named after the file.

Every set is then split once, seeded and stratified by set and label, into a ``select`` part
(decisions: the champion, ensemble weights, calibration, the threshold) and a ``report`` part
(printed, never used for a choice). The split does not depend on the training seed, so every
run of every session is judged on the same tweets.
"""

from __future__ import annotations

import csv
import logging
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from core.data.cleaning import clean_text
from core.data.loading import NEGATIVE, POSITIVE
from core.errors import DataError

logger = logging.getLogger(__name__)

STS_GOLD_FILE = "sts_gold_tweet.csv"
TWEETEVAL_TEXT_FILE = "tweeteval_val_text.txt"
TWEETEVAL_LABELS_FILE = "tweeteval_val_labels.txt"
PARTS = ("select", "report")
COLUMNS = ["text", "label", "set", "part"]

_STS_POLARITY = {"0": NEGATIVE, "4": POSITIVE}
_TWEETEVAL_LABEL = {"0": NEGATIVE, "2": POSITIVE}  # 1 (neutral) is dropped
_CSV_LABEL = {"negative": NEGATIVE, "positive": POSITIVE}


def _readable(path: Path) -> Path:
    if not path.is_file():
        raise DataError(f"Human-labelled file {path} does not exist or is not a file.")
    if path.stat().st_size == 0:
        raise DataError(f"Human-labelled file {path} is empty.")
    return path


def _read_text(path: Path) -> str:
    try:
        return _readable(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text (byte {exc.start}).") from None


def load_sts_gold(path: Path, training_ids: set[str] | frozenset[str] = frozenset()) -> pd.DataFrame:
    """STS-Gold without the tweets whose id is in ``training_ids``.

    Returns:
        ``text``, ``label`` (1 = negative) and ``set`` (``sts_gold``).

    Raises:
        DataError: missing, empty or malformed file (the message names the file and the line).
    """
    text = _read_text(path)
    reader = csv.reader(text.splitlines(), delimiter=";", strict=True)
    rows: list[tuple[str, int]] = []
    shared = 0
    try:
        header = next(reader, None)
        if header is None or [h.strip() for h in header] != ["id", "polarity", "tweet"]:
            raise DataError(f'{path}, line 1: expected the header "id";"polarity";"tweet", found {header}.')
        for record in reader:
            line = reader.line_num
            if not record:
                continue
            if len(record) != 3:
                raise DataError(f"{path}, line {line}: expected 3 fields (id;polarity;tweet), found {len(record)}.")
            tweet_id, polarity, tweet = (field.strip() for field in record)
            if polarity not in _STS_POLARITY:
                raise DataError(f"{path}, line {line}: polarity must be 0 or 4, found '{polarity[:20]}'.")
            if tweet_id in training_ids:
                shared += 1
                continue
            rows.append((tweet, _STS_POLARITY[polarity]))
    except csv.Error as exc:
        raise DataError(f"{path}, line {reader.line_num}: malformed CSV ({exc}).") from None
    if shared:
        logger.info("STS-Gold: %d tweets left out, their ids are in the training file.", shared)
    return pd.DataFrame({"text": [r[0] for r in rows], "label": [r[1] for r in rows], "set": "sts_gold"})


def load_tweeteval(text_path: Path, labels_path: Path) -> pd.DataFrame:
    """TweetEval sentiment (negative and positive only).

    Raises:
        DataError: a missing or empty file, a label other than 0, 1 or 2, or files of different lengths.
    """
    texts = _read_text(text_path).splitlines()
    labels = [label.strip() for label in _read_text(labels_path).splitlines()]
    if len(texts) != len(labels):
        raise DataError(f"{text_path} has {len(texts)} lines but {labels_path} has {len(labels)}: they must match.")
    rows = []
    for line, (tweet, label) in enumerate(zip(texts, labels, strict=True), start=1):
        if label not in ("0", "1", "2"):
            raise DataError(f"{labels_path}, line {line}: label must be 0, 1 or 2, found '{label[:20]}'.")
        if label in _TWEETEVAL_LABEL:
            rows.append((tweet.strip(), _TWEETEVAL_LABEL[label]))
    return pd.DataFrame({"text": [r[0] for r in rows], "label": [r[1] for r in rows], "set": "tweeteval"})


def load_labelled_csv(path: Path) -> pd.DataFrame:
    """A user's human-labelled tweets: a CSV with a ``text,label`` header, labels ``negative``/``positive``.

    Raises:
        DataError: missing, empty or malformed file, or an unknown label (naming the file and the line).
    """
    reader = csv.reader(_read_text(path).splitlines(), strict=True)
    rows = []
    try:
        header = [h.strip().lower() for h in next(reader, [])]
        if "text" not in header or "label" not in header:
            raise DataError(f"{path}, line 1: expected a header with 'text' and 'label' columns, found {header}.")
        text_at, label_at = header.index("text"), header.index("label")
        for record in reader:
            if not record:
                continue
            if len(record) != len(header):
                raise DataError(f"{path}, line {reader.line_num}: expected {len(header)} fields, found {len(record)}.")
            label = record[label_at].strip().lower()
            if label not in _CSV_LABEL:
                raise DataError(
                    f"{path}, line {reader.line_num}: label must be negative or positive, found '{label[:20]}'."
                )
            rows.append((record[text_at].strip(), _CSV_LABEL[label]))
    except csv.Error as exc:
        raise DataError(f"{path}, line {reader.line_num}: malformed CSV ({exc}).") from None
    return pd.DataFrame({"text": [r[0] for r in rows], "label": [r[1] for r in rows], "set": path.stem})


def load_human_sets(folder: Path, training_ids: set[str] | frozenset[str] = frozenset()) -> pd.DataFrame:
    """Every human-labelled set found in ``folder``, deduplicated on the cleaned text.

    Returns:
        ``text``, ``label`` and ``set``, one row per distinct cleaned tweet (its first set wins).

    Raises:
        DataError: the folder is missing or holds no set; a set's file is malformed; TweetEval's
            text file is there without its labels (or the other way round).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"Human-labelled folder {folder} does not exist (set data.human_dir, or data.human=false).")
    frames = []
    if (folder / STS_GOLD_FILE).exists():
        frames.append(load_sts_gold(folder / STS_GOLD_FILE, training_ids))
    text_file, labels_file = folder / TWEETEVAL_TEXT_FILE, folder / TWEETEVAL_LABELS_FILE
    if text_file.exists() or labels_file.exists():
        frames.append(load_tweeteval(text_file, labels_file))
    frames += [load_labelled_csv(path) for path in sorted(folder.glob("*.csv")) if path.name != STS_GOLD_FILE]
    frames = [frame for frame in frames if len(frame)]
    if not frames:
        raise DataError(
            f"Human-labelled folder {folder} holds no set: expected {STS_GOLD_FILE}, "
            f"{TWEETEVAL_TEXT_FILE} + {TWEETEVAL_LABELS_FILE}, or a text,label CSV."
        )
    frame = pd.concat(frames, ignore_index=True)
    frame["key"] = frame["text"].map(clean_text)
    frame = frame[frame["key"] != ""].drop_duplicates("key", keep="first")
    return frame.drop(columns="key").reset_index(drop=True)


def strata(frame: pd.DataFrame) -> pd.Series:
    """Each tweet's stratum, ``set/label``: what the split, the subsample and the ensemble's folds
    keep in proportion."""
    return frame["set"] + "/" + frame["label"].astype(str)


def split_select_report(frame: pd.DataFrame, select_fraction: float, seed: int) -> pd.DataFrame:
    """``frame`` with a ``part`` column: ``select`` or ``report``, stratified by set and label, seeded.

    Each (set, label) group gives ``round(select_fraction * size)`` tweets to ``select`` (at least one
    to each part when the group has two or more), drawn with a generator of its own (seeded by
    ``seed``, the set's name and the label): adding a set never changes the others' parts.
    """
    part = np.full(len(frame), "report", dtype=object)
    for (name, label), group in frame.groupby(["set", "label"], sort=True):
        rng = np.random.default_rng([seed, zlib.crc32(str(name).encode()), int(label)])
        positions = rng.permutation(frame.index.get_indexer(group.index))
        take = round(select_fraction * len(positions))
        if len(positions) >= 2:
            take = min(max(take, 1), len(positions) - 1)
        part[positions[:take]] = "select"
    return frame.assign(part=part)[COLUMNS]

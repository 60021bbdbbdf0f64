"""Loader: the real file's schema and labels, and one clear error per kind of bad file."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from core.config import DEFAULT_DATA_PATH, DEFAULT_NLTK_DATA, PROJECT_ROOT
from core.data.loading import EMOTICON_RE, load_sentiment140, load_twitter_samples, strip_emoticons
from core.errors import DataError

GOOD_ROW = '"0","1467810369","Mon Apr 06 22:19:45 PDT 2009","NO_QUERY","user1","my flight was late"\n'
GOOD_POS = '"4","1467810370","Mon Apr 06 22:19:46 PDT 2009","NO_QUERY","user2","lovely crew &amp; food"\n'


def test_real_file_schema_and_labels() -> None:
    frame = load_sentiment140(DEFAULT_DATA_PATH)
    assert len(frame) == 60_377
    assert list(frame.columns) == ["id", "date", "user", "text", "label"]
    assert (frame["label"] == 1).sum() == 28_567  # negatives (polarity 0) are label 1
    assert (frame["label"] == 0).sum() == 31_810
    assert frame["date"].notna().all()
    assert frame["date"].min().month == 4 and frame["date"].max().month == 6


def test_latin1_bytes_are_read_not_rejected(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes(
        GOOD_ROW.encode() + '"4","2","Mon Apr 06 22:19:46 PDT 2009","NO_QUERY","u","caf\xe9 ok"\n'.encode("latin-1")
    )
    frame = load_sentiment140(path)
    assert frame["text"].tolist() == ["my flight was late", "café ok"]


@pytest.mark.parametrize(
    ("content", "pattern"),
    [
        (None, r"does not exist"),
        ("", r"is empty"),
        (GOOD_ROW + '"0","1","date","NO_QUERY","u"\n', r"line 2: expected 6 comma-separated fields.*found 5"),
        (GOOD_ROW + GOOD_POS + '"3","1","d","NO_QUERY","u","t"\n', r"line 3: polarity must be 0, 2 or 4, found '3'"),
        ('"positive","1","d","NO_QUERY","u","t"\n', r"line 1: polarity must be 0, 2 or 4"),
        ('"2","1","Mon Apr 06 22:19:45 PDT 2009","NO_QUERY","u","meh"\n', r"no negative \(0\) or positive \(4\) tweet"),
    ],
    ids=["missing", "empty", "short-row", "bad-label", "text-label", "only-neutral"],
)
def test_bad_files_raise_one_clear_sentence(tmp_path: Path, content: str | None, pattern: str) -> None:
    path = tmp_path / "bad.csv"
    if content is not None:
        path.write_text(content, encoding="latin-1")
    with pytest.raises(DataError, match=pattern) as info:
        load_sentiment140(path)
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)


def test_neutral_rows_are_dropped(tmp_path: Path) -> None:
    path = tmp_path / "neutral.csv"
    path.write_text(GOOD_ROW + '"2","9","Mon Apr 06 22:19:45 PDT 2009","NO_QUERY","u","meh"\n' + GOOD_POS)
    assert load_sentiment140(path)["label"].tolist() == [1, 0]


def test_cli_reports_bad_file_without_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(GOOD_ROW + '"7","1","d","NO_QUERY","u","t"\n')
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "core",
            "train",
            "--profile",
            "tiny",
            "--data",
            str(bad),
            "--tracking-uri",
            f"sqlite:///{tmp_path}/m.db",
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == f"error: {bad}, line 2: polarity must be 0, 2 or 4, found '7'."


def test_twitter_samples_out_of_domain_has_no_emoticons() -> None:
    frame = load_twitter_samples(DEFAULT_NLTK_DATA)
    assert 9_900 <= len(frame) <= 10_000
    assert frame["label"].value_counts().min() >= 4_900
    assert not frame["text"].str.contains(EMOTICON_RE).any()
    assert not frame["text"].str.contains(r":\)|:\(|:-\(|:D|:-\)", regex=True).any()


def test_twitter_samples_subsample_is_stratified_and_seeded() -> None:
    a = load_twitter_samples(DEFAULT_NLTK_DATA, max_rows=200, seed=1)
    b = load_twitter_samples(DEFAULT_NLTK_DATA, max_rows=200, seed=1)
    assert len(a) == 200 and a.equals(b)
    assert a["label"].sum() == 100


@pytest.mark.parametrize(
    ("raw", "stripped"),
    [
        ("hopeless for tmr :(", "hopeless for tmr"),
        ("great :-) day :D", "great day"),
        ("love it <3", "love it"),
        ("time 10:30 ok", "time 10:30 ok"),
        ("sialan:( https://t.co/x", "sialan https://t.co/x"),
        ("hate it >:( now :(:(", "hate it now"),
        ("Daily :Dd", "Daily :Dd"),
    ],
)
def test_strip_emoticons(raw: str, stripped: str) -> None:
    assert strip_emoticons(raw) == stripped
    assert not re.search(r":\)|:\(", strip_emoticons(raw))


def test_missing_twitter_samples_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="twitter_samples is not in"):
        load_twitter_samples(tmp_path)

"""The human-labelled tweets: loaders that refuse bad files, and the fixed select/report split."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from core.config import DEFAULT_DATA_PATH, DEFAULT_HUMAN_DIR
from core.data.cleaning import clean_text
from core.data.human import (
    STS_GOLD_FILE,
    TWEETEVAL_LABELS_FILE,
    TWEETEVAL_TEXT_FILE,
    load_human_sets,
    load_labelled_csv,
    load_sts_gold,
    load_tweeteval,
    split_select_report,
)
from core.data.loading import NEGATIVE, POSITIVE, load_sentiment140
from core.errors import DataError


@pytest.fixture(scope="module")
def training_ids() -> set[str]:
    return set(load_sentiment140(DEFAULT_DATA_PATH)["id"].astype(str))


def test_the_shared_sets_load_without_the_training_ids(training_ids: set[str]) -> None:
    every = load_sts_gold(DEFAULT_HUMAN_DIR / STS_GOLD_FILE)
    sts = load_sts_gold(DEFAULT_HUMAN_DIR / STS_GOLD_FILE, training_ids)
    assert len(every) == 2_034 and len(sts) == 2_034 - 380  # the README's figures
    assert (sts["label"] == NEGATIVE).sum() == 1_054 and (sts["label"] == POSITIVE).sum() == 600
    tweeteval = load_tweeteval(DEFAULT_HUMAN_DIR / TWEETEVAL_TEXT_FILE, DEFAULT_HUMAN_DIR / TWEETEVAL_LABELS_FILE)
    assert len(tweeteval) == 1_131 and (tweeteval["label"] == NEGATIVE).sum() == 312
    both = load_human_sets(DEFAULT_HUMAN_DIR, training_ids)
    assert set(both["set"]) == {"sts_gold", "tweeteval"}
    assert both["text"].map(clean_text).is_unique  # one row per distinct cleaned tweet


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "is empty"),
        ('"id";"label";"tweet"\n"1";"0";"x"\n', "expected the header"),
        ('"id";"polarity";"tweet"\n"1";"2";"meh"\n', r"line 2: polarity must be 0 or 4, found '2'"),
        ('"id";"polarity";"tweet"\n"1";"0"\n', "line 2: expected 3 fields"),
        ('"id";"polarity";"tweet"\n"1";"0";"un"closed\n', "line 2"),
    ],
)
def test_a_malformed_sts_gold_file_is_one_clear_error(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / STS_GOLD_FILE
    path.write_text(content)
    with pytest.raises(DataError, match=message) as refused:
        load_sts_gold(path)
    assert str(path) in str(refused.value)


def test_malformed_tweeteval_files_are_refused(tmp_path: Path) -> None:
    text, labels = tmp_path / TWEETEVAL_TEXT_FILE, tmp_path / TWEETEVAL_LABELS_FILE
    text.write_text("great\nawful\n")
    labels.write_text("2\n")
    with pytest.raises(DataError, match="has 2 lines but .* has 1"):
        load_tweeteval(text, labels)
    labels.write_text("2\nbad\n")
    with pytest.raises(DataError, match=f"{labels}, line 2: label must be 0, 1 or 2"):
        load_tweeteval(text, labels)
    labels.unlink()
    with pytest.raises(DataError, match=f"{labels} does not exist"):
        load_human_sets(tmp_path)  # the text file without its labels
    text.write_bytes(b"\xff\xfe broken")
    labels.write_text("0\n")
    with pytest.raises(DataError, match="not UTF-8"):
        load_tweeteval(text, labels)


def test_a_users_own_csv_is_a_set_and_bad_labels_are_refused(tmp_path: Path) -> None:
    own = tmp_path / "airline_team.csv"
    own.write_text("text,label\nlost my bag again,negative\nlovely crew,Positive\n")
    frame = load_human_sets(tmp_path)
    assert frame[["text", "label", "set"]].values.tolist() == [
        ["lost my bag again", NEGATIVE, "airline_team"],
        ["lovely crew", POSITIVE, "airline_team"],
    ]
    own.write_text("text,label\nlost my bag again,angry\n")
    with pytest.raises(DataError, match=f"{own}, line 2: label must be negative or positive, found 'angry'"):
        load_labelled_csv(own)
    own.write_text("tweet,sentiment\nx,negative\n")
    with pytest.raises(DataError, match="'text' and 'label' columns"):
        load_labelled_csv(own)


def test_a_missing_or_empty_folder_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=f"Human-labelled folder {tmp_path / 'nope'} does not exist"):
        load_human_sets(tmp_path / "nope")
    with pytest.raises(DataError, match="holds no set"):
        load_human_sets(tmp_path)


def test_the_split_is_fixed_stratified_and_disjoint(tmp_path: Path, training_ids: set[str]) -> None:
    frame = load_human_sets(DEFAULT_HUMAN_DIR, training_ids)
    first, again = split_select_report(frame, 0.5, 7), split_select_report(frame, 0.5, 7)
    assert first["part"].tolist() == again["part"].tolist()
    assert first["part"].tolist() != split_select_report(frame, 0.5, 8)["part"].tolist()
    counts = first.groupby(["set", "label", "part"]).size().unstack("part")
    assert ((counts["select"] - counts["report"]).abs() <= 1).all()  # half and half in every (set, label)
    select = set(first.loc[first["part"] == "select", "text"])
    assert not select & set(first.loc[first["part"] == "report", "text"])
    # A copied folder with one more user set keeps the shared sets' parts (strata are per set).
    shutil.copytree(DEFAULT_HUMAN_DIR, tmp_path / "human")
    (tmp_path / "human" / "extra.csv").write_text("text,label\nthe food was cold,negative\nnice seat,positive\n")
    grown = split_select_report(load_human_sets(tmp_path / "human", training_ids), 0.5, 7)
    shared = grown[grown["set"] != "extra"]
    assert shared["part"].tolist() == first["part"].tolist()

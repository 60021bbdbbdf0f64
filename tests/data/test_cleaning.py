"""Cleaning and preprocessing variants."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.data.cleaning import clean_text, repair_encoding
from core.data.preprocessing import Preprocessor, tokenize
from core.errors import ConfigError, ResourceError


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Fish &amp; chips &quot;yum&quot; &lt;3", 'fish & chips "yum" <3'),
        ("see http://twitpic.com/2y1zl now", "see http now"),
        ("www.example.com/x rocks", "http rocks"),
        ("@switchfoot thanks @Air_Paradise!", "@user thanks @user !"),
        ("#fail #AirParadise", "fail airparadise"),
        ("flight 1234 delayed 2.5 hours at 10:30", "flight 0 delayed 0 hours at 0"),
        ("soooooo haaaappy!!!!!", "soo haappy!!"),
        ("  MANY   spaces\tHere ", "many spaces here"),
        ("caf\u00c3\u00a9 time", "café time"),
    ],
)
def test_clean_text(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean


def test_repair_encoding_leaves_valid_text_alone() -> None:
    assert repair_encoding("naïve ☺") == "naïve ☺"
    assert repair_encoding("plain") == "plain"


def test_tokenize_keeps_contractions_and_mentions() -> None:
    assert tokenize("i don't like @user !") == ["i", "don't", "like", "@user", "!"]


def test_variants() -> None:
    text = "The FLIGHTS were delayed &amp; the bags were lost"
    assert Preprocessor("none")(text) == "the flights were delayed & the bags were lost"
    assert Preprocessor("lemmatize")(text) == "the flight be delay & the bag be lose"
    assert Preprocessor("stem")(text) == "the flight were delay & the bag were lost"


def test_transform_many_matches_one_by_one() -> None:
    pre = Preprocessor("stem")
    texts = ["Loving it", "hated the delays", ""]
    assert pre.transform(texts) == [pre(t) for t in texts] == ["love it", "hate the delay", ""]


def test_unknown_variant_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="Unknown preprocessing variant 'spellfix'"):
        Preprocessor("spellfix")


def test_missing_nltk_data_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ResourceError, match="wordnet"):
        Preprocessor("lemmatize", nltk_data=tmp_path)("flights")
    with pytest.raises(ResourceError, match="does not exist"):
        Preprocessor("lemmatize", nltk_data=tmp_path / "nope")("flights")

"""Raw tokens keep their offsets in the original text, and align with the preprocessed text."""

from __future__ import annotations

from core.data.preprocessing import Preprocessor
from core.explanations.tokens import align, raw_tokens

TWEET = "My flight was DELAYED again &amp; they lost my bag!!! http://t.co/abc @United #fail 3.5 stars, don't"


def test_raw_tokens_are_slices_of_the_original_text() -> None:
    tokens = raw_tokens(TWEET)
    assert all(TWEET[t.start : t.end] == t.text for t in tokens)
    assert [t.text for t in tokens] == [
        *"My flight was DELAYED again &amp; they lost my bag !!! http://t.co/abc @United #fail 3.5 stars".split(),
        ",",
        "don't",
    ]
    assert raw_tokens("  ") == []


def test_every_preprocessed_character_comes_from_the_right_token() -> None:
    tokens = raw_tokens(TWEET)
    for variant in ("none", "stem"):
        preprocessor = Preprocessor(variant)
        processed = preprocessor(TWEET)
        owner_of = align(tokens, processed, preprocessor)
        by_token: dict[str, str] = {}
        for ch, owner in zip(processed, owner_of, strict=True):
            assert (owner is None) == ch.isspace(), (variant, processed)
            if owner is not None:
                by_token[tokens[owner].text] = by_token.get(tokens[owner].text, "") + ch
        assert by_token["DELAYED"] == preprocessor("DELAYED")
        assert by_token["&amp;"] == "&" and by_token["http://t.co/abc"] == "http" and by_token["@United"] == "@user"
        assert by_token["#fail"] == "fail" and by_token["3.5"] == "0" and by_token["!!!"] == "!!"

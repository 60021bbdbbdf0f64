"""Typed configuration: profiles, validation and ``--set`` overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.cli import build_config, build_parser
from core.config import ALL_FAMILIES, apply_override, flatten, get_profile
from core.errors import ConfigError


def test_profiles_are_fresh_instances() -> None:
    a, b = get_profile("quick"), get_profile("quick")
    a.models.bert.max_length = 16
    assert b.models.bert.max_length == 64
    assert a.families == ALL_FAMILIES and get_profile("tiny").families == ("tfidf",)
    with pytest.raises(ConfigError, match="Unknown profile 'huge'"):
        get_profile("huge")


def test_overrides_are_typed_and_validated() -> None:
    config = get_profile("quick")
    config = apply_override(config, "models.bert.checkpoint=bert-base-uncased")
    config = apply_override(config, "models.bert.max_train_samples=4000")
    config = apply_override(config, "models.lstm_word2vec.trainable_embedding=false")
    config = apply_override(config, "data.max_rows=none")
    config = apply_override(config, "data.path=/tmp/x.csv")
    assert config.models.bert.checkpoint == "bert-base-uncased"
    assert config.models.bert.max_train_samples == 4000
    assert config.models.lstm_word2vec.trainable_embedding is False
    assert config.data.max_rows is None and config.data.path == Path("/tmp/x.csv")
    with pytest.raises(ConfigError, match="--set models.bert.max_length: 'long' is not a valid int"):
        apply_override(config, "models.bert.max_length=long")
    with pytest.raises(ConfigError, match="bert.max_length must be at least 8"):
        apply_override(config, "models.bert.max_length=4")
    with pytest.raises(ConfigError, match="unknown setting 'colour'"):
        apply_override(config, "models.bert.colour=red")
    with pytest.raises(ConfigError, match="key=value"):
        apply_override(config, "models.bert.max_length")


def test_cli_builds_the_same_config() -> None:
    args = build_parser().parse_args(
        ["train", "--profile", "quick", "--model", "bert", "--set", "models.bert.checkpoint=/ckpt", "--seed", "7"]
    )
    config = build_config(args)
    assert config.families == ("bert",) and config.models.bert.checkpoint == "/ckpt"
    assert config.seed == 7 and config.split.seed == 7
    params = flatten(config)
    assert params["models.bert.checkpoint"] == "/ckpt" and params["split.seed"] == "7"

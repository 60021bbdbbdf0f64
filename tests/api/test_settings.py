"""API settings: each default is written once (on its field), variables override it, bad values are one sentence."""

from __future__ import annotations

import dataclasses

import pytest

from api import ApiSettings
from core.errors import ConfigError


def test_an_empty_environment_gives_the_field_defaults() -> None:
    assert ApiSettings.from_env({}) == ApiSettings()
    assert ApiSettings.from_env({"API_MAX_TEXT_LENGTH": " ", "API_MODEL_RUNTIME": ""}) == ApiSettings()


@pytest.mark.parametrize(
    ("variable", "field", "raw", "value"),
    [
        ("API_MAX_TEXT_LENGTH", "max_text_length", "50", 50),
        ("API_MAX_BATCH_SIZE", "max_batch_size", "3", 3),
        ("API_MAX_BODY_BYTES", "max_body_bytes", "5000", 5_000),
        ("API_RATE_LIMIT_PER_MINUTE", "rate_limit_per_minute", "0", 0),
        ("API_RATE_LIMIT_BURST", "rate_limit_burst", "7", 7),
        ("API_TRUSTED_PROXIES", "trusted_proxies", "1", 1),
        ("API_MODEL_ALIAS", "model_alias", "challenger", "challenger"),
        ("API_MODEL_VERSION", "model_version", "4", "4"),
        ("API_MODEL_RUNTIME", "model_runtime", "native", "native"),
    ],
)
def test_a_variable_overrides_only_its_setting(variable: str, field: str, raw: str, value) -> None:
    settings = ApiSettings.from_env({variable: raw})
    assert getattr(settings, field) == value != getattr(ApiSettings(), field)
    assert dataclasses.replace(settings, **{field: getattr(ApiSettings(), field)}) == ApiSettings()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"API_MAX_BATCH_SIZE": "many"}, "API_MAX_BATCH_SIZE must be an integer, got 'many'."),
        ({"API_MAX_TEXT_LENGTH": "0"}, "API_MAX_TEXT_LENGTH must be at least 1."),
        ({"API_MAX_BATCH_SIZE": "0"}, "API_MAX_BATCH_SIZE must be at least 1."),
    ],
)
def test_bad_values_are_one_sentence(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as error:
        ApiSettings.from_env(env)
    assert str(error.value) == message

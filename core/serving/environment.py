"""Typed reads of environment variables for the serving side (the API and its monitoring settings):
a blank variable means "unset", a malformed one is one clear :class:`ConfigError` naming it."""

from __future__ import annotations

from collections.abc import Mapping

from core.errors import ConfigError


def env_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got '{raw}'.") from None


def env_text(env: Mapping[str, str], name: str) -> str | None:
    raw = env.get(name, "").strip()
    return raw or None


def env_float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env_text(env, name)
    if raw is None:
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got '{raw}'.") from None


def env_bool(env: Mapping[str, str], name: str) -> bool:
    raw = (env_text(env, name) or "false").lower()
    if raw not in ("1", "true", "yes", "0", "false", "no"):
        raise ConfigError(f"{name} must be true or false, got '{raw}'.")
    return raw in ("1", "true", "yes")

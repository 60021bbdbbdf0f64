"""Validation helpers shared by the config dataclasses (each raises one clear :class:`ConfigError`)."""

from __future__ import annotations

from core.errors import ConfigError


def check(condition: bool, message: str) -> None:
    """Raise :class:`ConfigError` with ``message`` unless ``condition`` holds."""
    if not condition:
        raise ConfigError(message)


def check_fraction(value: float, name: str) -> None:
    """Refuse a fraction outside the open interval (0, 1)."""
    check(0.0 < value < 1.0, f"{name} must be between 0 and 1 (exclusive), got {value}.")

"""``--set section.key=value`` overrides, parsed from the fields' real types and applied together.

All assignments of one command line are applied in one pass: each section is rebuilt (and
validated) once with every new value, so settings checked together (the split fractions) are
checked on their final values. An error names the keys as the user typed them.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import types
import typing
from pathlib import Path
from typing import Any

from core.errors import ConfigError

_TRUE = ("true", "1", "yes")
_FALSE = ("false", "0", "no")


class OverrideError(ConfigError):
    """A refused override, its message already naming the typed keys (raised once, not rewrapped)."""


@functools.cache
def _field_types(cls: type) -> dict[str, Any]:
    """The resolved type of each field of a config dataclass."""
    return typing.get_type_hints(cls)


def _type_name(hint: Any) -> str:
    return getattr(hint, "__name__", None) or str(hint).replace("typing.", "")


def _parse_value(raw: str, hint: Any, key: str) -> Any:
    """Convert a command-line string to the field's type ``hint``.

    Supported: ``bool``, ``int``, ``float``, ``str``, ``Path``, ``X | None`` (``none``) and
    ``tuple[X, ...]`` (comma-separated). Other types (dicts of search spaces, ...) are refused.

    Raises:
        ConfigError: the value does not parse, or the field cannot be set from a string.
    """
    text = raw.strip()
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        members = [a for a in args if a is not type(None)]
        if type(None) in args and text.lower() == "none":
            return None
        if len(members) == 1:
            return _parse_value(raw, members[0], key)
    elif origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return tuple(_parse_value(part, args[0], key) for part in text.split(",") if part.strip())
    elif hint is bool:
        if text.lower() not in _TRUE + _FALSE:
            raise ConfigError(f"--set {key}: '{raw}' is not a valid bool (true or false).")
        return text.lower() in _TRUE
    elif hint in (int, float):
        try:
            return hint(text)
        except ValueError:
            raise ConfigError(f"--set {key}: '{raw}' is not a valid {hint.__name__}.") from None
    elif hint is str or hint is Any:
        return text
    elif hint is Path:
        return Path(text)
    raise ConfigError(
        f"--set {key}: this setting is a {_type_name(hint)} and cannot be set from the command line "
        "(set it in Python, see core.config)."
    )


def parse_assignments(assignments: list[str]) -> dict[str, str]:
    """``key=value`` strings as ``{key: value}`` (a key given twice: the last value wins).

    Raises:
        ConfigError: an assignment without ``=`` or without a key.
    """
    values: dict[str, str] = {}
    for assignment in assignments:
        key, sep, raw = assignment.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set takes key=value, got '{assignment}'.")
        values[key.strip()] = raw
    return values


def apply_override(config: Any, assignment: str) -> Any:
    """A copy of ``config`` with one ``dotted.key=value`` assignment applied and validated.

    Example: ``apply_override(config, "models.bert.checkpoint=bert-base-uncased")``.

    Raises:
        ConfigError: malformed assignment, unknown key, or a value the field refuses.
    """
    return apply_overrides(config, parse_assignments([assignment]))


def _typed_keys_message(message: str, values: dict[str, str], prefix: str) -> str:
    """``message`` of a section's validation, its dotted field names replaced by the keys the user
    typed (``lstm.dropout`` -> ``models.lstm_fasttext.dropout``) and the assignments in front."""
    for key in values:
        name = key.rsplit(".", 1)[-1]
        message = re.sub(rf"(?<![\w.])(?:\w+\.)+{re.escape(name)}(?![\w.])", f"{prefix}{key}", message)
    assignments = ", ".join(f"{prefix}{key}={raw}" for key, raw in values.items())
    return f"--set {assignments}: {message}"


def apply_overrides(config: Any, values: dict[str, str], _prefix: str = "") -> Any:
    """A copy of ``config`` with ``dotted.key -> value`` strings applied, each section replaced (and
    validated) once with all of its new values, so settings checked together (e.g. the split
    fractions) are checked on the final values only.

    Raises:
        ConfigError: unknown key, a value that does not parse, or a value the section refuses
            (the message names the keys as typed).
    """
    by_head: dict[str, dict[str, str]] = {}
    for key, raw in values.items():
        head, _, rest = key.partition(".")
        by_head.setdefault(head, {})[rest] = raw
    fields = {f.name: f for f in dataclasses.fields(config)}
    field_types = _field_types(type(config))
    changes = {}
    for head, sub in by_head.items():
        key = f"{_prefix}{head}"
        rest = next(iter(sub))
        full_key = f"{key}.{rest}" if rest else key
        if head not in fields:
            raise ConfigError(f"--set {full_key}: unknown setting '{head}' (choose from {', '.join(fields)}).")
        current = getattr(config, head)
        if dataclasses.is_dataclass(current):
            if "" in sub:
                raise ConfigError(f"--set {key}: '{head}' is a section; name one of its settings.")
            changes[head] = apply_overrides(current, sub, _prefix=f"{key}.")
        elif set(sub) != {""}:
            raise ConfigError(f"--set {key}.{next(r for r in sub if r)}: '{head}' has no sub-settings.")
        else:
            changes[head] = _parse_value(sub[""], field_types[head], key)
    try:
        return dataclasses.replace(config, **changes)
    except OverrideError:
        raise
    except ConfigError as exc:
        raise OverrideError(_typed_keys_message(str(exc), values, _prefix)) from None

"""Checking JSON values against the API's OpenAPI 3.1 document with the real validators.

Responses and request examples are validated by ``jsonschema`` (Draft 2020-12, the dialect of
OpenAPI 3.1), with ``$ref`` resolved inside the document; the document itself by
``openapi-spec-validator``.
"""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from openapi_spec_validator import validate as validate_spec


def resolve(document: dict[str, Any], ref: str) -> Any:
    """The target of a local ``#/a/b`` reference."""
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def errors(value: Any, schema: dict[str, Any], document: dict[str, Any], path: str = "$") -> list[str]:
    """Every way ``value`` violates ``schema`` (empty: valid); ``$ref`` resolve in ``document``."""
    rooted = {**schema, "components": document.get("components", {})}
    validator = Draft202012Validator(rooted, format_checker=FormatChecker())
    return [
        f"{path}{''.join(f'[{p!r}]' for p in error.absolute_path)}: {error.message}"
        for error in validator.iter_errors(value)
    ]


def spec_errors(document: dict[str, Any]) -> list[str]:
    """Why ``document`` is not a valid OpenAPI document (empty: valid)."""
    try:
        validate_spec(document)
    except Exception as error:  # the validator raises its own error types, one per problem found first
        return [str(error).splitlines()[0]]
    return []


def all_refs(node: Any) -> list[str]:
    """Every ``$ref`` string anywhere in ``node``."""
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == "$ref"] + [r for v in node.values() for r in all_refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in all_refs(v)]
    return []

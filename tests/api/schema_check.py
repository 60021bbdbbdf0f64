"""A small JSON-Schema subset checker for the OpenAPI document (``jsonschema`` is not installed).

Supports what api/openapi.py uses: ``$ref`` (local), ``type`` (string or list), ``required``,
``properties``, ``items``, ``enum``, ``oneOf``, ``minimum``/``maximum``, ``minLength``/``maxLength``,
``minItems``/``maxItems``.
"""

from __future__ import annotations

from typing import Any

_TYPES = {
    "object": dict,
    "array": list,
    "string": str,
    "integer": int,
    "number": (int, float),
    "boolean": bool,
    "null": type(None),
}


def resolve(document: dict[str, Any], ref: str) -> Any:
    """The target of a local ``#/a/b`` reference."""
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def _type_ok(value: Any, name: str) -> bool:
    if name in ("integer", "number") and isinstance(value, bool):
        return False
    return isinstance(value, _TYPES[name])


def errors(value: Any, schema: dict[str, Any], document: dict[str, Any], path: str = "$") -> list[str]:
    """Every way ``value`` violates ``schema`` (empty: valid)."""
    if "$ref" in schema:
        return errors(value, resolve(document, schema["$ref"]), document, path)
    if "oneOf" in schema:
        matches = [s for s in schema["oneOf"] if not errors(value, s, document, path)]
        return [] if len(matches) == 1 else [f"{path}: matches {len(matches)} of oneOf"]
    found: list[str] = []
    if "type" in schema:
        names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_type_ok(value, n) for n in names):
            return [f"{path}: {value!r} is not {names}"]
    if "enum" in schema and value not in schema["enum"]:
        found.append(f"{path}: {value!r} not in {schema['enum']}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            found.append(f"{path}: below minimum")
        if "maximum" in schema and value > schema["maximum"]:
            found.append(f"{path}: above maximum")
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0) or len(value) > schema.get("maxLength", len(value)):
            found.append(f"{path}: length out of range")
    if isinstance(value, dict):
        found += [f"{path}: missing '{k}'" for k in schema.get("required", []) if k not in value]
        for key, sub in schema.get("properties", {}).items():
            if key in value:
                found += errors(value[key], sub, document, f"{path}.{key}")
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0) or len(value) > schema.get("maxItems", len(value)):
            found.append(f"{path}: item count out of range")
        if "items" in schema:
            for i, item in enumerate(value):
                found += errors(item, schema["items"], document, f"{path}[{i}]")
    return found


def all_refs(node: Any) -> list[str]:
    """Every ``$ref`` string anywhere in ``node``."""
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == "$ref"] + [r for v in node.values() for r in all_refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in all_refs(v)]
    return []

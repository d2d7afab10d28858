"""Does an API's inline definition parse as the type it claims? A light, local check.

It catches what a person gets wrong most (YAML that does not parse, an OpenAPI document
without `openapi:`/`info:`, a proto file with unbalanced braces); it does not replace a
full validator of each specification.
"""

from typing import Any

import yaml


def _mapping(text: str) -> tuple[dict[str, Any] | None, str]:
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        return None, f"definition is not valid YAML/JSON{where}"
    if not isinstance(doc, dict):
        return None, "definition must be a YAML or JSON object"
    return doc, ""


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


def check_definition(api_type: str, text: str) -> tuple[bool, str]:
    """(valid, message) for a definition of the given API type."""
    if not text.strip():
        return False, "definition is empty"
    if api_type in ("openapi", "asyncapi"):
        doc, err = _mapping(text)
        if doc is None:
            return False, err
        version_key = "asyncapi" if api_type == "asyncapi" else "openapi"
        if api_type == "openapi" and "swagger" in doc:
            version_key = "swagger"
        missing = [k for k in (version_key, "info") if k not in doc]
        if missing:
            return False, f"{api_type} definition lacks top-level {', '.join(missing)}"
        return True, f"{version_key} {doc[version_key]} document"
    if api_type == "graphql":
        if not _balanced(text):
            return False, "graphql definition has unbalanced braces"
        if not any(w in text for w in ("type ", "schema", "interface ", "input ", "enum ")):
            return False, "graphql definition declares no type or schema"
        return True, "graphql schema"
    if api_type == "grpc":
        if not _balanced(text):
            return False, "grpc definition has unbalanced braces"
        if "service " not in text and "message " not in text:
            return False, "grpc definition declares no service or message"
        return True, "protocol buffers definition"
    return False, f"unknown API type {api_type!r}"

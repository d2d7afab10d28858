"""Does an API's inline definition parse as the type it claims? A light, local check.

It catches what a person gets wrong most (YAML that does not parse, an OpenAPI document
without `openapi:`/`info:`, a proto file with unbalanced braces); it does not replace a
full validator of each specification.

A definition may be up to 1 MiB and an API's status is recomputed on every roll-up (its
providers and consumers change), on the event loop. So the answer is remembered per content
(`DefinitionChecks`, a bounded LRU keyed by a digest of the text: a spec change is a new
key, and nothing is ever stale) and YAML is parsed with libyaml's C loader when PyYAML has
it. Pure: no I/O, and the cache holds digests and short messages, never the texts.
"""

import hashlib
import re
from collections import OrderedDict
from typing import Any

import yaml

# libyaml's loader is an order of magnitude faster; the pure-Python one gives the same
# answers where PyYAML was built without it.
LOADER: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_BRACES = re.compile(r"[{}]")


def _mapping(text: str) -> tuple[dict[str, Any] | None, str]:
    try:
        doc = yaml.load(text, Loader=LOADER)  # a safe loader: plain data only
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        return None, f"definition is not valid YAML/JSON{where}"
    if not isinstance(doc, dict):
        return None, "definition must be a YAML or JSON object"
    return doc, ""


def _balanced(text: str) -> bool:
    depth = 0
    for brace in _BRACES.finditer(text):
        depth += 1 if brace.group() == "{" else -1
        if depth < 0:
            return False
    return depth == 0


def check_definition(api_type: str, text: str) -> tuple[bool, str]:
    """(valid, message) for a definition of the given API type (uncached)."""
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


class DefinitionChecks:
    """`check_definition`, remembered for the last `size` distinct (type, text) pairs.

    Keyed by a 128-bit BLAKE2 digest of the text: hashing 1 MiB costs about a millisecond,
    parsing it costs tens to hundreds. Least recently used entries go first.
    """

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._memo: OrderedDict[tuple[str, bytes], tuple[bool, str]] = OrderedDict()
        self.misses = 0

    def __len__(self) -> int:
        return len(self._memo)

    def __call__(self, api_type: str, text: str) -> tuple[bool, str]:
        key = (
            api_type,
            hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest(),
        )
        hit = self._memo.get(key)
        if hit is not None:
            self._memo.move_to_end(key)
            return hit
        self.misses += 1
        result = check_definition(api_type, text)
        self._memo[key] = result
        if len(self._memo) > self._size:
            self._memo.popitem(last=False)
        return result


# The process's checks (status.desired_status uses them): bounded, and holding no loop-bound
# state, so one instance per process is safe; tests make their own.
CHECKS = DefinitionChecks()

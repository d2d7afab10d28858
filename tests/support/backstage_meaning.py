"""What a Backstage entity means, for comparing a catalog before import and after export.

Written from Backstage's documented rules, independently of Portico's code: names compare
case-insensitively, a missing namespace is `default`, a reference takes the referring
entity's namespace and its field's default kind (group for an owner; none for dependsOn).
"""

from typing import Any

DEFAULT_KINDS: dict[str, str | None] = {
    "owner": "group",
    "system": "system",
    "subcomponentOf": "component",
    "providesApis": "api",
    "consumesApis": "api",
    "dependsOn": None,
    "domain": "domain",
}
PLAIN = ("type", "lifecycle", "definition")


def full_ref(ref: str, default_kind: str | None, namespace: str) -> str:
    kind, _, rest = ref.rpartition(":")
    kind = kind or default_kind or "?"
    ns, _, name = rest.rpartition("/")
    return f"{kind}:{ns or namespace}/{name}".lower()


def meaning(entity: dict[str, Any]) -> dict[str, Any]:
    meta = entity["metadata"]
    ns = meta.get("namespace") or "default"
    spec = entity.get("spec") or {}
    out: dict[str, Any] = {
        "name": meta["name"],
        "title": meta.get("title"),
        "description": meta.get("description"),
        "tags": sorted(meta.get("tags") or []),
        "links": meta.get("links") or [],
        "labels": meta.get("labels") or {},
    }
    for field in PLAIN:
        if spec.get(field) is not None:
            out[field] = spec[field]
    for field, kind in DEFAULT_KINDS.items():
        value = spec.get(field)
        if value is None:
            continue
        refs = value if isinstance(value, list) else [value]
        out[field] = sorted(full_ref(r, kind, ns) for r in refs)
    return out


def key(entity: dict[str, Any]) -> str:
    meta = entity["metadata"]
    return f"{entity['kind']}:{meta.get('namespace') or 'default'}/{meta['name']}".lower()


def catalog_meaning(entities: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The Components, APIs and Systems of a catalog, by reference."""
    kinds = {"Component", "API", "System"}
    return {key(e): meaning(e) for e in entities if e.get("kind") in kinds}


def lost_annotations(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The annotations `before` has that `after` lacks or changed (export may add more)."""
    mine = before["metadata"].get("annotations") or {}
    theirs = after["metadata"].get("annotations") or {}
    return {k: v for k, v in mine.items() if theirs.get(k) != v}

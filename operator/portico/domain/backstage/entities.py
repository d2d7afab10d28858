"""Backstage's Component, API and System to Portico's: the spec fields and their references.

References are resolved as Backstage resolves them (the referring entity's namespace, each
field's default kind: `group` for an owner, `system`, `component`, `api`, `domain`; no default
for `dependsOn`), then mapped as `ImportContext.ref` says, and written back in their shortest
form. A field Portico does not have is reported, never silently dropped.
"""

import json
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from portico.domain.backstage.context import ImportContext
from portico.domain.backstage.metadata import Converted, convert_metadata
from portico.domain.backstage.names import ORIGINAL_REFS
from portico.domain.backstage.source import Descriptor, Problem
from portico.domain.refs import InvalidRef
from portico.models.kinds import GROUP, VERSION, kind_info

LIFECYCLES = ("experimental", "production", "deprecated")
API_TYPES = ("openapi", "asyncapi", "graphql", "grpc")


@dataclass(frozen=True)
class Field:
    name: str
    ref_kind: str | None = None  # the default kind of a reference field; None: not a reference
    is_ref: bool = False
    many: bool = False
    required: bool = False


def _ref(name: str, kind: str | None, *, many: bool = False, required: bool = False) -> Field:
    return Field(name, kind, is_ref=True, many=many, required=required)


OWNER = _ref("owner", "group", required=True)
FIELDS: dict[str, tuple[Field, ...]] = {
    "component": (
        Field("type", required=True),
        Field("lifecycle", required=True),
        OWNER,
        _ref("system", "system"),
        _ref("subcomponentOf", "component"),
        _ref("providesApis", "api", many=True),
        _ref("consumesApis", "api", many=True),
        _ref("dependsOn", None, many=True),
    ),
    "api": (
        Field("type", required=True),
        Field("lifecycle", required=True),
        OWNER,
        _ref("system", "system"),
        Field("definition", required=True),
    ),
    "system": (OWNER, _ref("domain", "domain"), Field("type")),
}
KIND_NAMES = {"component": "Component", "api": "API", "system": "System", "template": "Template"}


@dataclass
class EntityConversion:
    converted: Converted
    manifest: dict[str, Any] | None  # None when a problem stopped it
    references: list[tuple[str, str]]  # (field, "kind:namespace/name" in Kubernetes terms)
    dropped: list[str]  # spec fields Portico has no place for


def convert_entity(desc: Descriptor, ctx: ImportContext, index: int = 0) -> EntityConversion:
    """A Backstage Component, API or System as a Portico manifest (see the module doc)."""
    converted = convert_metadata(desc, ctx, index)
    out = EntityConversion(converted, None, [], [])
    kind = converted.kind
    if converted.problems or kind not in FIELDS:
        return out
    raw = desc.entity.get("spec")
    if not isinstance(raw, dict):
        _problem(desc, converted, "spec", "required: an object")
        return out
    spec: dict[str, Any] = {}
    originals: dict[str, str] = {}  # Portico reference -> the Backstage one it was mapped from
    for f in FIELDS[kind]:
        value = raw.get(f.name)
        if value is None or value == []:
            if f.required:
                _problem(desc, converted, f"spec.{f.name}", "required")
            continue
        if f.is_ref:
            mapped = _refs(desc, converted, ctx, f, value, out.references, originals)
            if mapped is not None:
                spec[f.name] = mapped
        elif isinstance(value, str) and value.strip():
            spec[f.name] = value
        elif _placeholder(value):
            message = "a placeholder that could not be resolved (its own line says why)"
            _problem(desc, converted, f"spec.{f.name}", message)
        else:
            _problem(desc, converted, f"spec.{f.name}", "must be a non-empty string")
    _check_values(desc, converted, kind, spec)
    if isinstance(spec.get("owner"), str) and not spec["owner"].startswith(("group:", "user:")):
        _problem(desc, converted, "spec.owner", "must be a group or a user in Portico")
    if converted.problems:
        return out
    known = {f.name for f in FIELDS[kind]}
    out.dropped = [f"spec.{k}" for k in raw if k not in known]
    full = {**spec, **converted.spec}
    try:
        kind_info(KIND_NAMES[kind]).spec.model_validate(full)
    except ValidationError as e:  # Portico's limits (lengths, list sizes, URL form)
        for error in e.errors():
            loc = [str(p) for p in error["loc"]]
            where = "metadata" if loc and loc[0] in converted.spec else "spec"
            _problem(desc, converted, ".".join([where, *loc]), str(error["msg"]))
        return out
    if originals:
        notes = converted.metadata.setdefault("annotations", {})
        notes[ORIGINAL_REFS] = json.dumps(originals, sort_keys=True, separators=(",", ":"))
    out.manifest = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": KIND_NAMES[kind],
        "metadata": converted.metadata,
        "spec": full,
    }
    return out


def _refs(
    desc: Descriptor,
    converted: Converted,
    ctx: ImportContext,
    f: Field,
    value: Any,
    references: list[tuple[str, str]],
    originals: dict[str, str],
) -> str | list[str] | None:
    namespace = converted.metadata["namespace"]
    items = value if f.many else [value]
    if f.many and not isinstance(value, list):
        _problem(desc, converted, f"spec.{f.name}", "must be a list of entity references")
        return None
    out: list[str] = []
    for i, item in enumerate(items):
        path = f"spec.{f.name}[{i}]" if f.many else f"spec.{f.name}"
        if not isinstance(item, str):
            _problem(desc, converted, path, "must be an entity reference")
            continue
        try:
            key = ctx.ref(item, default_kind=f.ref_kind, referrer_namespace=converted.namespace)
        except InvalidRef as e:
            _problem(desc, converted, path, str(e))
            continue
        references.append((path, str(key)))
        # An owner's kind is always written: Portico's owner rule asks for group: or user:.
        default = None if f.name == "owner" else f.ref_kind
        text = ctx.ref_string(key, default_kind=default, namespace=namespace)
        if key.name != item.rpartition("/")[2].rpartition(":")[2]:
            originals[text] = item  # a mapped name: export writes the original back
        out.append(text)
    return out if f.many else (out[0] if out else None)


def _check_values(desc: Descriptor, converted: Converted, kind: str, spec: dict[str, Any]) -> None:
    lifecycle = spec.get("lifecycle")
    if lifecycle is not None and lifecycle not in LIFECYCLES:
        _problem(
            desc,
            converted,
            "spec.lifecycle",
            f"{lifecycle!r} is not one of Portico's lifecycles: {', '.join(LIFECYCLES)}",
        )
    if kind == "api" and spec.get("type") is not None and spec["type"] not in API_TYPES:
        _problem(
            desc,
            converted,
            "spec.type",
            f"{spec['type']!r} is not one of Portico's API types: {', '.join(API_TYPES)}",
        )
    if kind == "component" and len(spec.get("type") or "") > 63:
        _problem(desc, converted, "spec.type", "at most 63 characters")


def _placeholder(value: Any) -> bool:
    """A `$text`/`$json`/`$yaml` mapping left in place: the reader could not resolve it."""
    return isinstance(value, dict) and len(value) == 1 and str(next(iter(value))).startswith("$")


def _problem(desc: Descriptor, converted: Converted, path: str, message: str) -> None:
    label = converted.ref if converted.name else "document"
    converted.problems.append(Problem(desc.source, label, path, message))

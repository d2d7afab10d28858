"""Relations as Backstage computes them: each spec reference is an edge, seen both ways.

An entity's outgoing edges come from its own spec; its incoming edges are other entities'
outgoing edges that point at it (kept in a reverse index). `relations_of` joins both into the
list written to status, using the inverse type for incoming edges.
"""

from typing import NamedTuple

from portico.domain.refs import EntityKey, InvalidRef, parse_ref
from portico.models.api import ApiSpec
from portico.models.base import Model
from portico.models.component import ComponentSpec
from portico.models.system import SystemSpec

INVERSE: dict[str, str] = {
    "ownedBy": "ownerOf",
    "partOf": "hasPart",
    "providesApi": "apiProvidedBy",
    "consumesApi": "apiConsumedBy",
    "dependsOn": "dependencyOf",
    "subcomponentOf": "hasSubcomponent",
    "scaffoldedFrom": "templateOf",
}


class Edge(NamedTuple):
    """`source --type--> target`."""

    type: str
    source: EntityKey
    target: EntityKey


class SpecRef(NamedTuple):
    """One reference in a spec: its field path, relation type, and the default kind."""

    field: str
    type: str
    value: str
    default_kind: str | None


def spec_refs(spec: Model) -> list[SpecRef]:
    """Every entity reference a spec holds, with the field it sits in."""
    refs = [SpecRef("spec.owner", "ownedBy", spec.owner, None)] if hasattr(spec, "owner") else []
    if isinstance(spec, ComponentSpec | ApiSpec) and spec.system:
        refs.append(SpecRef("spec.system", "partOf", spec.system, "system"))
    if isinstance(spec, SystemSpec) and spec.domain:
        refs.append(SpecRef("spec.domain", "partOf", spec.domain, "domain"))
    if isinstance(spec, ComponentSpec):
        if spec.subcomponent_of:
            refs.append(
                SpecRef("spec.subcomponentOf", "subcomponentOf", spec.subcomponent_of, "component")
            )
        for i, ref in enumerate(spec.provides_apis):
            refs.append(SpecRef(f"spec.providesApis[{i}]", "providesApi", ref, "api"))
        for i, ref in enumerate(spec.consumes_apis):
            refs.append(SpecRef(f"spec.consumesApis[{i}]", "consumesApi", ref, "api"))
        for i, ref in enumerate(spec.depends_on):
            refs.append(SpecRef(f"spec.dependsOn[{i}]", "dependsOn", ref, "component"))
        if spec.scaffold:
            t = spec.scaffold.template_ref
            ref = f"template:{t.namespace}/{t.name}" if t.namespace else f"template:{t.name}"
            refs.append(SpecRef("spec.scaffold.templateRef", "scaffoldedFrom", ref, "template"))
    return refs


def outgoing_edges(source: EntityKey, spec: Model) -> tuple[tuple[Edge, ...], tuple[str, ...]]:
    """The edges a spec declares, and a message per reference that cannot be parsed."""
    edges: list[Edge] = []
    errors: list[str] = []
    for ref in spec_refs(spec):
        try:
            target = parse_ref(
                ref.value, default_kind=ref.default_kind, default_namespace=source.namespace
            )
        except InvalidRef as e:
            errors.append(f"{ref.field}: {e}")
            continue
        edges.append(Edge(ref.type, source, target))
    return tuple(dict.fromkeys(edges)), tuple(errors)


def relations_of(
    key: EntityKey, outgoing: tuple[Edge, ...], incoming: list[Edge]
) -> list[tuple[str, str]]:
    """(type, target) pairs for status: own edges as they are, others' edges inverted."""
    pairs = {(e.type, str(e.target)) for e in outgoing}
    pairs |= {(INVERSE[e.type], str(e.source)) for e in incoming if e.target == key}
    return sorted(pairs)

"""The status each entity should have, computed from its view and the catalog graph.

`desired_status` is the decision; `status_patch` compares it with what is stored and returns
the smallest merge patch, or None when nothing changed (an idle catalog writes nothing).
"""

from collections.abc import Mapping
from typing import Any, Protocol

from portico.domain.conditions import (
    REFS_RESOLVED,
    VALID,
    cond,
    merge_conditions,
    summary_ready,
)
from portico.domain.definitions import check_definition
from portico.domain.entity import EntityView
from portico.domain.refs import EntityKey
from portico.domain.relations import Edge, relations_of
from portico.models.api import ApiSpec

# Status fields this decision owns; others (repository, argocd, kopf, ...) are left alone.
OWNED: dict[str, tuple[str, ...]] = {
    "component": ("observedGeneration", "conditions", "relations"),
    "api": (
        "observedGeneration",
        "conditions",
        "relations",
        "providers",
        "consumers",
        "definition",
    ),
    "system": ("observedGeneration", "conditions", "relations", "members", "summary"),
    "template": ("observedGeneration", "conditions", "relations", "scaffolded"),
}


class Graph(Protocol):
    """What a decision may ask of the catalog."""

    def get(self, key: EntityKey) -> EntityView | None: ...

    def incoming(self, key: EntityKey) -> list[Edge]: ...


def refs_condition(view: EntityView, graph: Graph) -> dict[str, Any]:
    if view.problems:
        return cond(REFS_RESOLVED, False, "InvalidReference", "; ".join(view.problems))
    missing = sorted(
        {str(e.target) for e in view.edges if e.target.served and graph.get(e.target) is None}
    )
    if missing:
        noun = "reference" if len(missing) == 1 else "references"
        return cond(
            REFS_RESOLVED,
            False,
            "ReferenceNotFound",
            f"{noun} not found: {', '.join(missing)}; create "
            f"{'it' if len(missing) == 1 else 'them'} or fix the spec",
        )
    checked = sum(1 for e in view.edges if e.target.served)
    return cond(REFS_RESOLVED, True, "AllFound", f"{checked} catalog references resolved")


def _sources(incoming: list[Edge], type_: str) -> list[str]:
    return sorted(str(e.source) for e in incoming if e.type == type_)


def desired_status(view: EntityView, graph: Graph, *, now: str) -> dict[str, Any]:
    """The owned part of the entity's status."""
    incoming = graph.incoming(view.key)
    wanted = [refs_condition(view, graph)]
    status: dict[str, Any] = {"observedGeneration": view.generation}
    kind = view.key.kind
    if kind == "api":
        status["providers"] = _sources(incoming, "providesApi")
        status["consumers"] = _sources(incoming, "consumesApi")
        if isinstance(view.spec, ApiSpec):
            valid, message = check_definition(view.spec.type, view.spec.definition)
            status["definition"] = {"valid": valid, "message": message}
            wanted.append(
                cond(
                    VALID,
                    valid,
                    "DefinitionParsed" if valid else "DefinitionInvalid",
                    f"spec.definition: {message}",
                )
            )
    elif kind == "system":
        members = sorted(set(_sources(incoming, "partOf")))
        status["members"] = [{"ref": m} for m in members]
        n_comp = sum(1 for m in members if m.startswith("component:"))
        n_api = sum(1 for m in members if m.startswith("api:"))
        status["summary"] = f"{n_comp} components, {n_api} apis"
    elif kind == "template":
        status["scaffolded"] = len(_sources(incoming, "scaffoldedFrom"))
    wanted.append(summary_ready(wanted))
    status["conditions"] = merge_conditions(
        view.status.get("conditions") or [], wanted, generation=view.generation, now=now
    )
    status["relations"] = [
        {"type": t, "target": target} for t, target in relations_of(view.key, view.edges, incoming)
    ]
    return status


def status_patch(
    current: Mapping[str, Any], desired: Mapping[str, Any], owned: tuple[str, ...]
) -> dict[str, Any] | None:
    """The merge patch turning the owned part of `current` into `desired`, or None."""
    patch: dict[str, Any] = {}
    for key in owned:
        if key in desired:
            if current.get(key) != desired[key]:
                patch[key] = desired[key]
        elif current.get(key) is not None:
            patch[key] = None
    return patch or None

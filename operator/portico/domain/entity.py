"""EntityView: what the operator keeps in memory about one catalog object.

Built from a watched object's body; the index holds one per entity, so reconciling never
needs a GET or LIST. Frozen and comparable, so an unchanged object is an unchanged view.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from portico.domain.refs import EntityKey
from portico.domain.relations import Edge, outgoing_edges
from portico.models.base import Model
from portico.models.kinds import kind_info


@dataclass(frozen=True)
class EntityView:
    key: EntityKey
    uid: str
    generation: int
    resource_version: str
    spec: Model | None
    status: Mapping[str, Any]
    annotations: Mapping[str, str] = field(default_factory=dict)
    edges: tuple[Edge, ...] = ()
    problems: tuple[str, ...] = ()

    @property
    def health(self) -> str | None:
        health = self.status.get("health") or {}
        value = health.get("status")
        return value if isinstance(value, str) else None

    def neighbourhood(self) -> tuple[Any, ...]:
        """What other entities' statuses depend on: existence, edges, health."""
        return (self.edges, self.health, (self.status.get("health") or {}).get("message"))


def _field_errors(error: ValidationError) -> tuple[str, ...]:
    out = []
    for e in error.errors():
        path = ".".join(str(p) for p in ("spec", *e["loc"]))
        out.append(f"{path}: {e['msg']}")
    return tuple(out)


def view_from_body(kind: str, body: Mapping[str, Any]) -> EntityView:
    """Parse a watched object into a view; spec problems become messages, never exceptions."""
    info = kind_info(kind)
    meta = body.get("metadata", {})
    key = EntityKey(info.ref_kind, meta.get("namespace", "default"), meta["name"])
    problems: tuple[str, ...] = ()
    spec: Model | None
    edges: tuple[Edge, ...] = ()
    try:
        spec = info.spec.model_validate(body.get("spec") or {})
    except ValidationError as e:
        spec, problems = None, _field_errors(e)
    if spec is not None:
        edges, problems = outgoing_edges(key, spec)
    return EntityView(
        key=key,
        uid=meta.get("uid", ""),
        generation=int(meta.get("generation") or 0),
        resource_version=meta.get("resourceVersion", ""),
        spec=spec,
        status=dict(body.get("status") or {}),
        annotations=dict(meta.get("annotations") or {}),
        edges=edges,
        problems=problems,
    )

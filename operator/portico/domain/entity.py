"""EntityView: what the operator keeps in memory about one catalog object.

Built from a watched object's body; the index holds one per entity, so reconciling never
needs a GET or LIST. Frozen and comparable, so an unchanged object is an unchanged view.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from portico.domain.alerts import AlertSelector, alert_selector
from portico.domain.refs import EntityKey
from portico.domain.relations import Edge, outgoing_edges
from portico.domain.upgrades import component_update_state, rollout_gate
from portico.domain.workloads import Selector, parse_selector_string, selector_from
from portico.models.base import Model
from portico.models.component import ComponentSpec
from portico.models.kinds import kind_info

KUBERNETES_ID = "backstage.io/kubernetes-id"
KUBERNETES_NAMESPACE = "backstage.io/kubernetes-namespace"
KUBERNETES_SELECTOR = "backstage.io/kubernetes-label-selector"


@dataclass(frozen=True)
class KubernetesTarget:
    """Where a Component's workloads are: a namespace and a label selector."""

    namespace: str
    selector: Selector


def kubernetes_target(
    key: EntityKey, spec: Model | None, annotations: Mapping[str, str]
) -> KubernetesTarget | None:
    """spec.observe.kubernetes, else Backstage's annotations, else nothing (no signal).

    With `observe.kubernetes` but no selector, or with `backstage.io/kubernetes-id: X`, the
    workloads are those labelled `backstage.io/kubernetes-id=X` (X defaults to the name).
    """
    namespace = annotations.get(KUBERNETES_NAMESPACE, key.namespace)
    if isinstance(spec, ComponentSpec) and spec.observe and spec.observe.kubernetes:
        k8s = spec.observe.kubernetes
        selector = selector_from(k8s.selector.wire() if k8s.selector else None)
        if not selector.match_labels and not selector.expressions:
            selector = Selector(((KUBERNETES_ID, annotations.get(KUBERNETES_ID, key.name)),))
        return KubernetesTarget(k8s.namespace or namespace, selector)
    if KUBERNETES_SELECTOR in annotations:
        return KubernetesTarget(namespace, parse_selector_string(annotations[KUBERNETES_SELECTOR]))
    if KUBERNETES_ID in annotations:
        return KubernetesTarget(namespace, Selector(((KUBERNETES_ID, annotations[KUBERNETES_ID]),)))
    return None


@dataclass(frozen=True)
class EntityView:
    key: EntityKey
    uid: str
    generation: int
    resource_version: str
    spec: Model | None
    status: Mapping[str, Any]
    annotations: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    edges: tuple[Edge, ...] = ()
    problems: tuple[str, ...] = ()
    kubernetes: KubernetesTarget | None = None
    deleting: bool = False
    alerts: AlertSelector | None = None

    @property
    def health(self) -> str | None:
        health = self.status.get("health") or {}
        value = health.get("status")
        return value if isinstance(value, str) else None

    @property
    def health_message(self) -> str:
        return str((self.status.get("health") or {}).get("message", ""))

    def neighbourhood(self) -> tuple[Any, ...]:
        """What other entities' statuses depend on: existence, edges, health; a Component's
        template version and update state (its Template counts them), a Template's version
        and whether it may roll out (its Components follow it). The last item is the one
        that concerns the entities pointing here."""
        scaffolded = bool((self.status.get("repository") or {}).get("commit"))
        if self.key.kind == "template":
            follow: Any = rollout_gate(self.status)
        else:
            follow = component_update_state(self.status) if scaffolded else None
        return (self.edges, self.health, self.health_message, scaffolded, follow)


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
    annotations = dict(meta.get("annotations") or {})
    return EntityView(
        key=key,
        uid=meta.get("uid", ""),
        generation=int(meta.get("generation") or 0),
        resource_version=meta.get("resourceVersion", ""),
        spec=spec,
        status=dict(body.get("status") or {}),
        annotations=annotations,
        labels=dict(meta.get("labels") or {}),
        edges=edges,
        problems=problems,
        kubernetes=kubernetes_target(key, spec, annotations),
        deleting=bool(meta.get("deletionTimestamp")),
        alerts=_alerts_of(spec, annotations),
    )


def body_of(view: EntityView) -> dict[str, Any]:
    """The object a view was made from, as far as the view keeps it (for export)."""
    return {
        "kind": kind_info(view.key.kind).kind,
        "metadata": {
            "name": view.key.name,
            "namespace": view.key.namespace,
            "labels": dict(view.labels),
            "annotations": dict(view.annotations),
        },
        "spec": view.spec.wire() if view.spec is not None else None,
        "status": dict(view.status),
    }


def _alerts_of(spec: Model | None, annotations: Mapping[str, str]) -> AlertSelector | None:
    if not isinstance(spec, ComponentSpec):
        return None
    labels = (
        spec.observe.prometheus.alert_labels if spec.observe and spec.observe.prometheus else None
    )
    return alert_selector(labels, annotations)

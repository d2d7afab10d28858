"""Portico's catalog as Backstage descriptors (`portico export`, `/backstage/catalog-info.yaml`).

Each Component, API and System becomes the Backstage entity it was imported from, in meaning:
the original name and namespace come back from the annotations import wrote, references are
mapped back the same way, and `spec.title`, `tags`, `links` and `description` go back to
metadata. What Portico learned is added as the annotations Backstage's plugins read (the
repository, the Argo CD Application, the Kubernetes selector, alerts, the Grafana dashboard)
and `portico.dev/health`; an annotation the user set is never overwritten. Templates are not
exported: a Portico Template has no scaffolder steps for Backstage to run.
"""

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import ValidationError

from portico.domain.alerts import ALERT_ANNOTATION
from portico.domain.argocd import APP_NAME_ANNOTATION
from portico.domain.backstage.entities import FIELDS
from portico.domain.backstage.names import (
    DEFAULT_NAMESPACE,
    ORIGINAL_NAME,
    ORIGINAL_NAMESPACE,
    ORIGINAL_REFS,
    kube_name,
)
from portico.domain.dashboards import component_tag
from portico.domain.delivery import PROJECT_SLUG_ANNOTATION, github_repository, repository_url
from portico.domain.entity import (
    KUBERNETES_ID,
    KUBERNETES_NAMESPACE,
    KUBERNETES_SELECTOR,
    kubernetes_target,
)
from portico.domain.links import OVERVIEW_DASHBOARD
from portico.domain.refs import EntityKey, InvalidRef, parse_ref
from portico.models.component import ComponentSpec

API_VERSION = "backstage.io/v1alpha1"
KINDS = {"Component": "component", "API": "api", "System": "system"}
SOURCE_LOCATION = "backstage.io/source-location"
ALERT_LABELS = "prometheus.io/labels"
DASHBOARD_SELECTOR = "grafana/dashboard-selector"
HEALTH = "portico.dev/health"
HEALTH_REASON = "portico.dev/health-reason"
# Annotations about how an object was applied or imported, not about the entity.
_NOT_EXPORTED = re.compile(
    r"^(kubectl\.kubernetes\.io/|argocd\.argoproj\.io/|kopf\.zalando\.org/"
    r"|portico\.dev/backstage-)"
)


class _Identities:
    """Kubernetes identity -> Backstage identity, from the annotations import wrote.

    They are trusted only as import writes them: an original name that `kube_name` maps to
    this object's name, and an original namespace `default` (the only one `-n` moves). Two
    objects that would come back as one Backstage entity (two teams' imports of the same
    catalog) are not merged: the second keeps its Kubernetes identity.
    """

    def __init__(self, objects: list[Mapping[str, Any]]) -> None:
        self.names: dict[tuple[str, str, str], tuple[str, str]] = {}
        self.namespaces: dict[str, str] = {}
        taken: set[tuple[str, str, str]] = set()
        for obj in sorted(objects, key=_identity):
            kind, ns, name = _identity(obj)
            notes = (obj.get("metadata") or {}).get("annotations") or {}
            original_ns = notes.get(ORIGINAL_NAMESPACE, ns)
            if original_ns not in (ns, DEFAULT_NAMESPACE):
                original_ns = ns
            original = notes.get(ORIGINAL_NAME, name)
            if kube_name(original) != name:
                original = name
            if (kind, original_ns, original.lower()) in taken:
                original_ns, original = ns, name
            taken.add((kind, original_ns, original.lower()))
            self.namespaces.setdefault(ns, original_ns)
            self.names[(kind, ns, name)] = (original_ns, original)

    def of(self, key: EntityKey) -> tuple[str, str]:
        found = self.names.get((key.kind, key.namespace, key.name))
        return found or (self.namespaces.get(key.namespace, key.namespace), key.name)


def _identity(obj: Mapping[str, Any]) -> tuple[str, str, str]:
    meta = obj.get("metadata") or {}
    return KINDS.get(str(obj.get("kind")), ""), meta.get("namespace", "default"), meta["name"]


def export_catalog(
    objects: Iterable[Mapping[str, Any]], namespace: str | None = None
) -> list[dict[str, Any]]:
    """Backstage entities for the Components, APIs and Systems among `objects` (Kubernetes
    objects as the API server returns them), sorted by kind, namespace and name; only those
    in Kubernetes namespace `namespace` if given (the others still map references)."""
    served = [o for o in objects if o.get("kind") in KINDS and isinstance(o.get("spec"), dict)]
    ids = _Identities(served)
    chosen = [o for o in served if namespace is None or _identity(o)[1] == namespace]
    entities = [_entity(obj, ids) for obj in chosen]
    order = {"System": 0, "API": 1, "Component": 2}
    entities.sort(
        key=lambda e: (order[e["kind"]], e["metadata"]["namespace"], e["metadata"]["name"])
    )
    return entities


def _entity(obj: Mapping[str, Any], ids: _Identities) -> dict[str, Any]:
    kind_name = str(obj["kind"])
    kind = KINDS[kind_name]
    meta = obj.get("metadata") or {}
    spec: Mapping[str, Any] = obj["spec"]
    ns = meta.get("namespace", "default")
    b_ns, b_name = ids.of(EntityKey(kind, ns, meta.get("name", "")))
    metadata: dict[str, Any] = {"name": b_name, "namespace": b_ns}
    for key in ("title", "description"):
        if spec.get(key):
            metadata[key] = spec[key]
    if meta.get("labels"):
        metadata["labels"] = dict(meta["labels"])
    annotations = {
        k: v for k, v in (meta.get("annotations") or {}).items() if not _NOT_EXPORTED.match(k)
    }
    for k, v in learned(kind, obj).items():
        annotations.setdefault(k, v)
    if annotations:
        metadata["annotations"] = dict(sorted(annotations.items()))
    if spec.get("tags"):
        metadata["tags"] = list(spec["tags"])
    if spec.get("links"):
        metadata["links"] = [dict(link) for link in spec["links"]]
    originals = _originals((meta.get("annotations") or {}).get(ORIGINAL_REFS))
    out_spec: dict[str, Any] = {}
    for f in FIELDS[kind]:
        value = spec.get(f.name)
        if value is None or value == []:
            continue
        if not f.is_ref:
            out_spec[f.name] = value
            continue
        # Portico defaults dependsOn to component:, Backstage to nothing (a kind is written).
        read_kind = f.ref_kind or "component"
        refs = [
            originals[r]
            if r in originals and _outside(r, read_kind, ns, ids)
            else _ref_back(r, read_kind, f.ref_kind, ns, b_ns, ids)
            for r in (value if f.many else [value])
        ]
        out_spec[f.name] = refs if f.many else refs[0]
    return {"apiVersion": API_VERSION, "kind": kind_name, "metadata": metadata, "spec": out_spec}


def _originals(raw: str | None) -> dict[str, str]:
    """The Backstage references an import mapped (ORIGINAL_REFS); {} if absent or malformed."""
    try:
        found = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    if not isinstance(found, dict):
        return {}
    return {k: v for k, v in found.items() if isinstance(k, str) and isinstance(v, str)}


def _outside(ref: str, read_kind: str, ns: str, ids: _Identities) -> bool:
    """Whether `ref` names no object being exported (so its original form is all we have)."""
    try:
        key = parse_ref(ref, default_kind=read_kind, default_namespace=ns)
    except InvalidRef:
        return True
    return (key.kind, key.namespace, key.name) not in ids.names


def _ref_back(
    ref: str, read_kind: str, default_kind: str | None, ns: str, b_ns: str, ids: _Identities
) -> str:
    """A Portico reference written by an entity in Kubernetes namespace `ns`, as Backstage
    reads it from the exported entity (in Backstage namespace `b_ns`)."""
    try:
        key = parse_ref(ref, default_kind=read_kind, default_namespace=ns)
    except InvalidRef:
        return ref
    target_ns, target_name = ids.of(key)
    text = target_name if target_ns == b_ns else f"{target_ns}/{target_name}"
    return text if key.kind == default_kind else f"{key.kind}:{text}"


def learned(kind: str, obj: Mapping[str, Any]) -> dict[str, str]:
    """The annotations Backstage's plugins read, from what Portico knows about the entity."""
    status: Mapping[str, Any] = obj.get("status") or {}
    meta = obj.get("metadata") or {}
    annotations: Mapping[str, str] = meta.get("annotations") or {}
    out: dict[str, str] = {}
    health = status.get("health") or {}
    if health.get("status"):
        out[HEALTH] = str(health["status"])
        if health.get("reason"):
            out[HEALTH_REASON] = str(health["reason"])
    if kind != "component":
        return out
    try:
        spec = ComponentSpec.model_validate(obj.get("spec") or {})
    except ValidationError:
        return out
    key = EntityKey(kind, meta.get("namespace", "default"), meta.get("name", ""))
    out.update(_repository(spec, status, annotations))
    app = str((status.get("argocd") or {}).get("application") or "")
    if app:
        out[APP_NAME_ANNOTATION] = app.rsplit("/", 1)[-1]
    target = kubernetes_target(key, spec, annotations)
    if target is not None:
        labels = dict(target.selector.match_labels)
        if set(labels) == {KUBERNETES_ID} and not target.selector.expressions:
            out[KUBERNETES_ID] = labels[KUBERNETES_ID]
        elif labels and not target.selector.expressions:
            out[KUBERNETES_SELECTOR] = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
        out[KUBERNETES_NAMESPACE] = target.namespace
    prometheus = spec.observe.prometheus if spec.observe else None
    if prometheus and prometheus.alert_labels and ALERT_ANNOTATION not in annotations:
        out[ALERT_ANNOTATION] = "all"
        out[ALERT_LABELS] = ",".join(f"{k}={v}" for k, v in sorted(prometheus.alert_labels.items()))
    grafana = status.get("grafana") or {}
    if grafana.get("dashboardUid"):
        out[DASHBOARD_SELECTOR] = f"tags @> '{component_tag(key)}'"
    if grafana.get("url"):
        out[OVERVIEW_DASHBOARD] = str(grafana["url"])
    return out


def _repository(
    spec: ComponentSpec, status: Mapping[str, Any], annotations: Mapping[str, str]
) -> dict[str, str]:
    url = repository_url(spec, status, annotations)
    if not url:
        return {}
    branch = (status.get("repository") or {}).get("defaultBranch")
    github = github_repository(url)
    if github is None:
        return {SOURCE_LOCATION: f"url:{url}"}
    owner, repo = github
    tree = f"https://github.com/{owner}/{repo}/tree/{branch or 'HEAD'}/"
    return {PROJECT_SLUG_ANNOTATION: f"{owner}/{repo}", SOURCE_LOCATION: f"url:{tree}"}

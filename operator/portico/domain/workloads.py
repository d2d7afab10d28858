"""Kubernetes workload health (Deployments, StatefulSets, DaemonSets), as Argo CD judges it.

A rollout under way, or replicas not yet ready, is Progressing: Kubernetes is working on it.
A Deployment whose rollout missed its progress deadline (Progressing=False,
ProgressDeadlineExceeded) is Degraded: Kubernetes gave up. No workload matched is Missing.
These are Argo CD's rules for the same objects, so both tools agree on the same cluster.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from portico.domain.health import Signal, worst

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet")


@dataclass(frozen=True)
class WorkloadView:
    kind: str
    namespace: str
    name: str
    labels: Mapping[str, str] = field(default_factory=dict)
    status: str = "Unknown"
    message: str = ""


@dataclass(frozen=True)
class Selector:
    """A label selector: matchLabels plus matchExpressions (In, NotIn, Exists, DoesNotExist)."""

    match_labels: tuple[tuple[str, str], ...] = ()
    expressions: tuple[tuple[str, str, tuple[str, ...]], ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        if not self.match_labels and not self.expressions:
            return False  # an empty selector selects nothing here, never everything
        if any(labels.get(k) != v for k, v in self.match_labels):
            return False
        for key, op, values in self.expressions:
            present = key in labels
            if op == "In" and (not present or labels[key] not in values):
                return False
            if op == "NotIn" and present and labels[key] in values:
                return False
            if op == "Exists" and not present:
                return False
            if op == "DoesNotExist" and present:
                return False
        return True

    @property
    def required_pair(self) -> tuple[str, str] | None:
        """A label every match must carry (its first matchLabels pair), for an index to find
        candidates by; None when it selects by expressions only."""
        return self.match_labels[0] if self.match_labels else None

    def __str__(self) -> str:
        parts = [f"{k}={v}" for k, v in self.match_labels]
        for key, op, values in self.expressions:
            parts.append(
                {"Exists": key, "DoesNotExist": f"!{key}"}.get(
                    op, f"{key} {op.lower()} ({','.join(values)})"
                )
            )
        return ",".join(parts)


def selector_from(spec: Mapping[str, Any] | None) -> Selector:
    spec = spec or {}
    labels = tuple(sorted((spec.get("matchLabels") or {}).items()))
    exprs = tuple(
        (e["key"], e["operator"], tuple(e.get("values") or ()))
        for e in spec.get("matchExpressions") or []
    )
    return Selector(labels, exprs)


def parse_selector_string(text: str) -> Selector:
    """`a=b,c==d` (equality only), as in Backstage's kubernetes-label-selector annotation."""
    pairs = []
    for part in text.split(","):
        if not part.strip():
            continue
        key, _, value = part.replace("==", "=").partition("=")
        pairs.append((key.strip(), value.strip()))
    return Selector(tuple(sorted(pairs)))


def _cond(status: Mapping[str, Any], type_: str) -> Mapping[str, Any]:
    for c in status.get("conditions") or []:
        if c.get("type") == type_:
            return dict(c)
    return {}


def _deployment(
    spec: Mapping[str, Any], status: Mapping[str, Any], generation: int
) -> tuple[str, str]:
    want = spec.get("replicas", 1)
    if spec.get("paused"):
        return "Progressing", "rollout paused"
    if generation > status.get("observedGeneration", 0):
        return "Progressing", "waiting for the controller to observe the new generation"
    progressing = _cond(status, "Progressing")
    if progressing.get("reason") == "ProgressDeadlineExceeded":
        detail = str(progressing.get("message") or "").rstrip(".")
        return "Degraded", "rollout exceeded its progress deadline" + (
            f": {detail}" if detail else ""
        )
    updated = status.get("updatedReplicas", 0)
    available = status.get("availableReplicas", 0)
    total = status.get("replicas", 0)
    if updated < want:
        return "Progressing", f"{updated}/{want} replicas updated"
    if total > updated:
        return "Progressing", f"{total - updated} old replicas pending termination"
    if available < updated:
        return "Progressing", f"{available}/{want} replicas available"
    return "Healthy", f"{available}/{want} replicas available"


def _statefulset(
    spec: Mapping[str, Any], status: Mapping[str, Any], generation: int
) -> tuple[str, str]:
    want = spec.get("replicas", 1)
    if generation > status.get("observedGeneration", 0):
        return "Progressing", "waiting for the controller to observe the new generation"
    ready = status.get("readyReplicas", 0)
    if ready < want:
        return "Progressing", f"{ready}/{want} replicas ready"
    rolling = (spec.get("updateStrategy") or {}).get("type", "RollingUpdate") == "RollingUpdate"
    revision = status.get("updateRevision")
    if rolling and revision and status.get("currentRevision") != revision:
        return "Progressing", f"{status.get('updatedReplicas', 0)}/{want} replicas updated"
    return "Healthy", f"{ready}/{want} replicas ready"


def _daemonset(
    spec: Mapping[str, Any], status: Mapping[str, Any], generation: int
) -> tuple[str, str]:
    if generation > status.get("observedGeneration", 0):
        return "Progressing", "waiting for the controller to observe the new generation"
    want = status.get("desiredNumberScheduled", 0)
    updated = status.get("updatedNumberScheduled", 0)
    ready = status.get("numberAvailable", status.get("numberReady", 0))
    if updated < want:
        return "Progressing", f"{updated}/{want} pods updated"
    if ready < want:
        return "Progressing", f"{ready}/{want} pods available"
    return "Healthy", f"{ready}/{want} pods available"


_JUDGES = {"Deployment": _deployment, "StatefulSet": _statefulset, "DaemonSet": _daemonset}


def workload_from_body(body: Mapping[str, Any]) -> WorkloadView:
    kind = str(body.get("kind", ""))
    meta = body.get("metadata") or {}
    judge = _JUDGES.get(kind)
    if judge is None:
        status, message = "Unknown", f"unsupported workload kind {kind}"
    else:
        status, message = judge(
            body.get("spec") or {}, body.get("status") or {}, int(meta.get("generation") or 0)
        )
    return WorkloadView(
        kind,
        meta.get("namespace", ""),
        meta["name"],
        dict(meta.get("labels") or {}),
        status,
        message,
    )


def kubernetes_signal(namespace: str, selector: Selector, workloads: list[WorkloadView]) -> Signal:
    """One signal for the workloads a Component selects."""
    matched = sorted(
        (w for w in workloads if selector.matches(w.labels)), key=lambda w: (w.kind, w.name)
    )
    if not matched:
        return Signal(
            "kubernetes",
            "Missing",
            f"no Deployment, StatefulSet or DaemonSet in namespace {namespace} matches {selector}",
        )
    status = worst(w.status for w in matched) or "Unknown"
    shown = [w for w in matched if w.status == status]
    text = "; ".join(f"{w.kind} {w.name}: {w.message}" for w in shown[:3])
    if len(shown) > 3:
        text += f"; and {len(shown) - 3} more"
    return Signal("kubernetes", status, text)

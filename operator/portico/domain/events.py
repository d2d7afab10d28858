"""Kubernetes Events Portico posts: built here, sent by the kube client."""

from typing import Any

from portico.domain.refs import EntityKey
from portico.models.kinds import API_VERSION, kind_info

REPORTER = "portico.dev/operator"


def health_event(
    key: EntityKey, uid: str, old: str, new: str, message: str, *, now: str, instance: str
) -> dict[str, Any]:
    """An events.k8s.io/v1 Event: `kubectl describe` shows "Health changed A -> B: ..."."""
    info = kind_info(key.kind)
    worse = new != "Healthy"
    micro = now.replace("Z", ".000000Z") if "." not in now else now
    return {
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "metadata": {"generateName": f"{key.name}-", "namespace": key.namespace},
        "regarding": {
            "apiVersion": API_VERSION,
            "kind": info.kind,
            "name": key.name,
            "namespace": key.namespace,
            "uid": uid,
        },
        "reason": "HealthChanged",
        "note": f"Health changed {old} -> {new}: {message}"[:1024],
        "type": "Warning" if worse else "Normal",
        "action": "Observe",
        "eventTime": micro,
        "reportingController": REPORTER,
        "reportingInstance": instance[:128],
    }

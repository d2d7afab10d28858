"""Kubernetes Events Portico posts: built here, sent by the kube client."""

from typing import Any

from portico.domain.refs import EntityKey
from portico.models.kinds import API_VERSION, kind_info

REPORTER = "portico.dev/operator"


def entity_event(
    key: EntityKey,
    uid: str,
    *,
    reason: str,
    note: str,
    warning: bool,
    action: str,
    now: str,
    instance: str,
) -> dict[str, Any]:
    """An events.k8s.io/v1 Event about a catalog entity, as `kubectl describe` shows it."""
    info = kind_info(key.kind)
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
        "reason": reason,
        "note": note[:1024],
        "type": "Warning" if warning else "Normal",
        "action": action,
        "eventTime": micro,
        "reportingController": REPORTER,
        "reportingInstance": instance[:128],
    }


def health_event(
    key: EntityKey, uid: str, old: str, new: str, message: str, *, now: str, instance: str
) -> dict[str, Any]:
    """`kubectl describe` shows "Health changed A -> B: ..."."""
    return entity_event(
        key,
        uid,
        reason="HealthChanged",
        note=f"Health changed {old} -> {new}: {message}",
        warning=new != "Healthy",
        action="Observe",
        now=now,
        instance=instance,
    )


def application_recreated_event(
    key: EntityKey, uid: str, application: str, *, now: str, instance: str
) -> dict[str, Any]:
    """An Application someone deleted by hand, put back: a Warning, since whoever deleted it
    probably expected it to stay gone (the way to stop deploying is the Component's spec)."""
    return entity_event(
        key,
        uid,
        reason="ApplicationRecreated",
        note=f"Application {application} was deleted outside Portico; Portico recreated it "
        "(to stop deploying, remove spec.deploy.argocd or set spec.deploy: {})",
        warning=True,
        action="Deploy",
        now=now,
        instance=instance,
    )


def scorecard_event(
    key: EntityKey,
    uid: str,
    old: str,
    new: str,
    down: bool,
    message: str,
    *,
    now: str,
    instance: str,
) -> dict[str, Any]:
    """`kubectl describe` shows "Scorecard level silver -> gold: ..."; a Warning going down."""
    return entity_event(
        key,
        uid,
        reason="ScorecardLevelChanged",
        note=f"Scorecard level {old} -> {new}: {message}",
        warning=down,
        action="Score",
        now=now,
        instance=instance,
    )

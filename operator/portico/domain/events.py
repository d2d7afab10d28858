"""Kubernetes Events Portico posts: built here, sent by the kube client."""

from typing import Any

from portico.domain.refs import EntityKey
from portico.models.kinds import API_VERSION, kind_info

REPORTER = "portico.dev/operator"


def _event(
    regarding: dict[str, str],
    *,
    reason: str,
    note: str,
    warning: bool,
    action: str,
    now: str,
    instance: str,
) -> dict[str, Any]:
    """An events.k8s.io/v1 Event, as `kubectl describe` shows it."""
    micro = now.replace("Z", ".000000Z") if "." not in now else now
    return {
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "metadata": {"generateName": f"{regarding['name']}-", "namespace": regarding["namespace"]},
        "regarding": regarding,
        "reason": reason,
        "note": note[:1024],
        "type": "Warning" if warning else "Normal",
        "action": action,
        "eventTime": micro,
        "reportingController": REPORTER,
        "reportingInstance": instance[:128],
    }


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
    """An Event about a catalog entity."""
    regarding = {
        "apiVersion": API_VERSION,
        "kind": kind_info(key.kind).kind,
        "name": key.name,
        "namespace": key.namespace,
        "uid": uid,
    }
    return _event(
        regarding,
        reason=reason,
        note=note,
        warning=warning,
        action=action,
        now=now,
        instance=instance,
    )


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


def config_event(
    namespace: str,
    name: str,
    uid: str,
    error: str | None,
    *,
    kept: str = "the last good configuration stays",
    now: str,
    instance: str,
) -> dict[str, Any]:
    """On the portico-config ConfigMap: why it was rejected (a Warning), or, after a
    rejection, that a good one is in force again."""
    if error is None:
        reason, note = "ConfigurationLoaded", "configuration loaded; it is in force"
    else:
        reason = "ConfigurationRejected"
        note = f"{error}; {kept} in force"
    regarding = {"apiVersion": "v1", "kind": "ConfigMap", "name": name, "namespace": namespace}
    return _event(
        {**regarding, "uid": uid},
        reason=reason,
        note=note,
        warning=error is not None,
        action="Configure",
        now=now,
        instance=instance,
    )

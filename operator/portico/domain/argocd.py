"""Argo CD, observed: what Portico keeps of an Application, its health signal and the
Component's status.argocd. What Portico applies is decided in portico.domain.delivery.

Application names are `<component namespace>-<component name>` in the configured Argo CD
namespace: deterministic, so a retry or a restart finds the same Application and never
makes a second one.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from portico.domain.health import Signal
from portico.domain.refs import EntityKey

MANAGED_BY = "app.kubernetes.io/managed-by"
ENTITY_LABEL = "portico.dev/entity"
APP_NAME_ANNOTATION = "argocd/app-name"
RESOURCES_FINALIZER = "resources-finalizer.argocd.argoproj.io"
API_VERSION = "argoproj.io/v1alpha1"


@dataclass(frozen=True)
class AppView:
    """What the operator keeps of a watched Application."""

    namespace: str
    name: str
    labels: Mapping[str, str]
    spec: Mapping[str, Any]
    finalizers: tuple[str, ...]
    deleting: bool
    sync: str | None
    health: str | None
    health_message: str | None
    revision: str | None
    operation_phase: str | None
    operation_message: str | None
    conditions: tuple[str, ...]


def app_from_body(body: Mapping[str, Any]) -> AppView:
    meta = body.get("metadata") or {}
    status = body.get("status") or {}
    operation = status.get("operationState") or {}
    return AppView(
        namespace=meta.get("namespace", ""),
        name=meta["name"],
        labels=dict(meta.get("labels") or {}),
        spec=dict(body.get("spec") or {}),
        finalizers=tuple(meta.get("finalizers") or ()),
        deleting=bool(meta.get("deletionTimestamp")),
        sync=(status.get("sync") or {}).get("status"),
        health=(status.get("health") or {}).get("status"),
        health_message=(status.get("health") or {}).get("message"),
        revision=(status.get("sync") or {}).get("revision"),
        operation_phase=operation.get("phase"),
        operation_message=operation.get("message"),
        conditions=tuple(
            f"{c.get('type')}: {c.get('message', '')}" for c in status.get("conditions") or []
        ),
    )


def entity_label(key: EntityKey) -> str:
    return f"{key.kind}.{key.namespace}.{key.name}"


def app_name(key: EntityKey) -> str:
    return f"{key.namespace}-{key.name}"[:253]


# Argo CD health -> Portico health. Suspended (a paused rollout or cron job) is Progressing:
# Kubernetes is not failing, but it is not done either.
HEALTH_MAP = {
    "Healthy": "Healthy",
    "Progressing": "Progressing",
    "Suspended": "Progressing",
    "Missing": "Missing",
    "Degraded": "Degraded",
    "Unknown": "Unknown",
}


def argocd_signal(app: AppView | None, expected: str) -> Signal:
    if app is None:
        return Signal("argocd", "Missing", f"Application {expected} does not exist")
    where = f"Application {app.namespace}/{app.name}"
    if app.operation_phase in ("Failed", "Error"):
        return Signal(
            "argocd",
            "Degraded",
            f"{where} sync {app.operation_phase.lower()}: {app.operation_message or ''}".rstrip(
                ": "
            ),
        )
    if app.health is None:
        return Signal("argocd", "Progressing", f"{where}: waiting for Argo CD to report health")
    status = HEALTH_MAP.get(app.health, "Unknown")
    text = f"{where} is {app.health}, {app.sync or 'Unknown'}"
    if app.health_message:
        text += f" ({app.health_message})"
    return Signal("argocd", status, text)


def argocd_status(app: AppView | None, expected: str) -> dict[str, Any]:
    """status.argocd of the Component."""
    if app is None:
        return {"application": expected, "sync": "Unknown"}
    out: dict[str, Any] = {
        "application": f"{app.namespace}/{app.name}",
        "sync": app.sync or "Unknown",
    }
    for field, value in (
        ("health", app.health),
        ("revision", app.revision),
        ("operationPhase", app.operation_phase),
    ):
        if value:
            out[field] = value
    message = app.operation_message if app.operation_phase in ("Failed", "Error") else None
    message = message or (app.conditions[0] if app.conditions else None)
    if message:
        out["message"] = message
    return out

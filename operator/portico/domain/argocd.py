"""Argo CD, observed: what Portico keeps of an Application, its health signal and the
Component's status.argocd, and the identities Portico gives Applications. What Portico
applies is decided in portico.domain.delivery.

Identities are deterministic (a retry or a restart finds the same Application and never
makes a second one) and injective (two Components never share one), because Applications
of every tenant share the one Argo CD namespace and Portico applies them with force:

- Application name: `<namespace>-<name>-<8 hex>`, the hex being sha256 of
  `<namespace>/<name>`. The readable part alone is not injective (`a/b-c` and `a-b/c` are
  both `a-b-c`); the hash tells them apart, and there is nothing to search for a
  collision: the names that share a readable part are the few splits of it at a dash,
  each in a namespace of its own. When that would
  exceed 63 characters (the Argo CD instance label's limit), the readable part is cut to
  46 and the hash is 16 hex: there the cut-off tail is free, so the hash must resist search.
  The two forms never meet: a long name ends in 16 hex digits, a short one has a dash
  among its last 16 characters.
- Ownership label `portico.dev/entity`: `<kind>.<namespace>.<name>.<8 hex>` (injective
  even without the hash: kinds and namespaces hold no dots), or, past 63 characters, a
  46-character prefix `.<16 hex>` (same argument). The full reference for people and for
  `observe_application` is the annotation `portico.dev/entity-ref` (`component:<ns>/<name>`).

Both are checked before Portico writes: an Application whose label is another entity's is
never applied over nor deleted (reconcilers.argocd).
"""

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from portico.domain.health import Signal
from portico.domain.refs import EntityKey

MANAGED_BY = "app.kubernetes.io/managed-by"
ENTITY_LABEL = "portico.dev/entity"
ENTITY_REF_ANNOTATION = "portico.dev/entity-ref"
LABEL_MAX = 63  # a label value, and the Application name Argo CD copies into one
APP_NAME_ANNOTATION = "argocd/app-name"
RESOURCES_FINALIZER = "resources-finalizer.argocd.argoproj.io"
API_VERSION = "argoproj.io/v1alpha1"


@dataclass(frozen=True)
class AppView:
    """What the operator keeps of a watched Application.

    `reconciled` is whether any Argo CD application-controller ever acted on it (it wrote
    status.reconciledAt, a sync or a health status), not the time it last did: that time
    moves on every refresh, and keeping it would wake the Component each time for nothing.
    """

    namespace: str
    name: str
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    spec: Mapping[str, Any]
    finalizers: tuple[str, ...]
    created_at: str | None  # metadata.creationTimestamp
    deleted_at: str | None  # metadata.deletionTimestamp: deletion was requested then
    reconciled: bool
    sync: str | None
    health: str | None
    health_message: str | None
    revision: str | None
    operation_phase: str | None
    operation_message: str | None
    conditions: tuple[str, ...]
    retry_count: int = 0  # status.operationState.retryCount
    failed_resources: tuple[str, ...] = ()  # the last attempt's refused resources, said

    @property
    def deleting(self) -> bool:
        return self.deleted_at is not None

    @property
    def ref(self) -> str:
        """`namespace/name`, as messages name it."""
        return f"{self.namespace}/{self.name}"


def app_from_body(body: Mapping[str, Any]) -> AppView:
    meta = body.get("metadata") or {}
    status = body.get("status") or {}
    operation = status.get("operationState") or {}
    sync = (status.get("sync") or {}).get("status")
    health = (status.get("health") or {}).get("status")
    return AppView(
        namespace=meta.get("namespace", ""),
        name=meta["name"],
        labels=dict(meta.get("labels") or {}),
        annotations={  # Portico's own only: the view stays small in kopf's index
            k: v for k, v in (meta.get("annotations") or {}).items() if k.startswith("portico.dev/")
        },
        spec=dict(body.get("spec") or {}),
        finalizers=tuple(meta.get("finalizers") or ()),
        created_at=meta.get("creationTimestamp") or None,
        deleted_at=meta.get("deletionTimestamp") or None,
        reconciled=bool(status.get("reconciledAt") or sync or health),
        sync=sync,
        health=health,
        health_message=(status.get("health") or {}).get("message"),
        revision=(status.get("sync") or {}).get("revision"),
        operation_phase=operation.get("phase"),
        operation_message=operation.get("message"),
        conditions=tuple(
            f"{c.get('type')}: {c.get('message', '')}" for c in status.get("conditions") or []
        ),
        retry_count=int(operation.get("retryCount") or 0),
        failed_resources=_failed_resources(operation),
    )


FAILED_SHOWN = 3  # refused resources named in a message; the rest are counted
RESOURCE_MESSAGE_MAX = 240


def _failed_resources(operation: Mapping[str, Any]) -> tuple[str, ...]:
    """`Kind ns/name: why` for each resource the last sync attempt failed to apply (a
    validation error, an AppProject refusal), as Argo CD's syncResult says."""
    failed = [
        r
        for r in (operation.get("syncResult") or {}).get("resources") or []
        if r.get("status") == "SyncFailed" or r.get("hookPhase") in ("Failed", "Error")
    ]
    said = []
    for r in failed[:FAILED_SHOWN]:
        where = "/".join(x for x in (r.get("namespace"), r.get("name")) if x)
        said.append(f"{r.get('kind', '?')} {where}: {r.get('message', '')}"[:RESOURCE_MESSAGE_MAX])
    if len(failed) > FAILED_SHOWN:
        said.append(f"{len(failed) - FAILED_SHOWN} more")
    return tuple(said)


def _failure_details(app: AppView) -> str:
    """Argo CD's operation message, then the refused resources it does not already name."""
    details = [app.operation_message or ""]
    details += [r for r in app.failed_resources if r not in details[0]]
    return "; ".join(d for d in details if d)


def sync_failure(app: AppView) -> tuple[str, str] | None:
    """(what went wrong with the last sync, Argo CD's details), or None.

    Argo CD retries a failed automated sync (5 times by default, backing off from 10 s):
    meanwhile the phase is Running with a retryCount, and the Application's own health
    still describes the old, running resources. A sync failing and being retried is still a
    failed sync, so it is said at once rather than after the last retry, minutes later.
    """
    phase = app.operation_phase
    if phase in ("Failed", "Error"):
        said = f"sync {phase.lower()}"
    elif phase == "Running" and app.retry_count > 0:
        said = f"sync failed, Argo CD retries (attempt #{app.retry_count})"
    else:
        return None
    return said, _failure_details(app)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _bounded(readable: str, ident: str, sep: str) -> str:
    """`<readable><sep><8 hex>` within LABEL_MAX, else `<46-char prefix><sep><16 hex>`.

    The result is a valid label value and DNS subdomain when `readable` is made of
    Kubernetes names: it starts and ends alphanumeric, and the prefix never ends in a dot,
    dash or underscore before the separator.
    """
    digest = _digest(ident)
    if len(readable) + 1 + 8 <= LABEL_MAX:
        return f"{readable}{sep}{digest[:8]}"
    prefix = readable[: LABEL_MAX - 1 - 16].rstrip("-._")
    return f"{prefix}{sep}{digest[:16]}"


def entity_label(key: EntityKey) -> str:
    """The value of `portico.dev/entity` on what Portico creates for `key` (module docstring)."""
    return _bounded(f"{key.kind}.{key.namespace}.{key.name}", str(key), ".")


def entity_ref(key: EntityKey) -> str:
    """The value of the `portico.dev/entity-ref` annotation: the full reference."""
    return str(key)


def app_name(key: EntityKey) -> str:
    """The Application's name for a Component (module docstring)."""
    return _bounded(f"{key.namespace}-{key.name}", f"{key.namespace}/{key.name}", "-")


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
    failure = sync_failure(app)
    if failure is not None:
        said, details = failure
        return Signal("argocd", "Degraded", f"{where} {said}: {details}".rstrip(": "))
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
    failure = sync_failure(app)
    message = failure[1] if failure else None
    message = message or (app.conditions[0] if app.conditions else None)
    if message:
        out["message"] = message
    return out

"""Argo CD delivery, decided: the desired Application, the guardrails, and the signal.

Application names are `<component namespace>-<component name>` in the configured Argo CD
namespace: deterministic, so a retry or a restart finds the same Application and never
makes a second one.
"""

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from portico.domain.health import Signal
from portico.domain.refs import EntityKey
from portico.domain.workloads import selector_from
from portico.models.component import ArgoCD, ComponentSpec
from portico.models.config import DEFAULT_RULE, IN_CLUSTER, GuardrailRule, OperatorConfig

MANAGED_BY = "app.kubernetes.io/managed-by"
ENTITY_LABEL = "portico.dev/entity"
APP_NAME_ANNOTATION = "argocd/app-name"
RESOURCES_FINALIZER = "resources-finalizer.argocd.argoproj.io"
API_VERSION = "argoproj.io/v1alpha1"


@dataclass(frozen=True)
class Refusal:
    """Why no Application is made: a condition reason and a message naming the field."""

    reason: str
    message: str


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


def effective_argocd(spec: ComponentSpec, template_defaults: ArgoCD | None) -> ArgoCD | None:
    """The Component's deploy.argocd over its Template's defaults (fields it leaves unset)."""
    own = spec.deploy.argocd if spec.deploy else None
    if own is None:
        return None
    if template_defaults is None:
        return own
    base = template_defaults.model_dump(exclude_none=True)
    return ArgoCD.model_validate({**base, **own.model_dump(exclude_unset=True, exclude_none=True)})


PROJECT_SLUG_ANNOTATION = "github.com/project-slug"


def repository_url(
    spec: ComponentSpec, status: Mapping[str, Any], annotations: Mapping[str, str] | None = None
) -> str | None:
    """The scaffolded repository, else spec.source, else Backstage's github.com/project-slug."""
    scaffolded = (status.get("repository") or {}).get("url")
    if scaffolded:
        return str(scaffolded)
    slug = (annotations or {}).get(PROJECT_SLUG_ANNOTATION, "").strip().strip("/")
    if not spec.source and slug.count("/") == 1:
        return f"https://github.com/{slug}.git"
    if spec.source and spec.source.github:
        return f"https://github.com/{spec.source.github.owner}/{spec.source.github.repo}.git"
    if spec.source and spec.source.git:
        return spec.source.git
    return None


def _rule_for(namespace: str, labels: Mapping[str, str], config: OperatorConfig) -> GuardrailRule:
    for rule in config.argocd.rules:
        if namespace in rule.namespaces:
            return rule
        if rule.namespace_selector and selector_from(rule.namespace_selector).matches(labels):
            return rule
    return DEFAULT_RULE


def check_guardrails(
    component_ns: str,
    ns_labels: Mapping[str, str],
    project: str,
    destination: Mapping[str, str],
    config: OperatorConfig,
) -> Refusal | None:
    """None when allowed; otherwise what the admin's rules say no to."""
    rule = _rule_for(component_ns, ns_labels, config)
    if project not in rule.projects:
        return Refusal(
            "ProjectNotAllowed",
            f"spec.deploy.argocd.project {project!r} is not allowed for namespace "
            f"{component_ns} (allowed: {', '.join(rule.projects)})",
        )
    dest_ns = destination.get("namespace", "")
    for allowed in rule.destinations:
        pattern = allowed.namespace.replace("$self", component_ns)
        if not fnmatch.fnmatchcase(dest_ns, pattern):
            continue
        if allowed.name is not None:
            if destination.get("name") == allowed.name:
                return None
            continue
        if destination.get("server", IN_CLUSTER) == (allowed.server or IN_CLUSTER) and (
            "name" not in destination
        ):
            return None
    where = destination.get("name") or destination.get("server", IN_CLUSTER)
    shown = ", ".join(
        f"{d.namespace.replace('$self', component_ns)}@{d.name or d.server or 'in-cluster'}"
        for d in rule.destinations
    )
    return Refusal(
        "DestinationNotAllowed",
        f"spec.deploy.argocd.destination namespace {dest_ns!r} on {where} is not allowed for "
        f"namespace {component_ns} (allowed: {shown})",
    )


def desired_application(
    key: EntityKey,
    spec: ComponentSpec,
    argocd: ArgoCD,
    repo_url: str | None,
    ns_labels: Mapping[str, str],
    config: OperatorConfig,
) -> dict[str, Any] | Refusal:
    """The Application to apply, or why there is none."""
    if repo_url is None:
        return Refusal(
            "NoRepository",
            "spec.deploy.argocd needs a repository: set spec.source or spec.scaffold",
        )
    dest = argocd.destination
    destination: dict[str, str] = {"namespace": (dest.namespace if dest else None) or key.namespace}
    if dest and dest.name:
        destination["name"] = dest.name
    else:
        destination["server"] = (dest.server if dest else None) or IN_CLUSTER
    refusal = check_guardrails(key.namespace, ns_labels, argocd.project, destination, config)
    if refusal is not None:
        return refusal
    policy = argocd.deletion_policy or "Delete"
    meta: dict[str, Any] = {
        "name": app_name(key),
        "namespace": config.argocd.namespace,
        "labels": {MANAGED_BY: "portico", ENTITY_LABEL: entity_label(key)},
        "annotations": {"portico.dev/deletion-policy": policy},
    }
    if policy == "Delete":
        meta["finalizers"] = [RESOURCES_FINALIZER]
    return {
        "apiVersion": API_VERSION,
        "kind": "Application",
        "metadata": meta,
        "spec": {
            "project": argocd.project,
            "source": {
                "repoURL": repo_url,
                "path": argocd.path or ".",
                "targetRevision": argocd.target_revision or "HEAD",
            },
            "destination": destination,
            "syncPolicy": {
                "automated": {"prune": True, "selfHeal": True},
                "syncOptions": ["CreateNamespace=true"],
            },
        },
    }


def needs_apply(desired: Mapping[str, Any], live: AppView | None) -> bool:
    """Compare only what Portico owns; Argo CD's own writes (status, operation) don't count."""
    if live is None:
        return True
    meta = desired["metadata"]
    if any(live.labels.get(k) != v for k, v in meta["labels"].items()):
        return True
    if set(meta.get("finalizers", [])) != set(live.finalizers) & {RESOURCES_FINALIZER}:
        return True
    return any(live.spec.get(k) != v for k, v in desired["spec"].items())


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

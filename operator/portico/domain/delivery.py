"""Argo CD delivery, decided: the Application to apply for a Component, and the AppProject
that confines a tenant namespace, both inside what `tenancy` in portico-config allows.

Argo CD enforces an AppProject on every manifest it syncs, not only on the Application: a
namespace's own project (portico-<namespace>) allows its destinations and no cluster-scoped
resources, so a ClusterRoleBinding or an object with `metadata.namespace: kube-system` in a
tenant's repository is refused by Argo CD itself. Portico checks the project, destination
and source of each Application before it applies anything.
"""

import fnmatch
import re
from collections.abc import Mapping
from typing import Any

from portico.domain.argocd import (
    API_VERSION,
    ENTITY_LABEL,
    ENTITY_REF_ANNOTATION,
    MANAGED_BY,
    RESOURCES_FINALIZER,
    AppView,
    app_name,
    entity_label,
    entity_ref,
)
from portico.domain.entity import EntityView
from portico.domain.refs import EntityKey
from portico.domain.templates import Entities, template_key, template_of, template_view
from portico.domain.tenancy import (
    Refusal,
    Tenant,
    managed_project_name,
    project_for,
    source_refusal,
)
from portico.models.component import ArgoCD, ComponentSpec
from portico.models.config import IN_CLUSTER, OperatorConfig

TENANT_LABEL = "portico.dev/tenant"
POLICY_ANNOTATION = "portico.dev/deletion-policy"

# Namespaced kinds a namespace editor cannot write with Kubernetes' `edit` role, so neither
# may Argo CD on their behalf: their own quota and limits, and RBAC inside the namespace.
NAMESPACE_BLACKLIST = (
    {"group": "", "kind": "ResourceQuota"},
    {"group": "", "kind": "LimitRange"},
    {"group": "rbac.authorization.k8s.io", "kind": "Role"},
    {"group": "rbac.authorization.k8s.io", "kind": "RoleBinding"},
)


# Argo CD's own retry of a failed automated sync (5 attempts, 5 s doubling to 3 min), with
# `refresh`: a retry syncs the branch's latest commit, so a fix pushed while Argo CD retries
# is deployed at the next attempt, not after the last one (about 2.5 minutes later).
def sync_retry() -> dict[str, Any]:
    return {
        "limit": 5,
        "backoff": {"duration": "5s", "factor": 2, "maxDuration": "3m"},
        "refresh": True,
    }


def effective_argocd(spec: ComponentSpec, template_defaults: ArgoCD | None) -> ArgoCD | None:
    """How a Component deploys through Argo CD, or None when it does not.

    - no `spec.deploy`: its Template's `defaults.deploy.argocd`, if it has one (a Component
      scaffolded from such a Template deploys without saying so);
    - `spec.deploy: {}` (deploy without argocd): not through Argo CD, whatever the Template says;
    - `spec.deploy.argocd`: its fields over the Template's defaults, field by field (the
      destination's fields too).
    """
    if spec.deploy is None:
        return template_defaults
    own = spec.deploy.argocd
    if own is None or template_defaults is None:
        return own
    merged = _overlay(
        template_defaults.model_dump(exclude_none=True),
        own.model_dump(exclude_unset=True, exclude_none=True),
    )
    return ArgoCD.model_validate(merged)


def _overlay(base: Mapping[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in top.items():
        below = out.get(key)
        if isinstance(value, Mapping) and isinstance(below, Mapping):
            out[key] = _overlay(below, value)
        else:
            out[key] = value
    return out


def template_defaults(view: EntityView, graph: Entities) -> ArgoCD | None:
    """The `defaults.deploy.argocd` of the Template the Component is scaffolded from."""
    template = template_of(view, graph)
    defaults = template.defaults if template is not None else None
    return defaults.deploy.argocd if defaults and defaults.deploy else None


def deploy_settings(view: EntityView, graph: Entities) -> ArgoCD | None:
    """`effective_argocd` of a Component in the catalog: every step and the cleanup ask this."""
    spec = view.spec
    if not isinstance(spec, ComponentSpec):
        return None
    return effective_argocd(spec, template_defaults(view, graph))


def defaults_unknown(view: EntityView, graph: Entities) -> bool:
    """Whether the deployment hangs on a Template that cannot be read: the Component sets no
    `spec.deploy` and names a Template that is missing (or does not parse). Its defaults may
    deploy it, so an Application made from them is neither changed nor deleted meanwhile."""
    spec = view.spec
    return (
        isinstance(spec, ComponentSpec)
        and spec.deploy is None
        and template_key(view) is not None
        and template_view(view, graph) is None
    )


def deletion_policy(settings: ArgoCD | None, app: AppView | None) -> str:
    """deletionPolicy in force: the effective settings', else the one the Application was
    applied with (its `portico.dev/deletion-policy` annotation), else Delete."""
    if settings is not None:
        return settings.deletion_policy or "Delete"
    applied = app.annotations.get(POLICY_ANNOTATION) if app is not None else None
    return applied if applied in ("Delete", "Orphan") else "Delete"


PROJECT_SLUG_ANNOTATION = "github.com/project-slug"
_GITHUB_REPOSITORY = re.compile(
    r"https://github\.com/([A-Za-z0-9][-A-Za-z0-9]*)/([A-Za-z0-9._-]+?)(?:\.git)?/?"
)


def github_repository(url: str) -> tuple[str, str] | None:
    """(owner, repo) of a https://github.com/<owner>/<repo>[.git] URL, else None (`.` and
    `..` are not repository names: in a request path they would leave the repository)."""
    found = _GITHUB_REPOSITORY.fullmatch(url)
    if found is None or found[2] in (".", ".."):
        return None
    return (found[1], found[2])


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


def destination_refusal(tenant: Tenant, destination: Mapping[str, str]) -> Refusal | None:
    """None when argocd.destinations allow it; otherwise what the policy says no to."""
    rules = tenant.policy.argocd.destinations
    dest_ns = destination.get("namespace", "")
    for allowed in rules:
        if not fnmatch.fnmatchcase(dest_ns, tenant.expand(allowed.namespace)):
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
        f"{tenant.expand(d.namespace)}@{d.name or d.server or 'in-cluster'}" for d in rules
    )
    return Refusal(
        "DestinationNotAllowed",
        f"spec.deploy.argocd.destination namespace {dest_ns!r} on {where} is not allowed for "
        f"namespace {tenant.namespace} by {tenant.source} (argocd.destinations: "
        f"{shown or 'none'})",
    )


def desired_application(
    key: EntityKey,
    argocd: ArgoCD,
    repo_url: str | None,
    scaffolded_url: str | None,
    tenant: Tenant,
    config: OperatorConfig,
) -> dict[str, Any] | Refusal:
    """The Application to apply, or why there is none."""
    if repo_url is None:
        return Refusal(
            "NoRepository",
            "deploying through Argo CD (spec.deploy.argocd, or the Template's "
            "defaults.deploy.argocd) needs a repository: set spec.source or spec.scaffold",
        )
    project = project_for(tenant, argocd.project)
    if isinstance(project, Refusal):
        return project
    dest = argocd.destination
    destination: dict[str, str] = {"namespace": (dest.namespace if dest else None) or key.namespace}
    if dest and dest.name:
        destination["name"] = dest.name
    else:
        destination["server"] = (dest.server if dest else None) or IN_CLUSTER
    refusal = destination_refusal(tenant, destination) or source_refusal(
        tenant, repo_url, scaffolded_url, allow_file=config.tenancy.allow_file_urls
    )
    if refusal is not None:
        return refusal
    policy = argocd.deletion_policy or "Delete"
    meta: dict[str, Any] = {
        "name": app_name(key),
        "namespace": config.argocd.namespace,
        "labels": {MANAGED_BY: "portico", ENTITY_LABEL: entity_label(key)},
        "annotations": {
            POLICY_ANNOTATION: policy,
            ENTITY_REF_ANNOTATION: entity_ref(key),
        },
    }
    if policy == "Delete":
        meta["finalizers"] = [RESOURCES_FINALIZER]
    sync_options = [] if destination["namespace"] == key.namespace else ["CreateNamespace=true"]
    return {
        "apiVersion": API_VERSION,
        "kind": "Application",
        "metadata": meta,
        "spec": {
            "project": project,
            "source": {
                "repoURL": repo_url,
                "path": argocd.path or ".",
                "targetRevision": argocd.target_revision or "HEAD",
            },
            "destination": destination,
            "syncPolicy": {
                "automated": {"prune": True, "selfHeal": True},
                "syncOptions": sync_options,
                "retry": sync_retry(),
            },
        },
    }


def desired_project(tenant: Tenant, config: OperatorConfig) -> dict[str, Any] | None:
    """Portico's AppProject for a tenant namespace, or None when the admin named projects.

    Its destinations are the namespace's allowed ones and nothing cluster-scoped is allowed.
    sourceRepos is `*` because Portico checks every Application's source against the
    policy before applying it, and only Portico creates Applications in this project.
    """
    if tenant.policy.argocd.projects:
        return None
    destinations = []
    for d in tenant.policy.argocd.destinations:
        entry = {"namespace": tenant.expand(d.namespace)}
        if d.name is not None:
            entry["name"] = d.name
        else:
            entry["server"] = d.server or IN_CLUSTER
        destinations.append(entry)
    return {
        "apiVersion": API_VERSION,
        "kind": "AppProject",
        "metadata": {
            "name": managed_project_name(tenant.namespace),
            "namespace": config.argocd.namespace,
            "labels": {MANAGED_BY: "portico", TENANT_LABEL: tenant.namespace},
        },
        "spec": {
            "description": f"Managed by Portico for namespace {tenant.namespace} "
            f"({tenant.source}): its own destinations, no cluster-scoped resources",
            "sourceRepos": ["*"],
            "destinations": destinations,
            "clusterResourceWhitelist": [],
            "namespaceResourceBlacklist": [dict(kind) for kind in NAMESPACE_BLACKLIST],
        },
    }


def needs_apply(desired: Mapping[str, Any], live: AppView | None) -> bool:
    """Compare only what Portico owns; Argo CD's own writes (status, operation) don't count."""
    if live is None:
        return True
    meta = desired["metadata"]
    if any(live.labels.get(k) != v for k, v in meta["labels"].items()):
        return True
    if any(live.annotations.get(k) != v for k, v in meta["annotations"].items()):
        return True
    if set(meta.get("finalizers", [])) != set(live.finalizers) & {RESOURCES_FINALIZER}:
        return True
    return any(live.spec.get(k) != v for k, v in desired["spec"].items())

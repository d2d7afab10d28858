"""Argo CD delivery, acted on: apply the desired Application, delete it on cleanup.

Decisions come from portico.domain.argocd; this module only talks to the API server.
Applications are server-side applied with the field manager `portico`, so Argo CD's own
writes to them (status, operation) never conflict, and nothing is sent when what Portico
owns already matches.
"""

import contextlib
import logging
from dataclasses import dataclass
from typing import Any, Protocol

from portico.clients.kube import KubeClient
from portico.domain.argocd import (
    ENTITY_LABEL,
    ENTITY_REF_ANNOTATION,
    MANAGED_BY,
    RESOURCES_FINALIZER,
    AppView,
    app_name,
    entity_label,
)
from portico.domain.conditions import DEPLOYED, cond
from portico.domain.delivery import (
    TENANT_LABEL,
    desired_application,
    desired_project,
    effective_argocd,
    needs_apply,
    repository_url,
)
from portico.domain.entity import EntityView
from portico.domain.refs import EntityKey
from portico.domain.templates import template_of
from portico.domain.tenancy import Refusal, tenant_for
from portico.errors import Conflict, ExternalError, NotFound, TransientError
from portico.models.component import ArgoCD, ComponentSpec
from portico.models.config import OperatorConfig
from portico.reconcilers.outcome import StepOutcome
from portico.reconcilers.steps import StepContext

log = logging.getLogger("portico.argocd")
FIELD_MANAGER = "portico"
GROUP, VERSION, PLURAL = "argoproj.io", "v1alpha1", "applications"
PROJECTS = "appprojects"


class DeployGraph(Protocol):
    def get(self, key: EntityKey) -> EntityView | None: ...

    def application(self, namespace: str, name: str) -> AppView | None: ...

    def namespace_labels(self, namespace: str) -> dict[str, str]: ...


@dataclass(frozen=True)
class DeployOutcome:
    condition: dict[str, Any]
    application: tuple[str, str] | None  # the Application to report on, if any
    retry_after: float | None = None  # refused by the API server: try again later


class StillDeleting(Exception):
    """Argo CD has not finished deleting the Application yet (raised to retry later)."""


def app_path(namespace: str, name: str) -> str:
    return f"/apis/{GROUP}/{VERSION}/namespaces/{namespace}/{PLURAL}/{name}"


def project_path(namespace: str, name: str) -> str:
    return f"/apis/{GROUP}/{VERSION}/namespaces/{namespace}/{PROJECTS}/{name}"


def template_defaults(view: EntityView, graph: DeployGraph) -> ArgoCD | None:
    template = template_of(view, graph)
    defaults = template.defaults if template is not None else None
    return defaults.deploy.argocd if defaults and defaults.deploy else None


CONFLICT_RETRY = 60.0  # seconds: the other owner's Application may go away


def ownership_conflict(live: AppView, key: EntityKey) -> dict[str, Any]:
    """Deployed=False for an Application at our name that carries another owner's label."""
    owner = live.labels.get(ENTITY_LABEL)
    ref = live.annotations.get(ENTITY_REF_ANNOTATION)
    if owner is None:
        whose = f"has no {ENTITY_LABEL} label (Portico did not make it)"
    else:
        whose = f"belongs to {ENTITY_LABEL}={owner}" + (f" ({ref})" if ref else "")
    return cond(
        DEPLOYED,
        False,
        "ApplicationConflict",
        f"Application {live.namespace}/{live.name} {whose}, not to {key} "
        f"({ENTITY_LABEL}={entity_label(key)}): Portico does not overwrite it; "
        "rename or delete that Application",
    )


class ArgoCDStep:
    """A Component's Argo CD Application (step `argocd`)."""

    name = "argocd"
    condition = DEPLOYED

    def __init__(self, kube: KubeClient) -> None:
        self._kube = kube
        self._installed = False
        self._applied: dict[tuple[str, str], dict[str, Any]] = {}
        self._projects: dict[tuple[str, str], dict[str, Any]] = {}

    def forget_installed(self) -> None:
        """Argo CD's CRD changed (installed, removed, reinstalled): what Portico applied may
        be gone with it, so nothing it remembers applying counts any more."""
        self._installed = False
        self._applied.clear()
        self._projects.clear()

    async def installed(self) -> bool:
        """Is Argo CD's Application CRD served? A 'yes' is remembered; a 'no' is asked again
        (the CRD's own watch events re-queue Components when Argo CD appears)."""
        if not self._installed:
            self._installed = await self._kube.resource_exists(GROUP, VERSION, PLURAL)
        return self._installed

    async def __call__(self, ctx: StepContext) -> StepOutcome | None:
        deploy = await self.run(ctx.view, ctx.graph, ctx.config)
        if deploy is None:
            return None
        return StepOutcome([deploy.condition], {}, deploy.retry_after, deploy.application)

    async def run(
        self, view: EntityView, graph: DeployGraph, config: OperatorConfig
    ) -> DeployOutcome | None:
        spec = view.spec
        if not isinstance(spec, ComponentSpec) or view.deleting:
            return None
        key = view.key
        namespace, name = config.argocd.namespace, app_name(key)
        argocd = effective_argocd(spec, template_defaults(view, graph))
        if argocd is None:
            await self._remove_unwanted(key, graph.application(namespace, name))
            return None
        tenant = tenant_for(key.namespace, graph.namespace_labels(key.namespace), config)
        plan = desired_application(
            key,
            argocd,
            repository_url(spec, view.status, view.annotations),
            (view.status.get("repository") or {}).get("url"),
            tenant,
            config,
        )
        if isinstance(plan, Refusal):
            return DeployOutcome(cond(DEPLOYED, False, plan.reason, plan.message), None)
        if not await self.installed():
            return DeployOutcome(
                cond(
                    DEPLOYED,
                    False,
                    "ArgoCDNotInstalled",
                    "Argo CD's Application CRD (applications.argoproj.io) is not installed: "
                    "install Argo CD, or remove spec.deploy.argocd",
                ),
                None,
            )
        project = desired_project(tenant, config)
        if project is not None:
            try:
                await self._ensure_project(project)
            except TransientError:
                raise  # the step runner reports it (Unknown) and retries
            except ExternalError as e:  # not ours, RBAC, or invalid (422): an admin must act
                return DeployOutcome(cond(DEPLOYED, False, "ProjectFailed", str(e)), None, 60.0)
        live = graph.application(namespace, name)
        if live is not None and live.labels.get(ENTITY_LABEL) != entity_label(key):
            return DeployOutcome(ownership_conflict(live, key), None, CONFLICT_RETRY)
        if live is not None and live.deleting:
            return DeployOutcome(
                cond(
                    DEPLOYED,
                    None,
                    "ApplicationDeleting",
                    f"Application {namespace}/{name} is being deleted; it is re-created after",
                ),
                (namespace, name),
            )
        if needs_apply(plan, live) and not (
            live is None and self._applied.get((namespace, name)) == plan
        ):
            try:
                await self._kube.apply(app_path(namespace, name), plan, field_manager=FIELD_MANAGER)
            except NotFound:
                self._installed = False
                return DeployOutcome(
                    cond(
                        DEPLOYED,
                        False,
                        "ArgoCDNotInstalled",
                        "applications.argoproj.io disappeared",
                    ),
                    None,
                )
            except TransientError:
                raise  # the step runner reports it (Unknown) and retries
            except ExternalError as e:  # 4xx, e.g. RBAC or the API server's validation (422):
                # this step's condition says so; the rest of the reconcile and its status go on
                return DeployOutcome(cond(DEPLOYED, False, "ApplyFailed", str(e)), None, 60.0)
            self._applied[(namespace, name)] = plan
            log.info("%s: applied Application %s/%s", key, namespace, name)
        return DeployOutcome(
            cond(
                DEPLOYED, True, "ApplicationApplied", f"Application {namespace}/{name} is applied"
            ),
            (namespace, name),
        )

    async def _ensure_project(self, project: dict[str, Any]) -> None:
        """Server-side apply Portico's AppProject for a namespace, once per content.

        An AppProject of that name that Portico did not make is never taken over.
        """
        meta = project["metadata"]
        ident = (meta["namespace"], meta["name"])
        if self._projects.get(ident) == project:
            return
        path = project_path(*ident)
        try:
            live = await self._kube.get(path)
        except NotFound:
            live = None
        if live is not None:
            labels = (live.get("metadata") or {}).get("labels") or {}
            if (
                labels.get(MANAGED_BY) != "portico"
                or labels.get(TENANT_LABEL) != meta["labels"][TENANT_LABEL]
            ):
                raise Conflict(
                    "argocd",
                    f"AppProject {ident[0]}/{ident[1]} exists and is not Portico's: rename or "
                    "delete it, or name an admin project for this namespace in portico-config "
                    "tenancy (argocd.projects)",
                )
        await self._kube.apply(path, project, field_manager=FIELD_MANAGER)
        self._projects[ident] = project
        log.info("applied AppProject %s/%s", *ident)

    async def _remove_unwanted(self, key: EntityKey, live: AppView | None) -> None:
        """spec.deploy.argocd was removed: the Application Portico made for it goes too."""
        if (
            live is not None
            and not live.deleting
            and live.labels.get(ENTITY_LABEL) == entity_label(key)
        ):
            log.info(
                "%s: spec.deploy.argocd removed; deleting Application %s/%s",
                key,
                live.namespace,
                live.name,
            )
            await self._delete(live.namespace, live.name)

    async def _delete(self, namespace: str, name: str) -> None:
        with contextlib.suppress(NotFound):
            await self._kube.delete(app_path(namespace, name), propagation="Background")

    async def cleanup(self, key: EntityKey, spec: ComponentSpec, config: OperatorConfig) -> None:
        """The Component is being deleted: delete its Application, honouring deletionPolicy.

        Returns when nothing is left to clean (including when Argo CD is not installed);
        raises StillDeleting while Argo CD is still pruning the deployed resources.
        """
        if not await self.installed():
            log.info("%s: Argo CD is not installed; no Application to delete", key)
            return
        namespace, name = config.argocd.namespace, app_name(key)
        path = app_path(namespace, name)
        try:
            app = await self._kube.get(path)
        except NotFound:
            return
        meta = app.get("metadata", {})
        if (meta.get("labels") or {}).get(ENTITY_LABEL) != entity_label(key):
            return  # not ours: never delete what Portico did not create
        finalizers = list(meta.get("finalizers") or [])
        argocd = spec.deploy.argocd if spec.deploy else None
        policy = (argocd.deletion_policy if argocd else None) or "Delete"
        if policy == "Orphan" and RESOURCES_FINALIZER in finalizers:
            # Orphan: drop Argo CD's cascade finalizer so the deployed resources stay.
            await self._kube.apply(
                path,
                {
                    "apiVersion": "argoproj.io/v1alpha1",
                    "kind": "Application",
                    "metadata": {"name": name, "namespace": namespace, "finalizers": []},
                },
                field_manager=FIELD_MANAGER,
            )
        if not meta.get("deletionTimestamp"):
            await self._delete(namespace, name)
        try:
            await self._kube.get(path)
        except NotFound:
            log.info("%s: Application %s/%s deleted", key, namespace, name)
            return
        raise StillDeleting(
            f"waiting for Argo CD to delete the resources of Application {namespace}/{name} "
            f"(deletionPolicy {policy})"
        )

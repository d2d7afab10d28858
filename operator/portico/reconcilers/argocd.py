"""Argo CD delivery, acted on: apply the desired Application, delete it when the Component
no longer deploys, and say what a Component being deleted waits for. The deletion itself
(handlers/cleanup.py) is in reconcilers/argocd_deletion.py.

Decisions come from portico.domain.delivery, portico.domain.argocd and
portico.domain.argocd_waits; this module only talks to the API server.
Applications are server-side applied with the field manager `portico`, so Argo CD's own
writes to them (status, operation) never conflict, and nothing is sent when what Portico
owns already matches.
"""

import contextlib
import logging
import socket
from dataclasses import dataclass
from typing import Any, Protocol

from portico.clients.kube import KubeClient
from portico.domain.argocd import (
    ENTITY_LABEL,
    ENTITY_REF_ANNOTATION,
    MANAGED_BY,
    AppView,
    app_name,
    entity_label,
)
from portico.domain.argocd_waits import deletion_wait, unreconciled
from portico.domain.conditions import DEPLOYED, cond
from portico.domain.delivery import (
    TENANT_LABEL,
    defaults_unknown,
    deletion_policy,
    deploy_settings,
    desired_application,
    desired_project,
    needs_apply,
    repository_url,
)
from portico.domain.entity import EntityView
from portico.domain.events import application_recreated_event
from portico.domain.refs import EntityKey
from portico.domain.templates import template_key
from portico.domain.tenancy import Refusal, tenant_for
from portico.errors import Conflict, ExternalError, NotFound, TransientError
from portico.models.component import ComponentSpec
from portico.models.config import OperatorConfig
from portico.reconcilers.events import post_event
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


def app_path(namespace: str, name: str) -> str:
    return f"/apis/{GROUP}/{VERSION}/namespaces/{namespace}/{PLURAL}/{name}"


def project_path(namespace: str, name: str) -> str:
    return f"/apis/{GROUP}/{VERSION}/namespaces/{namespace}/{PROJECTS}/{name}"


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
        self.instance = socket.gethostname()
        self._installed = False
        self._applied: dict[tuple[str, str], dict[str, Any]] = {}
        self._projects: dict[tuple[str, str], dict[str, Any]] = {}

    def forget_applied(self, namespace: str, name: str) -> None:
        """The Application was deleted (by hand, or by Argo CD): applying the same plan
        again is no longer a no-op."""
        self._applied.pop((namespace, name), None)

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
        deploy = await self.run(ctx.view, ctx.graph, ctx.config, ctx.now)
        if deploy is None:
            return None
        return StepOutcome([deploy.condition], {}, deploy.retry_after, deploy.application)

    async def run(
        self, view: EntityView, graph: DeployGraph, config: OperatorConfig, now: str
    ) -> DeployOutcome | None:
        spec = view.spec
        if not isinstance(spec, ComponentSpec):
            return None
        if view.deleting:
            return deleting(view, graph, config, now)
        key = view.key
        namespace, name = config.argocd.namespace, app_name(key)
        argocd = deploy_settings(view, graph)
        if argocd is None:
            live = graph.application(namespace, name)
            if defaults_unknown(view, graph):
                return template_unknown(view, live)
            await self._remove_unwanted(key, live)
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
                    "install Argo CD, or "
                    + (
                        "remove spec.deploy.argocd"
                        if spec.deploy is not None
                        else "opt out of the Template's defaults.deploy with spec.deploy: {}"
                    ),
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
        if live is not None and not ours(live, key):
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
        recorded = (view.status.get("argocd") or {}).get("application")
        recreating = live is None and recorded == f"{namespace}/{name}"
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
            if recreating:
                event = application_recreated_event(
                    key, view.uid, f"{namespace}/{name}", now=now, instance=self.instance
                )
                log.warning("%s: %s", key, event["note"])
                await post_event(self._kube, event, f"the recreation event of {key}")
        # Looked at again when no Argo CD controller has acted on it for a while, so that its
        # health signal says so (domain/argocd_waits.py) without waiting for another event.
        _, look_again = unreconciled(live, now, config.argocd.unresponsive_seconds)
        return DeployOutcome(
            cond(
                DEPLOYED, True, "ApplicationApplied", f"Application {namespace}/{name} is applied"
            ),
            (namespace, name),
            look_again,
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
        """The Component no longer deploys through Argo CD (spec.deploy.argocd removed, or
        `spec.deploy: {}` over its Template's defaults): the Application Portico made goes."""
        if live is not None and not live.deleting and ours(live, key):
            log.info(
                "%s: no longer deploys through Argo CD; deleting Application %s",
                key,
                live.ref,
            )
            await delete_application(self._kube, live.namespace, live.name)


def ours(live: AppView, key: EntityKey) -> bool:
    return live.labels.get(ENTITY_LABEL) == entity_label(key)


async def delete_application(kube: KubeClient, namespace: str, name: str) -> None:
    with contextlib.suppress(NotFound):
        await kube.delete(app_path(namespace, name), propagation="Background")


def deleting(
    view: EntityView, graph: DeployGraph, config: OperatorConfig, now: str
) -> DeployOutcome | None:
    """The Component is being deleted and its Application is still there: Deployed=False
    says what it waits for (handlers/cleanup.py deletes the Application and posts Events)."""
    namespace, name = config.argocd.namespace, app_name(view.key)
    live = graph.application(namespace, name)
    if live is None or not ours(live, view.key):
        return None
    policy = deletion_policy(deploy_settings(view, graph), live)
    wait = deletion_wait(live, policy, now, config.argocd.unresponsive_seconds)
    return DeployOutcome(
        cond(DEPLOYED, False, wait.reason, wait.message), (namespace, name), wait.look_again
    )


def template_unknown(view: EntityView, live: AppView | None) -> DeployOutcome | None:
    """The Template whose defaults may deploy this Component cannot be read: an Application
    Portico made from them is left as it is (never pruned for a Template being replaced)."""
    if live is None or not ours(live, view.key):
        return None
    return DeployOutcome(
        cond(
            DEPLOYED,
            None,
            "TemplateNotFound",
            f"{template_key(view)} cannot be read, and its defaults.deploy decide how this "
            f"Component deploys: Application {live.ref} is left as it is until it is back "
            "(set spec.deploy to decide here; spec.deploy: {} stops deploying)",
        ),
        (live.namespace, live.name),
        CONFLICT_RETRY,
    )

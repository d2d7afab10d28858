"""A deploying Component's deletion, acted on: delete its Application as deletionPolicy
says, and tell the cleanup handler what it waits for.

The policy comes from the same effective settings the step deploys with (the Component's
spec.deploy.argocd over its Template's defaults), else from the annotation the Application
was applied with. What to say while Argo CD prunes, and when to say Argo CD is not
responding, is decided in portico.domain.argocd_waits. Each wait is announced with an Event
once: this object remembers what it announced, per Component, for as long as the operator
runs (after a restart, a wait still going on is announced once more).
"""

import logging

from portico.clients.kube import KubeClient
from portico.domain.argocd import RESOURCES_FINALIZER, app_from_body, app_name
from portico.domain.argocd_waits import DeletionWait, deletion_wait
from portico.domain.delivery import deletion_policy, deploy_settings
from portico.domain.entity import EntityView
from portico.domain.events import entity_event
from portico.errors import NotFound
from portico.models.config import OperatorConfig
from portico.reconcilers.argocd import (
    FIELD_MANAGER,
    ArgoCDStep,
    DeployGraph,
    app_path,
    delete_application,
    ours,
)
from portico.reconcilers.events import post_event

log = logging.getLogger("portico.argocd")


class StillDeleting(Exception):
    """Argo CD has not removed the Application yet (raised so that the handler retries)."""

    def __init__(self, wait: DeletionWait) -> None:
        super().__init__(wait.message)
        self.wait = wait


class ApplicationDeletion:
    """Deletes a Component's Application on cleanup; remembers the waits announced."""

    def __init__(self, kube: KubeClient, step: ArgoCDStep) -> None:
        self._kube = kube
        self._step = step
        self._announced: dict[str, set[str]] = {}  # Component uid -> reasons announced

    def first_time(self, uid: str, reason: str) -> bool:
        """Is this the first time this Component's deletion waits for this reason?"""
        seen = self._announced.setdefault(uid, set())
        if reason in seen:
            return False
        seen.add(reason)
        return True

    async def announce(self, view: EntityView, wait: DeletionWait, now: str, instance: str) -> None:
        """An Event for the wait, the first time the deletion waits for its reason: Normal
        WaitingForArgoCD, then Warning ArgoCDNotResponding with the way out."""
        if not self.first_time(view.uid, wait.reason):
            return
        event = entity_event(
            view.key,
            view.uid,
            reason=wait.reason,
            note=wait.message,
            warning=wait.warning,
            action="Delete",
            now=now,
            instance=instance,
        )
        log.info("%s: %s", view.key, wait.message)
        await post_event(self._kube, event, f"the {wait.reason} event of {view.key}")

    def forget(self, uid: str) -> None:
        self._announced.pop(uid, None)

    async def cleanup(
        self, view: EntityView, graph: DeployGraph, config: OperatorConfig, now: str
    ) -> None:
        """Delete the Application, honouring deletionPolicy.

        Returns when nothing is left to clean (including when Argo CD is not installed);
        raises StillDeleting, with what to say, while the Application is still there.
        """
        key = view.key
        if not await self._step.installed():
            log.info("%s: Argo CD is not installed; no Application to delete", key)
            return
        namespace, name = config.argocd.namespace, app_name(key)
        path = app_path(namespace, name)
        try:
            app = app_from_body(await self._kube.get(path))
        except NotFound:
            self.forget(view.uid)
            return
        if not ours(app, key):
            return  # never delete what Portico did not create
        policy = deletion_policy(deploy_settings(view, graph), app)
        if policy == "Orphan" and RESOURCES_FINALIZER in app.finalizers:
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
        if not app.deleting:
            await delete_application(self._kube, namespace, name)
        try:
            still = app_from_body(await self._kube.get(path))
        except NotFound:
            log.info("%s: Application %s/%s deleted", key, namespace, name)
            self.forget(view.uid)
            return
        raise StillDeleting(deletion_wait(still, policy, now, config.argocd.unresponsive_seconds))

"""Argo CD: Argo CD's CRD (its events wake Portico's own Application watch, in
reconcilers/app_watch.py), and the Components an Application concerns."""

from typing import Any

import kopf

from portico.domain.argocd import APP_NAME_ANNOTATION, app_name
from portico.domain.refs import EntityKey
from portico.models.kinds import GROUP, VERSION
from portico.reconcilers.argocd import GROUP as ARGO_GROUP
from portico.reconcilers.argocd import PLURAL as ARGO_PLURAL


@kopf.index(GROUP, VERSION, "components")
async def app_watchers(body: kopf.Body, memo: Any, **_: Any) -> dict[str, EntityKey]:
    """Components an Application's events concern, by its name: the one Portico's name for
    the Component would give (so an Application of another owner at that name re-queues it
    when it changes or goes, ending an ApplicationConflict at once), and the one named with
    Backstage's argocd/app-name annotation."""
    view = memo.views.view_of(body)
    found = {app_name(view.key): view.key}
    named = view.annotations.get(APP_NAME_ANNOTATION)
    if named:
        found[named.rpartition("/")[2]] = view.key
    return found


@kopf.on.event(
    "apiextensions.k8s.io",
    "v1",
    "customresourcedefinitions",
    field="metadata.name",
    value=f"{ARGO_PLURAL}.{ARGO_GROUP}",
)
async def on_argocd_crd(*, memo: Any, **kwargs: Any) -> None:
    """Argo CD installed (or removed) while Portico runs: re-decide every Component now."""
    memo.engine.bind(kwargs)
    memo.engine.argocd.forget_installed()
    memo.engine.app_watch.wake()
    memo.engine.requeue("component")

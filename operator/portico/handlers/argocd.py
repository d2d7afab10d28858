"""Argo CD: Argo CD's CRD (its events wake Portico's own Application watch, in
reconcilers/app_watch.py). The Components an Application concerns are derived by the engine
(reconcilers/relations.py)."""

from typing import Any

import kopf

from portico.reconcilers.argocd import GROUP as ARGO_GROUP
from portico.reconcilers.argocd import PLURAL as ARGO_PLURAL


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

"""Argo CD: watch Applications (never polled), index namespaces' labels for the guardrails,
and clean up a Component's Application when the Component is deleted."""

from typing import Any

import kopf

from portico.domain.argocd import APP_NAME_ANNOTATION, AppView, app_from_body
from portico.domain.refs import EntityKey
from portico.errors import PorticoError, TransientError
from portico.handlers.views import view_of
from portico.models.component import ComponentSpec
from portico.models.kinds import GROUP, VERSION
from portico.reconcilers.argocd import GROUP as ARGO_GROUP
from portico.reconcilers.argocd import PLURAL as ARGO_PLURAL
from portico.reconcilers.argocd import VERSION as ARGO_VERSION
from portico.reconcilers.argocd import StillDeleting


@kopf.index(ARGO_GROUP, ARGO_VERSION, ARGO_PLURAL)
def applications(body: kopf.Body, **_: Any) -> dict[tuple[str, str], AppView]:
    app = app_from_body(body)
    return {(app.namespace, app.name): app}


@kopf.on.event(ARGO_GROUP, ARGO_VERSION, ARGO_PLURAL)
async def on_application(*, body: kopf.Body, memo: Any, **kwargs: Any) -> None:
    memo.engine.bind(kwargs)
    memo.engine.observe_application(app_from_body(body))


@kopf.index("", "v1", "namespaces")
def namespaces(name: str, labels: kopf.Labels, **_: Any) -> dict[str, dict[str, str]]:
    return {name: dict(labels)}


@kopf.index(GROUP, VERSION, "components")
def app_watchers(body: kopf.Body, **_: Any) -> dict[str, EntityKey]:
    """Components naming an Application with Backstage's argocd/app-name annotation."""
    view = view_of(body)
    named = view.annotations.get(APP_NAME_ANNOTATION)
    return {named.rpartition("/")[2]: view.key} if named else {}


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
    memo.engine.requeue("component")


def _needs_cleanup(spec: kopf.Spec, **_: Any) -> bool:
    """Only Components with something outside Kubernetes to clean up get a finalizer."""
    deploys = bool((spec.get("deploy") or {}).get("argocd"))
    archives = (spec.get("scaffold") or {}).get("deletionPolicy") == "Archive"
    dashboard = bool(((spec.get("observe") or {}).get("grafana") or {}).get("dashboard"))
    scaffolded = bool(spec.get("scaffold"))  # its Template may ask for a dashboard
    return deploys or archives or dashboard or scaffolded


@kopf.on.delete(GROUP, VERSION, "components", when=_needs_cleanup, id="cleanup")
async def cleanup_component(*, body: kopf.Body, memo: Any, **_: Any) -> None:
    """Delete the Component's Application and archive its repository if asked; the
    finalizer goes once nothing is left."""
    view = view_of(body)
    if not isinstance(view.spec, ComponentSpec):
        return
    try:
        if view.spec.scaffold and view.spec.scaffold.deletion_policy == "Archive":
            await memo.engine.scaffold.archive(view, memo.config.current)
        await memo.engine.dashboards.remove(view, memo.config.current)
        await memo.engine.argocd.cleanup(view.key, view.spec, memo.config.current)
    except StillDeleting as e:
        raise kopf.TemporaryError(str(e), delay=5) from e
    except TransientError as e:
        raise kopf.TemporaryError(str(e), delay=e.retry_after or 10) from e
    except PorticoError as e:
        raise kopf.TemporaryError(str(e), delay=30) from e

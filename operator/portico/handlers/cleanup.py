"""A Component's deletion: clean up what lives outside Kubernetes, then let it go.

Only Components with something to clean (an Argo CD Application, a repository to archive, a
Grafana dashboard) carry the finalizer portico.dev/cleanup; kopf removes it when the handler
succeeds, and retries (as a warning) while Argo CD is still pruning.
"""

from typing import Any

import kopf

from portico.errors import PorticoError, TransientError
from portico.handlers.views import view_of
from portico.models.component import ComponentSpec
from portico.models.kinds import GROUP, VERSION
from portico.reconcilers.argocd import StillDeleting


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

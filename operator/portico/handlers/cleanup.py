"""A Component's deletion: clean up what lives outside Kubernetes, then let it go.

Only Components with something to clean (an Argo CD Application, a repository to archive, a
Grafana dashboard) carry the finalizer portico.dev/cleanup. Every cleanup runs on each
attempt; while any of them fails (GitHub or Grafana down, a token missing) the finalizer
stays and kopf retries, and a Warning Event `CleanupPending` says what failed each time.
Waiting for Argo CD to prune is not a failure and is never given up: a Normal Event
`WaitingForArgoCD` names the Application when the wait starts, and a Warning Event
`ArgoCDNotResponding` gives the way out when it lasts longer than
`argocd.unresponsiveSeconds`, each once (docs/argocd.md). The Component's `Deployed`
condition says the same meanwhile. Other failures are given up after
CLEANUP_GIVE_UP_SECONDS, with a Warning Event that says what was left behind, so a broken
integration cannot keep a namespace from being deleted forever. Every Event skips a
namespace being deleted (reconcilers/events.py).
"""

import datetime
from collections.abc import Awaitable, Callable
from typing import Any

import kopf

from portico.domain.argocd_waits import DeletionWait
from portico.errors import PorticoError, TransientError
from portico.models.component import ComponentSpec
from portico.models.kinds import GROUP, VERSION
from portico.reconcilers.argocd_deletion import StillDeleting

CLEANUP_GIVE_UP_SECONDS = 3600.0
RETRY_SECONDS = 30.0


def _needs_cleanup(spec: kopf.Spec, **_: Any) -> bool:
    """Only Components with something outside Kubernetes to clean up get a finalizer."""
    deploys = bool((spec.get("deploy") or {}).get("argocd"))
    archives = (spec.get("scaffold") or {}).get("deletionPolicy") == "Archive"
    dashboard = bool(((spec.get("observe") or {}).get("grafana") or {}).get("dashboard"))
    scaffolded = bool(spec.get("scaffold"))  # its Template may ask for a dashboard
    return deploys or archives or dashboard or scaffolded


def _ours_to_clean(**kwargs: Any) -> bool:
    """Only the shard that owns the namespace adds the finalizer, cleans up and removes it;
    the others must not even match (kopf would take away a finalizer no handler wants, so
    each shard has its own: domain/sharding.py). A cleanup this shard began still finishes
    if the namespace moved to another shard meanwhile: the new owner cannot add its
    finalizer to an object being deleted."""
    if not _needs_cleanup(kwargs["spec"]):
        return False
    engine = kwargs["memo"].engine
    engine.bind(kwargs)  # kwargs carry kopf's live indexes, the namespaces' labels among them
    if engine.owns_namespace(kwargs["namespace"]):
        return True
    meta = kwargs["body"].get("metadata", {})
    deleting = meta.get("deletionTimestamp") is not None
    return deleting and engine.sharding.finalizer in (meta.get("finalizers") or [])


async def run_cleanups(
    cleanups: list[tuple[str, Callable[[], Awaitable[None]]]],
) -> tuple[list[str], float, DeletionWait | None]:
    """Run every cleanup; (what failed, the shortest retry, what Argo CD's pruning waits on)."""
    failures: list[str] = []
    delay = RETRY_SECONDS
    pruning: DeletionWait | None = None
    for what, cleanup in cleanups:
        try:
            await cleanup()
        except StillDeleting as e:
            failures.append(str(e))
            pruning = e.wait
            delay = min(delay, 5.0)
        except TransientError as e:
            failures.append(f"{what}: {e}")
            delay = min(delay, e.retry_after or 10.0)
        except PorticoError as e:
            failures.append(f"{what}: {e}")
    return failures, delay, pruning


@kopf.on.delete(GROUP, VERSION, "components", when=_ours_to_clean, id="cleanup")
async def cleanup_component(
    *, body: kopf.Body, memo: Any, started: datetime.datetime, **kwargs: Any
) -> None:
    """Delete the Component's Application, its dashboard, and archive its repository if
    asked; the finalizer goes once nothing is left, or when the cleanup is given up."""
    engine = memo.engine
    engine.bind(kwargs)  # kwargs carry kopf's live indexes: the Template's defaults decide too
    view = memo.views.view_of(body)
    spec = view.spec
    if not isinstance(spec, ComponentSpec):
        return
    config, at = memo.config.current, engine.now()
    cleanups: list[tuple[str, Callable[[], Awaitable[None]]]] = []
    if spec.scaffold and spec.scaffold.deletion_policy == "Archive":
        cleanups.append(("archive", lambda: engine.scaffold.archive(view, config)))
    cleanups.append(("dashboard", lambda: engine.dashboards.remove(view, config)))
    cleanups.append(
        ("argocd", lambda: engine.argocd_deletion.cleanup(view, engine.graph, config, at))
    )
    failures, delay, pruning = await run_cleanups(cleanups)
    if not failures:
        return
    if pruning is not None:
        await engine.argocd_deletion.announce(view, pruning, at, engine.instance)
    now = datetime.datetime.now(datetime.UTC)
    since = started if started.tzinfo else started.replace(tzinfo=datetime.UTC)
    if pruning is None and (now - since).total_seconds() > CLEANUP_GIVE_UP_SECONDS:
        note = f"gave up after {CLEANUP_GIVE_UP_SECONDS:.0f}s; left behind: " + "; ".join(failures)
        await engine.announce(view, reason="CleanupAbandoned", note=note, warning=True)
        return
    if pruning is None:
        await engine.announce(view, reason="CleanupPending", note="; ".join(failures), warning=True)
    raise kopf.TemporaryError("; ".join(failures), delay=delay)

"""A Component's deletion: clean up what lives outside Kubernetes, then let it go.

Only Components with something to clean (an Argo CD Application, a repository to archive, a
Grafana dashboard) carry the finalizer portico.dev/cleanup. Every cleanup runs on each
attempt; while any of them fails (GitHub or Grafana down, a token missing) the finalizer
stays and kopf retries, posting a Warning Event each time. Waiting for Argo CD to prune is
not a failure and is never given up. Other failures are given up after
CLEANUP_GIVE_UP_SECONDS, with a Warning Event that says what was left behind, so a broken
integration cannot keep a namespace from being deleted forever.
"""

import datetime
from collections.abc import Awaitable, Callable
from typing import Any

import kopf

from portico.errors import PorticoError, TransientError
from portico.models.component import ComponentSpec
from portico.models.kinds import GROUP, VERSION
from portico.reconcilers.argocd import StillDeleting

CLEANUP_GIVE_UP_SECONDS = 3600.0
RETRY_SECONDS = 30.0


def _needs_cleanup(spec: kopf.Spec, **_: Any) -> bool:
    """Only Components with something outside Kubernetes to clean up get a finalizer."""
    deploys = bool((spec.get("deploy") or {}).get("argocd"))
    archives = (spec.get("scaffold") or {}).get("deletionPolicy") == "Archive"
    dashboard = bool(((spec.get("observe") or {}).get("grafana") or {}).get("dashboard"))
    scaffolded = bool(spec.get("scaffold"))  # its Template may ask for a dashboard
    return deploys or archives or dashboard or scaffolded


async def run_cleanups(
    cleanups: list[tuple[str, Callable[[], Awaitable[None]]]],
) -> tuple[list[str], float, bool]:
    """Run every cleanup; (what failed, the shortest retry, whether Argo CD still prunes)."""
    failures: list[str] = []
    delay = RETRY_SECONDS
    pruning = False
    for what, cleanup in cleanups:
        try:
            await cleanup()
        except StillDeleting as e:
            failures.append(str(e))
            pruning = True
            delay = min(delay, 5.0)
        except TransientError as e:
            failures.append(f"{what}: {e}")
            delay = min(delay, e.retry_after or 10.0)
        except PorticoError as e:
            failures.append(f"{what}: {e}")
    return failures, delay, pruning


@kopf.on.delete(GROUP, VERSION, "components", when=_needs_cleanup, id="cleanup")
async def cleanup_component(
    *, body: kopf.Body, memo: Any, started: datetime.datetime, **_: Any
) -> None:
    """Delete the Component's Application, its dashboard, and archive its repository if
    asked; the finalizer goes once nothing is left, or when the cleanup is given up."""
    view = memo.views.view_of(body)
    spec = view.spec
    if not isinstance(spec, ComponentSpec):
        return
    config = memo.config.current
    cleanups: list[tuple[str, Callable[[], Awaitable[None]]]] = []
    if spec.scaffold and spec.scaffold.deletion_policy == "Archive":
        cleanups.append(("archive", lambda: memo.engine.scaffold.archive(view, config)))
    cleanups.append(("dashboard", lambda: memo.engine.dashboards.remove(view, config)))
    cleanups.append(("argocd", lambda: memo.engine.argocd.cleanup(view.key, spec, config)))
    failures, delay, pruning = await run_cleanups(cleanups)
    if not failures:
        return
    now = datetime.datetime.now(datetime.UTC)
    since = started if started.tzinfo else started.replace(tzinfo=datetime.UTC)
    if not pruning and (now - since).total_seconds() > CLEANUP_GIVE_UP_SECONDS:
        kopf.warn(
            body,
            reason="CleanupAbandoned",
            message=f"gave up after {CLEANUP_GIVE_UP_SECONDS:.0f}s; left behind: "
            + "; ".join(failures),
        )
        return
    if not pruning:
        kopf.warn(body, reason="CleanupPending", message="; ".join(failures))
    raise kopf.TemporaryError("; ".join(failures), delay=delay)

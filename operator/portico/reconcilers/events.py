"""Posting Kubernetes Events: a courtesy that never fails a reconcile or a cleanup.

A namespace being deleted takes no new Events (the API server answers 403 "being
terminated"); that is expected while its Components are cleaned up, so it is not a warning.
"""

import logging
from collections.abc import Mapping
from typing import Any

from portico.clients.kube import KubeClient
from portico.domain.entity import EntityView
from portico.domain.events import health_event
from portico.domain.refs import EntityKey
from portico.errors import PorticoError
from portico.metrics import HEALTH_TRANSITIONS
from portico.reconcilers.steps import StepContext

log = logging.getLogger("portico.events")


async def post_event(kube: KubeClient, event: Mapping[str, Any], what: str) -> bool:
    """Create the Event in its own namespace; False (logged) when the API server refused."""
    try:
        await kube.create_event(event["metadata"]["namespace"], event)
    except PorticoError as e:
        level = logging.DEBUG if "being terminated" in str(e) else logging.WARNING
        log.log(level, "could not post %s: %s", what, e)
        return False
    return True


async def announce_health(
    kube: KubeClient,
    view: EntityView,
    old: Mapping[str, Any] | None,
    new: Mapping[str, Any] | None,
    *,
    now: str,
    instance: str,
) -> None:
    """A Kubernetes Event on each health transition (not on the first health seen)."""
    if not old or not new or old.get("status") == new.get("status"):
        return
    event = health_event(
        view.key,
        view.uid,
        str(old.get("status")),
        str(new.get("status")),
        str(new.get("message", "")),
        now=now,
        instance=instance,
    )
    log.info("%s: %s", view.key, event["note"])
    HEALTH_TRANSITIONS.labels(view.key.kind, str(new.get("status"))).inc()
    await post_event(kube, event, f"the health event of {view.key}")


class HealthEvents:
    """A finisher (reconcilers/steps.py) that posts an Event on each health transition."""

    name = "health-events"
    fields: tuple[str, ...] = ()

    def __init__(self, kube: KubeClient, instance: str) -> None:
        self._kube = kube
        self._instance = instance

    def finish(self, ctx: StepContext, status: Mapping[str, Any]) -> dict[str, Any]:
        return {}

    async def written(
        self, ctx: StepContext, before: Mapping[str, Any], after: Mapping[str, Any]
    ) -> None:
        await announce_health(
            self._kube,
            ctx.view,
            before.get("health"),
            after.get("health"),
            now=ctx.now,
            instance=self._instance,
        )

    def forget(self, key: EntityKey) -> None:
        pass

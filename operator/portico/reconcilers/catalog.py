"""The catalog engine: watch events in, minimal status patches out.

kopf feeds `observe()` with every event after its indexes (entities and reverse edges) are
up to date. `observe` decides which entities could now have a different status: the entity
itself, and — only when its existence, edges or health changed — its neighbours. Workers take
keys from a de-duplicating queue, compute the desired status from the in-memory graph (no
GET, no LIST) and patch `/status` only when the owned part differs.

After a patch, the watch may lag behind our own write; `_written` remembers what we wrote
on top of which resourceVersion, so a reconcile in that gap compares against our write and
does not write the same thing twice.
"""

import asyncio
import dataclasses
import logging
import socket
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from portico.clients.kube import KubeClient
from portico.domain.entity import EntityView
from portico.domain.events import health_event
from portico.domain.refs import EntityKey
from portico.domain.relations import Edge
from portico.domain.status import OWNED, desired_status, status_patch
from portico.domain.workloads import WorkloadView
from portico.errors import NotFound, PorticoError, TransientError
from portico.metrics import HEALTH_TRANSITIONS, RECONCILE_SECONDS, RECONCILES, STATUS_WRITES
from portico.models.kinds import GROUP, VERSION, kind_info
from portico.reconcilers.queue import WorkQueue

log = logging.getLogger("portico.catalog")

ROLLUP_DELAY = 0.05  # seconds


def utcnow() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class IndexGraph:
    """The catalog graph over kopf-style indexes: key -> iterable of values."""

    def __init__(
        self,
        entities: Mapping[Any, Iterable[EntityView]],
        edges: Mapping[Any, Iterable[tuple[Edge, ...]]],
        workloads: Mapping[Any, Iterable[WorkloadView]] | None = None,
        watchers: Mapping[Any, Iterable[EntityKey]] | None = None,
    ) -> None:
        self._entities = entities
        self._edges = edges
        self._workloads = workloads if workloads is not None else {}
        self._watchers = watchers if watchers is not None else {}

    def workloads(self, namespace: str) -> list[WorkloadView]:
        store = self._workloads.get(namespace)
        return list(store) if store else []

    def watchers(self, namespace: str) -> list[EntityView]:
        """Components whose workloads live in `namespace`."""
        store = self._watchers.get(namespace)
        views = (self.get(key) for key in store) if store else ()
        return [v for v in views if v is not None and v.kubernetes is not None]

    def get(self, key: EntityKey) -> EntityView | None:
        store = self._entities.get(key)
        return next(iter(store), None) if store else None

    def incoming(self, key: EntityKey) -> list[Edge]:
        store = self._edges.get(key)
        return [edge for group in store for edge in group] if store else []


class CatalogEngine:
    def __init__(
        self, kube: KubeClient, *, workers: int = 4, clock: Callable[[], str] = utcnow
    ) -> None:
        self._kube = kube
        self._workers = workers
        self._clock = clock
        self.queue: WorkQueue[EntityKey] = WorkQueue()
        self.graph: IndexGraph | None = None
        self._seen: dict[EntityKey, tuple[Any, ...]] = {}
        self._written: dict[EntityKey, tuple[str, dict[str, Any]]] = {}
        self._workloads_seen: dict[tuple[str, str, str], WorkloadView] = {}
        self.instance = socket.gethostname()
        self._tasks: list[asyncio.Task[None]] = []
        self.writes = 0

    # --- events -------------------------------------------------------------------
    def bind(self, indexes: Mapping[str, Any]) -> None:
        """Attach kopf's live indexes by name (the same objects on every call)."""
        if self.graph is None:
            self.graph = IndexGraph(
                indexes["entities"],
                indexes["edges"],
                indexes.get("workloads"),
                indexes.get("watchers"),
            )

    def observe_workload(self, workload: WorkloadView, *, deleted: bool) -> None:
        """Queue the Components that select this workload now, or selected it before."""
        ident = (workload.kind, workload.namespace, workload.name)
        before = self._workloads_seen.get(ident)
        if deleted:
            self._workloads_seen.pop(ident, None)
        else:
            if before == workload:
                return
            self._workloads_seen[ident] = workload
        if self.graph is None:
            return
        for view in self.graph.watchers(workload.namespace):
            assert view.kubernetes is not None
            selector = view.kubernetes.selector
            if selector.matches(workload.labels) or (
                before is not None and selector.matches(before.labels)
            ):
                self.queue.add(view.key)

    def observe(self, view: EntityView, *, deleted: bool) -> None:
        """Queue whatever this event may have changed."""
        key = view.key
        before = self._seen.get(key)
        if deleted:
            self._seen.pop(key, None)
            self._written.pop(key, None)
            self._queue_targets(view.edges)
            self._queue_sources(key)
            return
        self.queue.add(key)
        after = view.neighbourhood()
        if before == after:
            return
        self._seen[key] = after
        if before is None:
            self._queue_sources(key)  # entities that waited for this one
        else:
            self._queue_targets(before[0])
        self._queue_targets(view.edges)

    def _queue_targets(self, edges: Iterable[Edge]) -> None:
        """Roll-ups (Systems, APIs, Templates) wait a moment, so that a burst of member
        changes becomes one status write instead of one per member."""
        for edge in edges:
            if edge.target.served:
                self.queue.add_after(edge.target, ROLLUP_DELAY)

    def _queue_sources(self, key: EntityKey) -> None:
        if self.graph is not None:
            for edge in self.graph.incoming(key):
                self.queue.add(edge.source)

    # --- workers ------------------------------------------------------------------
    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._work(), name=f"portico-worker-{i}")
            for i in range(self._workers)
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    async def _work(self) -> None:
        while True:
            key = await self.queue.get()
            result = "error"
            try:
                with RECONCILE_SECONDS.labels(key.kind).time():
                    await self.reconcile(key)
                self.queue.forget(key)
                result = "success"
            except TransientError as e:
                delay = self.queue.retry(key, e.retry_after)
                log.warning("%s: %s; retrying in %.1fs", key, e, delay)
            except PorticoError as e:
                delay = self.queue.retry(key)
                log.error("%s: %s; retrying in %.1fs", key, e, delay)
            except Exception:
                delay = self.queue.retry(key)
                log.exception("%s: unexpected error; retrying in %.1fs", key, delay)
            finally:
                RECONCILES.labels(key.kind, result).inc()
                self.queue.done(key)

    def _current(self, view: EntityView) -> Mapping[str, Any]:
        written = self._written.get(view.key)
        if written is not None:
            based_on, status = written
            if view.resource_version == based_on:
                return status  # the watch has not caught up with our own write yet
            del self._written[view.key]
        return view.status

    async def reconcile(self, key: EntityKey) -> None:
        if self.graph is None:
            return
        view = self.graph.get(key)
        if view is None:
            return
        current = self._current(view)
        desired = desired_status(
            dataclasses.replace(view, status=current), self.graph, now=self._clock()
        )
        patch = status_patch(current, desired, OWNED[key.kind])
        if patch is None:
            return
        info = kind_info(key.kind)
        try:
            await self._kube.patch_status(
                GROUP, VERSION, info.plural, key.namespace, key.name, patch
            )
        except NotFound:
            return  # deleted meanwhile; its DELETED event cleans up
        self.writes += 1
        STATUS_WRITES.labels(key.kind).inc()
        merged = {**current, **{k: desired[k] for k in patch if desired.get(k) is not None}}
        for k, v in patch.items():
            if v is None:
                merged.pop(k, None)
        self._written[key] = (view.resource_version, merged)
        log.debug("%s: status patched (%s)", key, ", ".join(sorted(patch)))
        await self._announce_health(view, current.get("health"), desired.get("health"))

    async def _announce_health(
        self, view: EntityView, old: Mapping[str, Any] | None, new: Mapping[str, Any] | None
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
            now=self._clock(),
            instance=self.instance,
        )
        log.info("%s: %s", view.key, event["note"])
        HEALTH_TRANSITIONS.labels(view.key.kind, str(new.get("status"))).inc()
        try:
            await self._kube.create_event(view.key.namespace, event)
        except PorticoError as e:  # an event is a courtesy; never fail the reconcile for it
            level = logging.DEBUG if "being terminated" in str(e) else logging.WARNING
            log.log(level, "%s: could not post the health event: %s", view.key, e)

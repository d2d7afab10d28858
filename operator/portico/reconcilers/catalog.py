"""The catalog engine: watch events in, minimal status patches out.

kopf feeds `observe()` with every event after its index of entities is up to date (the
engine derives the reverse relations: relations.py). `observe` decides which entities could
now have a different status: the entity itself, and — only when its existence, edges or
health changed — its neighbours. Workers take keys from a de-duplicating queue, compute the
desired status from the in-memory graph (no GET, no LIST) and patch `/status` only when the
owned part differs.

After a patch, the watch may lag behind our own write; `own_writes.OwnWrites` remembers what
we wrote, so a reconcile in that gap does not write the same thing twice, and the watch event
of our own write (its echo) queues nothing when nothing else changed.
"""

import asyncio
import dataclasses
import logging
import socket
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from portico.clients.kube import KubeClient
from portico.clients.sandbox import Renderers
from portico.domain.entity import EntityView
from portico.domain.events import entity_event
from portico.domain.refs import EntityKey
from portico.domain.relations import Edge
from portico.domain.sharding import Sharding
from portico.domain.status import desired_status
from portico.errors import PorticoError, TransientError
from portico.metrics import RECONCILE_SECONDS, RECONCILES
from portico.models.config import OperatorConfig
from portico.reconcilers.alerts import AlertPoller
from portico.reconcilers.app_watch import ApplicationWatch
from portico.reconcilers.argocd import ArgoCDStep
from portico.reconcilers.argocd_deletion import ApplicationDeletion
from portico.reconcilers.arrivals import ArrivalRate
from portico.reconcilers.ci_step import CIStep
from portico.reconcilers.dashboard_search import DashboardSearch
from portico.reconcilers.dashboards import DashboardStep
from portico.reconcilers.debounce import Debouncer
from portico.reconcilers.events import HealthEvents, post_event
from portico.reconcilers.github_access import GitHubAccess
from portico.reconcilers.github_poll import GitHubPoller
from portico.reconcilers.graph import IndexGraph
from portico.reconcilers.links import LinksStep
from portico.reconcilers.outside_events import OutsideEvents
from portico.reconcilers.queue import WorkQueue
from portico.reconcilers.scaffold import ScaffoldStep
from portico.reconcilers.scorecard import ScorecardFinisher
from portico.reconcilers.secrets import read_token
from portico.reconcilers.skeletons import SkeletonSource
from portico.reconcilers.status_writer import StatusWriter
from portico.reconcilers.steps import Finisher, Step, StepContext, finish, run_steps
from portico.reconcilers.template_check import TemplateCheckStep
from portico.reconcilers.upgrade import UpgradeStep

log = logging.getLogger("portico.catalog")

# Roll-ups (Systems, APIs, Templates) are written once their members have been quiet for
# ROLLUP_QUIET, at the latest after a bound that grows while a burst lasts (debounce.py): a
# burst of creates otherwise rewrites every System once per member, or once per window (the
# benchmark measured 7-8 writes per System with fixed windows of 0.05 and 0.25 s).
ROLLUP_QUIET = 0.25  # seconds
ROLLUP_FIRST_BOUND = 1.0
ROLLUP_LONGEST_BOUND = 8.0
# While a catalog is imported (at least IMPORT_RATE new entities a second over the last
# IMPORT_WINDOW seconds: arrivals.py), roll-ups are held and written once it is over, at
# the latest IMPORT_HOLD_LIMIT seconds after their first change.
IMPORT_RATE = 10.0
IMPORT_WINDOW = 2.0
IMPORT_HOLD_LIMIT = 120.0
ROLLUP_KINDS = frozenset({"system", "api", "template"})
APPS_SYNC_SECONDS = 15.0  # at most this long at start for the first list of Applications


def _loop_time() -> float:
    return asyncio.get_running_loop().time()


def utcnow() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class CatalogEngine(OutsideEvents):
    def __init__(
        self,
        kube: KubeClient,
        *,
        workers: int = 4,
        clock: Callable[[], str] = utcnow,
        config: Callable[[], OperatorConfig] = OperatorConfig,
        config_namespace: str = "portico-system",
        sharding: Sharding | None = None,
    ) -> None:
        self._kube = kube
        self.sharding = sharding or Sharding()
        self._config = config
        self.renderers = Renderers()
        skeletons = SkeletonSource(kube)
        self.argocd = ArgoCDStep(kube)
        self.argocd_deletion = ApplicationDeletion(kube, self.argocd)
        self.app_watch = ApplicationWatch(kube, self._application_changed)
        github = GitHubAccess(kube, config_namespace)
        self.scaffold = ScaffoldStep(kube, github, skeletons, self.renderers)
        self.upgrades = UpgradeStep(github, skeletons, self.renderers)
        self.templates = TemplateCheckStep(skeletons, self.renderers)
        self.dashboards = DashboardStep(kube, config_namespace, self.renderers)
        self.dashboard_search = DashboardSearch(
            config,
            lambda secret: read_token(kube, config_namespace, secret),
            self.owned_components,
            self.queue_add,
        )
        links = LinksStep(self.dashboard_search)
        self.github_poll = GitHubPoller(
            config,
            github,
            self.owned_components,
            self.queue_add,
            namespace_labels=lambda ns: self.graph.namespace_labels(ns) if self.graph else {},
        )
        ci = CIStep(self.github_poll)  # after scaffold: it reads status.repository
        self.instance = socket.gethostname()
        # Steps as data: what each kind's reconcile does, in order, and what is decided on
        # the status it computed, before and after it is written (reconcilers/steps.py).
        self.steps: dict[str, tuple[Step, ...]] = {
            "component": (self.scaffold, ci, self.upgrades, self.dashboards, self.argocd, links),
            "template": (self.templates,),
        }
        self.scorecards = ScorecardFinisher(kube, self.instance)
        every: tuple[Finisher, ...] = (self.scorecards, HealthEvents(kube, self.instance))
        self.finishers = {kind: every for kind in ("component", "api", "system", "template")}
        self.alerts: AlertPoller | None = None
        self._workers = workers
        self._clock = clock
        # A shard indexes everything but queues only what it owns: every write (status,
        # Events, Applications, dashboards, repositories) happens in a reconcile.
        self.queue: WorkQueue[EntityKey] = WorkQueue(accept=self.owns)
        self.arrivals = ArrivalRate(rate=IMPORT_RATE, window=IMPORT_WINDOW, clock=_loop_time)
        self.rollups: Debouncer[EntityKey] = Debouncer(
            self.queue.add,
            quiet=ROLLUP_QUIET,
            first=ROLLUP_FIRST_BOUND,
            longest=ROLLUP_LONGEST_BOUND,
            hold=self.arrivals.importing,
            hold_limit=IMPORT_HOLD_LIMIT,
        )
        self.graph: IndexGraph | None = None
        self._seen: dict[EntityKey, tuple[Any, ...]] = {}
        self.status = StatusWriter(kube)
        self._written = self.status.own
        self._namespaces_seen: dict[str, dict[str, str]] = {}
        self._tasks: list[asyncio.Task[None]] = []

    def now(self) -> str:
        """The engine's clock: every decision about elapsed time reads it."""
        return self._clock()

    async def announce(self, view: EntityView, *, reason: str, note: str, warning: bool) -> None:
        """A Kubernetes Event about the entity's deletion; never fails the cleanup (a
        namespace being deleted takes no new Events, and that is expected)."""
        event = entity_event(
            view.key,
            view.uid,
            reason=reason,
            note=note,
            warning=warning,
            action="Delete",
            now=self._clock(),
            instance=self.instance,
        )
        await post_event(self._kube, event, f"the {reason} event of {view.key}")

    def owns_namespace(self, namespace: str) -> bool:
        """Is this shard the one that writes in `namespace`? (domain/sharding.py)"""
        if not self.sharding.enabled:
            return True
        labels = self.graph.namespace_labels(namespace) if self.graph is not None else {}
        return self.sharding.owns(namespace, labels)

    def owns(self, key: EntityKey) -> bool:
        return self.owns_namespace(key.namespace)

    def queue_add(self, key: EntityKey) -> None:
        self.queue.add(key)

    def owned_components(self) -> Iterator[EntityView]:
        """The Components this shard writes (what the pollers read external systems for)."""
        if self.graph is not None:
            for key in self.graph.keys("component"):
                view = self.graph.get(key) if self.owns(key) else None
                if view is not None:
                    yield view

    # --- events -------------------------------------------------------------------
    def bind(self, indexes: Mapping[str, Any]) -> None:
        """Attach kopf's live indexes by name (the same objects on every call).

        kopf calls no event handler before every index is complete, so the first call sees
        the whole catalog: the reverse relations are built from it once, then kept up to
        date by `observe` (reconcilers/relations.py)."""
        if self.graph is None:
            self.graph = IndexGraph(indexes, self.app_watch.get)
            self.graph.relations.load(self.graph.views())
            self.graph.workload_index.load(self.graph.indexed_workloads())

    def observe(self, view: EntityView, *, deleted: bool) -> None:
        """Queue whatever this event may have changed."""
        key = view.key
        before = self._seen.get(key)
        if self.graph is not None:
            if deleted:
                self.graph.relations.remove(key)
            else:
                self.graph.relations.update(view)
        if deleted:
            self._seen.pop(key, None)
            self._written.forget(key)
            for finisher in self.finishers.get(key.kind, ()):
                finisher.forget(key)
            self.rollups.forget(key)
            self.templates.forget(view.uid)
            self.dashboards.forget(key)
            self.argocd_deletion.forget(view.uid)
            self._queue_targets(view.edges)
            self._queue_sources(key)
            return
        decided = "observedGeneration" in view.status
        if before is None and not decided:
            self.arrivals.arrived()  # never decided: created (or applied while we were down)
            if key.kind in ROLLUP_KINDS:
                self.rollups.touch(key)  # after a quiet moment; in an import, once it is over
            else:
                self.queue.add(key)
        elif not self._written.echo(view):
            self.queue.add(key)  # (our own write's echo is not: its neighbours may be)
        after = view.neighbourhood()
        if before == after:
            return
        self._seen[key] = after
        if before is None:
            self._queue_sources(key)  # entities that waited for this one
            if decided:
                # A restart's listing: its targets are listed too, and each one's own event
                # decides it on the complete index. Touching them here only kept every
                # roll-up of a restarted catalog waiting out a burst (up to 10 s of CPU
                # after the restart was done).
                return
        else:
            self._queue_targets(before[0])
            if key.kind == "template" and before[-1] != after[-1]:
                self._queue_sources(key)  # a new version to roll out, or one that may now
        self._queue_targets(view.edges)

    def _queue_targets(self, edges: Iterable[Edge]) -> None:
        """Roll-ups (Systems, APIs, Templates) wait for their members to be quiet, so that
        a burst of member changes becomes a few status writes, not one per member."""
        for edge in edges:
            if edge.target.served and self.owns(edge.target):
                self.rollups.touch(edge.target)

    def _queue_sources(self, key: EntityKey) -> None:
        if self.graph is not None:
            for edge in self.graph.incoming(key):
                self.queue.add(edge.source)

    # --- workers ------------------------------------------------------------------
    def start(self) -> None:
        self.app_watch.start()
        self.dashboard_search.start()
        self.github_poll.start()
        self._tasks = [
            asyncio.create_task(self._work(), name=f"portico-worker-{i}")
            for i in range(self._workers)
        ]

    async def stop(self) -> None:
        await self.app_watch.stop()
        await self.dashboard_search.stop()
        await self.github_poll.stop()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    async def _work(self) -> None:
        # Like kopf's index gate: no decision before Argo CD's Applications are known (a
        # restart would otherwise report each one Missing, then write it back).
        if not await self.app_watch.wait_synced(APPS_SYNC_SECONDS):
            log.warning("Argo CD Applications not listed after %.0fs; going on", APPS_SYNC_SECONDS)
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

    async def reconcile(self, key: EntityKey) -> None:
        if self.graph is None:
            return
        view = self.graph.get(key)
        if view is None or not self.owns(key):
            for finisher in self.finishers.get(key.kind, ()):
                finisher.forget(key)  # another shard counts it now
            return  # gone, or its namespace moved to another shard while it waited
        if self._written.defer_stale(view):
            return  # a stale view (older than our own last write): a newer event follows
        current = self._written.current(view)
        view = dataclasses.replace(view, status=current)  # the steps see our own last write
        ctx = StepContext(view, self.graph, self._config(), self._clock())
        done = await run_steps(self.steps.get(key.kind, ()), ctx)
        if done.retry_after:
            self.queue.add_after(key, done.retry_after)
        ctx = dataclasses.replace(ctx, view=done.view or view)
        desired = desired_status(
            ctx.view,
            self.graph,
            now=ctx.now,
            config=ctx.config,
            conditions=done.conditions,
            fields=done.fields,
            deployed_app=done.application,
            signals=done.signals,
            alerts=self.alerts.snapshot() if self.alerts is not None else None,
        )
        finishers = self.finishers.get(key.kind, ())
        desired = finish(finishers, ctx, desired)
        if await self.status.write(ctx.view, current, desired):
            for finisher in finishers:
                await finisher.written(ctx, current, desired)

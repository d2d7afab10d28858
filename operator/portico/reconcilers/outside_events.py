"""What the engine hears from outside the catalog: Argo CD Applications, workloads and
namespaces (their watches call these), and requeues after a poll or a configuration change.
Each queues only the entities the event may have changed."""

from collections.abc import Mapping

from portico.domain.argocd import ENTITY_LABEL, ENTITY_REF_ANNOTATION, AppView, entity_label
from portico.domain.refs import EntityKey
from portico.domain.workloads import WorkloadView
from portico.reconcilers.argocd import ArgoCDStep
from portico.reconcilers.graph import IndexGraph
from portico.reconcilers.queue import WorkQueue
from portico.reconcilers.workload_index import ident


class OutsideEvents:
    """A part of CatalogEngine (reconcilers/catalog.py), kept apart for size."""

    argocd: ArgoCDStep
    graph: IndexGraph | None
    queue: WorkQueue[EntityKey]
    _namespaces_seen: dict[str, dict[str, str]]

    def _queue_sources(self, key: EntityKey) -> None:
        raise NotImplementedError

    def _application_changed(self, before: AppView | None, after: AppView | None) -> None:
        if before is not None and after is None:  # deleted: the next apply is not a no-op
            self.argocd.forget_applied(before.namespace, before.name)
        for app in (before, after):
            if app is not None:
                self.observe_application(app)

    def observe_application(self, app: AppView) -> None:
        """Queue the Component an Application belongs to, and those that name it with
        Backstage's argocd/app-name annotation.

        The owner is read from Portico's `portico.dev/entity-ref` annotation (the label is
        a bounded hash), and only believed when the label agrees with it: O(1), and an
        Application carrying someone else's reference queues nobody.
        """
        ref = app.annotations.get(ENTITY_REF_ANNOTATION, "")
        kind, _, rest = ref.partition(":")
        namespace, _, name = rest.partition("/")
        if kind == "component" and namespace and name:
            owner = EntityKey(kind, namespace, name)
            if app.labels.get(ENTITY_LABEL) == entity_label(owner):
                self.queue.add(owner)
        if self.graph is not None:
            for key in self.graph.app_watchers(app.name):
                self.queue.add(key)

    def requeue_alerting(self) -> None:
        """Components that select Prometheus alerts (after the alerts changed)."""
        if self.graph is not None:
            for key in self.graph.keys("component"):
                view = self.graph.get(key)
                if view is not None and view.alerts is not None:
                    self.queue.add(key)

    def requeue(self, kind: str) -> None:
        """Everything of a kind (e.g. after a configuration change)."""
        if self.graph is not None:
            for key in self.graph.keys(kind):
                self.queue.add(key)

    def observe_workload(self, workload: WorkloadView, *, deleted: bool) -> None:
        """Queue the Components that select this workload now, or selected it before."""
        if self.graph is None:
            return
        index = self.graph.workload_index
        before = index.get(ident(workload))
        if deleted:
            index.remove(ident(workload))
        else:
            if before == workload:
                return  # unchanged (or the first event of a restart: listed at bind)
            index.update(workload)
        candidates = self.graph.watchers(workload.namespace, workload.labels)
        if before is not None and before.labels != workload.labels:
            candidates += self.graph.watchers(workload.namespace, before.labels)
        for view in candidates:
            assert view.kubernetes is not None
            selector = view.kubernetes.selector
            if selector.matches(workload.labels) or (
                before is not None and selector.matches(before.labels)
            ):
                self.queue.add(view.key)

    def observe_namespace(self, name: str, labels: Mapping[str, str], *, deleted: bool) -> None:
        """Tenancy rules select namespaces by label (namespaceSelector): when a namespace's
        labels change, every entity in it is decided again, and so are the Components
        scaffolded from its Templates (their namespace's rule decides where they publish).
        The first sight of a namespace (the initial list, a new namespace) changes nothing."""
        if deleted:
            self._namespaces_seen.pop(name, None)
            return
        before, after = self._namespaces_seen.get(name), dict(labels)
        self._namespaces_seen[name] = after
        if before is None or before == after or self.graph is None:
            return
        for key in self.graph.in_namespace(name):
            self.queue.add(key)
            if key.kind == "template":
                self._queue_sources(key)

"""The catalog graph that decisions read: kopf's indexes, the reverse relations the engine
derives from them (reconcilers/relations.py), and Portico's own watch of Argo CD
Applications, behind the small protocols each decision states (domain/status.Graph, the
steps' own)."""

from collections.abc import Callable, Mapping
from typing import Any

from portico.domain.argocd import AppView
from portico.domain.entity import EntityView
from portico.domain.refs import EntityKey
from portico.domain.relations import Edge
from portico.domain.workloads import Selector, WorkloadView
from portico.reconcilers.relations import Relations
from portico.reconcilers.workload_index import WorkloadIndex


class IndexGraph:
    """The catalog graph over kopf's indexes, by name: key -> collection of values.

    entities: EntityKey -> EntityView; workloads: namespace -> WorkloadView; namespaces:
    name -> labels. Missing indexes read as empty. Who points at an entity, who watches a
    namespace and whom an Application concerns come from `relations`, and the workloads a
    selector matches from `workload_index`, both derived from kopf's indexes by the engine;
    Applications come from Portico's own watch (reconcilers/app_watch.py).
    """

    def __init__(
        self,
        indexes: Mapping[str, Any],
        applications: Callable[[str, str], AppView | None] | None = None,
        relations: Relations | None = None,
    ) -> None:
        self._ix = indexes
        self._applications = applications
        self.relations = relations if relations is not None else Relations()
        self.workload_index = WorkloadIndex()

    def _all(self, index: str, key: Any) -> list[Any]:
        store = (self._ix.get(index) or {}).get(key)
        return list(store) if store else []

    def _one(self, index: str, key: Any) -> Any:
        found = self._all(index, key)
        return found[0] if found else None

    def get(self, key: EntityKey) -> EntityView | None:
        view: EntityView | None = self._one("entities", key)
        return view

    def incoming(self, key: EntityKey) -> list[Edge]:
        return self.relations.incoming(key)

    def application(self, namespace: str, name: str) -> AppView | None:
        return self._applications(namespace, name) if self._applications else None

    def namespace_labels(self, namespace: str) -> dict[str, str]:
        return dict(self._one("namespaces", namespace) or {})

    def watchers(self, namespace: str, labels: Mapping[str, str]) -> list[EntityView]:
        """Components observing `namespace` whose selectors may match these labels."""
        views = (self.get(key) for key in self.relations.watchers(namespace, labels))
        return [v for v in views if v is not None and v.kubernetes is not None]

    def views(self) -> list[EntityView]:
        """Every entity in the index (its first view of each key)."""
        entities = self._ix.get("entities") or {}
        found = (next(iter(store), None) for store in entities.values())
        return [view for view in found if isinstance(view, EntityView)]

    def keys(self, kind: str) -> list[EntityKey]:
        entities = self._ix.get("entities") or {}
        return [key for key in entities if isinstance(key, EntityKey) and key.kind == kind]

    def in_namespace(self, namespace: str) -> list[EntityKey]:
        """Every entity in a namespace (a scan: namespaces' labels change rarely)."""
        entities = self._ix.get("entities") or {}
        return [k for k in entities if isinstance(k, EntityKey) and k.namespace == namespace]

    def app_watchers(self, name: str) -> list[EntityKey]:
        return self.relations.app_watchers(name)

    def workloads(self, namespace: str, selector: Selector) -> list[WorkloadView]:
        return self.workload_index.selected(namespace, selector)

    def indexed_workloads(self) -> list[WorkloadView]:
        """Every workload in kopf's index (to build `workload_index` from, once)."""
        stores = (self._ix.get("workloads") or {}).values()
        return [w for store in stores for w in store if isinstance(w, WorkloadView)]

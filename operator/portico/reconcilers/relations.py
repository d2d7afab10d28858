"""The catalog's reverse relations, kept by the engine from the entities it observes.

Who points at an entity (`incoming`), which Components watch a namespace's workloads
(`watchers`) and which Components an Argo CD Application's name concerns (`app_watchers`)
are all derived from the entities themselves. They were kopf indexes, but kopf runs each
index function as a handler of its own (progress record, kwargs, a copy of the body): a
Component's four indexes cost about 1 ms of CPU per event, half of the operator's own part
of an event (issue 14's profile). Only `entities` stays a kopf index, because its readiness
gate is what keeps a restart from deciding on a half-listed catalog; these are built in full
from that complete index at the first event, then kept up to date by every event.

Each source's contribution is remembered, so an update first takes back what the previous
version added; an event that changes none of it (our own status write's echo) costs one
tuple comparison.
"""

from collections.abc import Iterable, Mapping
from typing import NamedTuple, TypeVar

from portico.domain.argocd import APP_NAME_ANNOTATION, app_name
from portico.domain.entity import EntityView
from portico.domain.refs import EntityKey
from portico.domain.relations import Edge

T = TypeVar("T")


class Contribution(NamedTuple):
    """What one entity adds to the reverse relations."""

    edges: tuple[Edge, ...]
    # the namespace whose workloads it observes, and a label its selector requires (if any)
    watches: tuple[str, tuple[str, str] | None] | None
    apps: tuple[str, ...]  # the Application names it is concerned by


def contribution(view: EntityView) -> Contribution:
    apps: tuple[str, ...] = ()
    if view.key.kind == "component":
        # The name Portico gives its Application (an Application of another owner at that
        # name re-queues it, ending an ApplicationConflict at once), and the one named with
        # Backstage's argocd/app-name annotation.
        named = view.annotations.get(APP_NAME_ANNOTATION)
        apps = (app_name(view.key), named.rpartition("/")[2]) if named else (app_name(view.key),)
    target = view.kubernetes
    watches = (target.namespace, target.selector.required_pair) if target is not None else None
    return Contribution(view.edges, watches, apps)


def _add(table: dict[T, dict[EntityKey, None]], name: T, key: EntityKey) -> None:
    table.setdefault(name, {})[key] = None


def _drop(table: dict[T, dict[EntityKey, None]], name: T, key: EntityKey) -> None:
    members = table.get(name)
    if members is not None:
        members.pop(key, None)
        if not members:
            del table[name]


class Relations:
    def __init__(self) -> None:
        self._by_source: dict[EntityKey, Contribution] = {}
        self._incoming: dict[EntityKey, dict[EntityKey, tuple[Edge, ...]]] = {}
        # (namespace, required label or None) -> Components: insertion-ordered sets
        self._watchers: dict[tuple[str, tuple[str, str] | None], dict[EntityKey, None]] = {}
        self._apps: dict[str, dict[EntityKey, None]] = {}

    def __len__(self) -> int:
        return len(self._by_source)

    def load(self, views: Iterable[EntityView]) -> None:
        for view in views:
            self.update(view)

    def update(self, view: EntityView) -> None:
        key, new = view.key, contribution(view)
        old = self._by_source.get(key)
        if old == new:
            return
        if old is not None:
            self._take_back(key, old)
        self._by_source[key] = new
        by_target: dict[EntityKey, list[Edge]] = {}
        for edge in new.edges:
            by_target.setdefault(edge.target, []).append(edge)
        for target, edges in by_target.items():
            self._incoming.setdefault(target, {})[key] = tuple(edges)
        if new.watches is not None:
            _add(self._watchers, new.watches, key)
        for name in new.apps:
            _add(self._apps, name, key)

    def remove(self, key: EntityKey) -> None:
        old = self._by_source.pop(key, None)
        if old is not None:
            self._take_back(key, old)

    def _take_back(self, key: EntityKey, old: Contribution) -> None:
        for target in {edge.target for edge in old.edges}:
            sources = self._incoming.get(target)
            if sources is not None:
                sources.pop(key, None)
                if not sources:
                    del self._incoming[target]
        if old.watches is not None:
            _drop(self._watchers, old.watches, key)
        for name in old.apps:
            _drop(self._apps, name, key)

    def incoming(self, target: EntityKey) -> list[Edge]:
        sources = self._incoming.get(target)
        return [edge for edges in sources.values() for edge in edges] if sources else []

    def watchers(self, namespace: str, labels: Mapping[str, str]) -> list[EntityKey]:
        """Components whose selectors may match a workload with these labels in `namespace`
        (candidates: the caller checks the whole selector). Found by label, not by a scan
        of the namespace (workload_index.py says why)."""
        found: dict[EntityKey, None] = dict(self._watchers.get((namespace, None), {}))
        for pair in labels.items():
            found.update(self._watchers.get((namespace, pair), {}))
        return list(found)

    def app_watchers(self, name: str) -> list[EntityKey]:
        return list(self._apps.get(name, ()))

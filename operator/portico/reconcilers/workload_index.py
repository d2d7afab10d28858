"""Workloads by namespace and label, so that a selector finds its matches without a scan.

A Component's health reads the workloads its selector matches, and a workload's change wakes
the Components whose selectors match it. Scanning the namespace for either is O(N) per
event: a burst of 1,000 Deployments changing in a namespace of 1,000 selecting Components was
a million selector checks each way (issue 14's burst measure). Both directions are indexed
by one label pair a match must carry (`Selector.required_pair`); a selector with only
expressions falls back to the namespace's scan.

The workloads themselves are also a kopf index: its readiness gate keeps a restart from
judging health before every workload is listed. This index is built from that complete one at
the first event and kept up to date by each workload event (CatalogEngine.observe_workload).
"""

from collections.abc import Iterable
from typing import TypeVar

from portico.domain.workloads import Selector, WorkloadView

Ident = tuple[str, str, str]  # kind, namespace, name
K = TypeVar("K")


def ident(workload: WorkloadView) -> Ident:
    return (workload.kind, workload.namespace, workload.name)


class WorkloadIndex:
    def __init__(self) -> None:
        self._all: dict[Ident, WorkloadView] = {}
        self._by_namespace: dict[str, dict[Ident, WorkloadView]] = {}
        self._by_pair: dict[tuple[str, str, str], dict[Ident, WorkloadView]] = {}

    def __len__(self) -> int:
        return len(self._all)

    def get(self, key: Ident) -> WorkloadView | None:
        return self._all.get(key)

    def load(self, workloads: Iterable[WorkloadView]) -> None:
        for workload in workloads:
            self.update(workload)

    def update(self, workload: WorkloadView) -> None:
        key = ident(workload)
        self.remove(key)
        self._all[key] = workload
        self._by_namespace.setdefault(workload.namespace, {})[key] = workload
        for k, v in workload.labels.items():
            self._by_pair.setdefault((workload.namespace, k, v), {})[key] = workload

    def remove(self, key: Ident) -> None:
        old = self._all.pop(key, None)
        if old is None:
            return
        _drop(self._by_namespace, old.namespace, key)
        for k, v in old.labels.items():
            _drop(self._by_pair, (old.namespace, k, v), key)

    def selected(self, namespace: str, selector: Selector) -> list[WorkloadView]:
        """The workloads in `namespace` that `selector` matches."""
        pair = selector.required_pair
        if pair is None:
            candidates = self._by_namespace.get(namespace, {})
        else:
            candidates = self._by_pair.get((namespace, *pair), {})
        return [w for w in candidates.values() if selector.matches(w.labels)]


def _drop(table: dict[K, dict[Ident, WorkloadView]], bucket: K, key: Ident) -> None:
    members = table.get(bucket)
    if members is not None:
        members.pop(key, None)
        if not members:
            del table[bucket]

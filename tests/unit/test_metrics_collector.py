"""The catalog collector belongs to one running operator: registered at its startup, gone
at its cleanup, so a second operator in the same process counts its own graph, not the
first one's (the old module-level registration kept the first for ever)."""

from typing import Any

from prometheus_client import REGISTRY

from portico.metrics import register_catalog_collector, unregister


class Graph:
    def __init__(self, n: int) -> None:
        self.n = n

    def keys(self, kind: str) -> list[str]:
        return [f"{kind}-{i}" for i in range(self.n)] if kind == "component" else []

    def get(self, key: Any) -> None:
        return None


def _components() -> float | None:
    return REGISTRY.get_sample_value("portico_entities", {"kind": "component", "health": "None"})


def test_each_operator_counts_its_own_catalog() -> None:
    first = register_catalog_collector(lambda: Graph(2))
    assert _components() == 2
    unregister(first)
    assert _components() is None
    second = register_catalog_collector(lambda: Graph(5))
    try:
        assert _components() == 5
    finally:
        unregister(second)

"""A CatalogEngine on a fake API server transport, with dicts standing in for kopf's
indexes: for unit tests of what the engine queues and writes.

`index` plays kopf's index (the entities Store) and the part of the engine's `observe` that
keeps the reverse relations, without queueing anything: tests then observe what they mean
to."""

import json
from typing import Any

import httpx

from portico.clients.kube import KubeClient
from portico.domain.entity import view_from_body
from portico.reconcilers.catalog import CatalogEngine
from portico.reconcilers.relations import Relations


def make_body(
    kind: str, name: str, spec: dict[str, Any], rv: str = "1", status: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "kind": kind,
        "metadata": {
            "name": name,
            "namespace": "shop",
            "uid": name,
            "generation": 1,
            "resourceVersion": rv,
        },
        "spec": spec,
        "status": status or {},
    }


class Store(dict[Any, Any]):
    """Stands in for a kopf index: key -> collection of values."""

    def put(self, key: Any, value: Any) -> None:
        self[key] = [value]


def engine_with_fake_api() -> tuple[CatalogEngine, list[dict[str, Any]], Store, Relations]:
    patches: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        patches.append({"url": str(request.url.path), "body": json.loads(request.content)})
        return httpx.Response(200, json={})

    http = httpx.AsyncClient(base_url="https://api", transport=httpx.MockTransport(handler))
    engine = CatalogEngine(KubeClient(http), clock=lambda: "2026-01-01T00:00:00Z")
    entities = Store()
    engine.bind({"entities": entities})
    assert engine.graph is not None
    return engine, patches, entities, engine.graph.relations


def index(entities: Store, relations: Relations, body: dict[str, Any]) -> Any:
    view = view_from_body(body["kind"], body)
    entities.put(view.key, view)
    relations.update(view)
    return view


async def drain(engine: CatalogEngine) -> None:
    """Reconcile whatever is queued now, as the engine's workers would."""
    while not engine.queue.idle():
        key = await engine.queue.get()
        try:
            await engine.reconcile(key)
        finally:
            engine.queue.done(key)

"""Namespaces: their labels, which tenancy rules select with `namespaceSelector`.

The index gives every decision a namespace's labels without a GET; the event handler wakes
what a label change may decide differently (reconcilers/catalog.CatalogEngine.
observe_namespace). Labels are compared with the last ones seen, so a namespace's other
changes (annotations, its phase) wake nothing.
"""

from typing import Any

import kopf


@kopf.index("", "v1", "namespaces", id="namespaces")
async def namespaces(name: str, labels: kopf.Labels, **_: Any) -> dict[str, dict[str, str]]:
    return {name: dict(labels)}


@kopf.on.event("", "v1", "namespaces", id="namespace-events")
async def on_namespace(
    *, type: str | None, name: str, labels: kopf.Labels, memo: Any, **kwargs: Any
) -> None:
    memo.engine.bind(kwargs)
    memo.engine.observe_namespace(name, dict(labels), deleted=type == "DELETED")

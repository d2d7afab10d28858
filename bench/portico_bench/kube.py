"""The API server as the measures see it: an httpx client with the admin certificate (the
operator's HTTP stack) and watches that record each event's arrival time."""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from portico_bench.catalog import GROUP_PATH, PLURALS, is_ready

MERGE = {"Content-Type": "application/merge-patch+json"}


class Api:
    """An httpx async client with the kubeconfig's admin client certificate."""

    def __init__(self, kubeconfig: Path) -> None:
        cfg = yaml.safe_load(kubeconfig.read_text())
        cluster = cfg["clusters"][0]["cluster"]
        user = cfg["users"][0]["user"]
        self.server: str = cluster["server"]
        ctx = ssl.create_default_context(cafile=cluster["certificate-authority"])
        ctx.load_cert_chain(user["client-certificate"], user["client-key"])
        self.http = httpx.AsyncClient(
            base_url=self.server,
            verify=ctx,
            timeout=httpx.Timeout(60.0, connect=10.0),
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=64),
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    async def request(self, method: str, path: str, **kw: Any) -> dict[str, Any]:
        for attempt in range(5):
            r = await self.http.request(method, path, **kw)
            if r.status_code == 429 or r.status_code >= 500:
                await asyncio.sleep(0.2 * (attempt + 1))
                continue
            if r.status_code >= 400:
                raise RuntimeError(f"{method} {path}: {r.status_code} {r.text[:300]}")
            result: dict[str, Any] = r.json()
            return result
        raise RuntimeError(f"{method} {path}: {r.status_code} {r.text[:300]}")

    async def ensure_namespace(self, ns: str) -> None:
        body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}
        r = await self.http.post("/api/v1/namespaces", json=body)
        if r.status_code not in (201, 409):
            raise RuntimeError(f"namespace {ns}: {r.status_code} {r.text[:300]}")

    async def create(self, obj: dict[str, Any]) -> dict[str, Any]:
        ns = obj["metadata"]["namespace"]
        return await self.request(
            "POST", f"{GROUP_PATH}/namespaces/{ns}/{PLURALS[obj['kind']]}", json=obj
        )

    async def list(self, plural: str, ns: str) -> dict[str, Any]:
        return await self.request("GET", f"{GROUP_PATH}/namespaces/{ns}/{plural}")

    async def patch(
        self, plural: str, ns: str, name: str, body: dict[str, Any], *, status: bool = False
    ) -> dict[str, Any]:
        sub = "/status" if status else ""
        return await self.request(
            "PATCH",
            f"{GROUP_PATH}/namespaces/{ns}/{plural}/{name}{sub}",
            content=json.dumps(body),
            headers=MERGE,
        )

    async def delete_all(self, plural: str, ns: str) -> None:
        await self.request("DELETE", f"{GROUP_PATH}/namespaces/{ns}/{plural}")

    async def configmap(self, ns: str, name: str) -> None:
        body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}}
        await self.request("POST", f"/api/v1/namespaces/{ns}/configmaps", json=body)


async def all_entities(api: Api, ns: str) -> list[dict[str, Any]]:
    """Every Component, System and API in `ns` (one LIST per kind)."""
    lists = await asyncio.gather(*(api.list(p, ns) for p in PLURALS.values()))
    return [item for lst in lists for item in lst["items"]]


async def bounded(jobs: Iterable[Callable[[], Awaitable[Any]]], concurrency: int) -> list[Any]:
    """Run the jobs with at most `concurrency` at a time; their results in order."""
    sem = asyncio.Semaphore(concurrency)

    async def one(job: Callable[[], Awaitable[Any]]) -> Any:
        async with sem:
            return await job()

    return await asyncio.gather(*(one(j) for j in jobs))


@dataclass
class WatchEvent:
    t: float
    type: str
    name: str
    generation: int
    observed: int | None
    health: str | None = None  # status.health.status


@dataclass
class Watcher:
    """A watch on one resource in one namespace, recording every event with its arrival
    time (monotonic)."""

    api: Api
    plural: str
    ns: str
    events: list[WatchEvent] = field(default_factory=list)
    ready_since: dict[str, float | None] = field(default_factory=dict)
    _new: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        listing = await self.api.list(self.plural, self.ns)
        rv = listing["metadata"]["resourceVersion"]
        self._task = asyncio.create_task(self._run(rv))
        await asyncio.sleep(0.2)  # let the watch connect

    async def _run(self, rv: str) -> None:
        params = {"watch": "1", "resourceVersion": rv, "timeoutSeconds": "600"}
        path = f"{GROUP_PATH}/namespaces/{self.ns}/{self.plural}"
        async with self.api.http.stream(
            "GET", path, params=params, timeout=httpx.Timeout(None, connect=10)
        ) as r:
            async for line in r.aiter_lines():
                if not line:
                    continue
                t = time.monotonic()
                ev = json.loads(line)
                obj = ev.get("object") or {}
                meta = obj.get("metadata") or {}
                status = obj.get("status") or {}
                og = status.get("observedGeneration")
                health = (status.get("health") or {}).get("status")
                name = meta.get("name", "")
                if ev["type"] == "DELETED":
                    self.ready_since.pop(name, None)
                elif not is_ready(obj):
                    self.ready_since[name] = None
                elif self.ready_since.get(name) is None:
                    self.ready_since[name] = t
                self.events.append(
                    WatchEvent(t, ev["type"], name, meta.get("generation", 0), og, health)
                )
                self._new.set()

    async def wait(self, pred: Callable[[WatchEvent], bool], since: int, limit: float) -> float:
        """Arrival time of the first event from index `since` on matching `pred`."""
        deadline = time.monotonic() + limit
        i = since
        while True:
            while i < len(self.events):
                if pred(self.events[i]):
                    return self.events[i].t
                i += 1
            self._new.clear()
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no matching watch event")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new.wait(), left)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

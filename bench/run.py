"""Portico's benchmark: how fast, how thrifty and how small the operator is, relative to
what the API server itself can do on the same machine at the same moment.

Absolute seconds mean little on a shared 2-core machine, so every figure is a ratio to a
*floor* measured in the same run on the same control plane with the same Python HTTP stack
(httpx, admin client certificate) the operator uses:

- F_patch(N): the fastest merge patch of `/status` on N existing Components (concurrency 1,
  8 and 32; the best is kept) -- the least time any operator needs to write N statuses.
- F_rt: p50/p99 of "patch an object -> see my own watch event" -- the least latency any
  watch-driven controller can have.
- F_list(N): one LIST of N Components -- the least time a restarted operator needs to learn
  the catalog.

Then, for each N, with `portico run` as a subprocess watching a fresh namespace:

1. cold convergence (N Components, N/50 Systems, N/10 APIs, refs resolvable) until every
   entity is Ready with a current observedGeneration, over F_patch(N);
2. change latency: spec patches at a steady rate, patch -> watch event with the new
   observedGeneration, p50 over F_rt and p99 in seconds;
3. write amplification from the audit log (the operator's user agents): writes per created
   entity, per spec change, and over an idle window (must be 0);
4. restart with nothing changed: time to idle and writes made (must be 0), vs F_list(N)+20 s;
5. idle footprint: RSS and CPU of the operator after settling, vs RSS with 0 entities.

Targets print PASS/MISS; a MISS is a finding, never a non-zero exit.
Run: `.venv/bin/python bench/run.py [--sizes 100,1000] [--out bench/results/latest.json]`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "operator"))

from fakes.github import FakeGitHub  # noqa: E402
from portico_devcluster.cluster import LocalCluster  # noqa: E402
from support.operator import OperatorProcess  # noqa: E402

GROUP_PATH = "/apis/portico.dev/v1alpha1"
PLURALS = {"Component": "components", "System": "systems", "API": "apis"}
WRITE_VERBS = {"create", "update", "patch", "delete"}
MERGE = {"Content-Type": "application/merge-patch+json"}
CLK_TCK = os.sysconf("SC_CLK_TCK")
DEFINITION = "openapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths: {}\n"


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0..1) by nearest rank; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


# --- objects -------------------------------------------------------------------------
def component(name: str, ns: str, system: str, api: str) -> dict[str, Any]:
    return {
        "apiVersion": "portico.dev/v1alpha1",
        "kind": "Component",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "type": "service",
            "lifecycle": "production",
            "owner": "group:team",
            "system": system,
            "providesApis": [api],
        },
    }


def system(name: str, ns: str) -> dict[str, Any]:
    return {
        "apiVersion": "portico.dev/v1alpha1",
        "kind": "System",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"owner": "group:team"},
    }


def api(name: str, ns: str, system_name: str) -> dict[str, Any]:
    return {
        "apiVersion": "portico.dev/v1alpha1",
        "kind": "API",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "type": "openapi",
            "lifecycle": "production",
            "owner": "group:team",
            "system": system_name,
            "definition": DEFINITION,
        },
    }


def catalog(n: int, ns: str) -> list[dict[str, Any]]:
    """N Components, one System per 50 and one API per 10 (at least one each); every
    Component is part of an existing System and provides an existing API."""
    n_sys = max(1, n // 50)
    n_api = max(1, n // 10)
    objs = [system(f"sys-{i}", ns) for i in range(n_sys)]
    objs += [api(f"api-{i}", ns, f"sys-{i % n_sys}") for i in range(n_api)]
    objs += [component(f"c-{i}", ns, f"sys-{i % n_sys}", f"api-{i % n_api}") for i in range(n)]
    return objs


def is_ready(obj: dict[str, Any]) -> bool:
    status = obj.get("status") or {}
    if status.get("observedGeneration") != obj["metadata"].get("generation"):
        return False
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in status.get("conditions") or []
    )


# --- API client ----------------------------------------------------------------------
class Api:
    """An httpx async client with the kubeconfig's admin client certificate."""

    def __init__(self, kubeconfig: Path) -> None:
        cfg = yaml.safe_load(kubeconfig.read_text())
        cluster = cfg["clusters"][0]["cluster"]
        user = cfg["users"][0]["user"]
        self.server = cluster["server"]
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


async def bounded(jobs: Iterable[Callable[[], Awaitable[Any]]], concurrency: int) -> list[Any]:
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
                og = (obj.get("status") or {}).get("observedGeneration")
                name = meta.get("name", "")
                if ev["type"] == "DELETED":
                    self.ready_since.pop(name, None)
                elif not is_ready(obj):
                    self.ready_since[name] = None
                elif self.ready_since.get(name) is None:
                    self.ready_since[name] = t
                self.events.append(
                    WatchEvent(t, ev["type"], meta.get("name", ""), meta.get("generation", 0), og)
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


# --- audit log -----------------------------------------------------------------------
class Audit:
    """Reads the API server's audit log incrementally; markers (ConfigMaps) cut windows."""

    def __init__(self, path: Path, api: Api) -> None:
        self.path = path
        self.api = api
        self.offset = 0
        self.events: list[dict[str, Any]] = []
        self._partial = b""

    def poll(self) -> None:
        if not self.path.exists():
            return
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            data = f.read()
        self.offset += len(data)
        data = self._partial + data
        lines = data.split(b"\n")
        self._partial = lines.pop()
        for line in lines:
            with contextlib.suppress(ValueError):
                self.events.append(json.loads(line))

    async def mark(self, limit: float = 20.0) -> int:
        """Create a marker and wait until the log shows it; returns the index after it."""
        name = f"bench-marker-{uuid.uuid4().hex[:8]}"
        await self.api.configmap("default", name)
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            self.poll()
            for i in range(len(self.events) - 1, -1, -1):
                if (self.events[i].get("objectRef") or {}).get("name") == name:
                    return i + 1
            await asyncio.sleep(0.2)
        raise TimeoutError("audit marker not logged")

    def operator_writes(
        self, start: int, end: int | None = None, ns: str | None = None
    ) -> list[dict[str, Any]]:
        out = []
        for e in self.events[start:end]:
            agent = e.get("userAgent", "")
            if e.get("verb") not in WRITE_VERBS:
                continue
            if not (agent.startswith("portico") or "kopf" in agent):
                continue
            if ns is not None and (e.get("objectRef") or {}).get("namespace") != ns:
                continue
            out.append(e)
        return out


def breakdown(writes: list[dict[str, Any]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for e in writes:
        ref = e.get("objectRef") or {}
        sub = f"/{ref['subresource']}" if ref.get("subresource") else ""
        key = f"{e.get('verb')} {ref.get('resource')}{sub}"
        out[key] = out.get(key, 0) + 1
    return out


# --- process ---------------------------------------------------------------------------
def cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def operator_pid(op: OperatorProcess) -> int:
    assert op.proc is not None
    return op.proc.pid


# --- floors ------------------------------------------------------------------------------
async def floors(api: Api, sizes: list[int]) -> dict[str, Any]:
    out: dict[str, Any] = {"patch": {}, "list": {}}
    for n in sizes:
        ns = f"floor-{n}"
        await api.ensure_namespace(ns)
        objs = [component(f"c-{i}", ns, "sys-0", "api-0") for i in range(n)]
        t = time.monotonic()
        await bounded([lambda o=o: api.create(o) for o in objs], 32)
        out.setdefault("create", {})[str(n)] = time.monotonic() - t  # context, not a floor
        lists = []
        for _ in range(3):
            t = time.monotonic()
            got = await api.list("components", ns)
            lists.append(time.monotonic() - t)
            assert len(got["items"]) == n
        per_level: dict[str, float] = {}
        for trial, conc in enumerate((1, 8, 32), start=1):
            body = {"status": {"observedGeneration": trial}}  # a real write each time
            jobs = [
                lambda i=i, b=body, ns=ns: api.patch("components", ns, f"c-{i}", b, status=True)
                for i in range(n)
            ]
            t = time.monotonic()
            await bounded(jobs, conc)
            per_level[str(conc)] = time.monotonic() - t
        out["patch"][str(n)] = {"best": min(per_level.values()), "by_concurrency": per_level}
        out["list"][str(n)] = {"best": min(lists), "all": lists}
        log(
            f"floor N={n}: F_patch={min(per_level.values()):.3f}s {per_level}, "
            f"F_list={min(lists):.3f}s, create N (context)={out['create'][str(n)]:.3f}s"
        )
    # F_rt: patch one object 100 times, each time wait for our own watch event.
    ns = f"floor-{sizes[0]}"
    watcher = Watcher(api, "components", ns)
    await watcher.start()
    rts = []
    try:
        for i in range(100):
            since = len(watcher.events)
            t = time.monotonic()
            resp = await api.patch("components", ns, "c-0", {"spec": {"description": f"rt {i}"}})
            gen = resp["metadata"]["generation"]
            seen = await watcher.wait(
                lambda e, g=gen: e.name == "c-0" and e.generation >= g, since, 10
            )
            rts.append(seen - t)
    finally:
        await watcher.stop()
    out["rt"] = {"p50": pct(rts, 0.5), "p99": pct(rts, 0.99), "n": len(rts)}
    log(f"floor F_rt p50={out['rt']['p50'] * 1000:.1f}ms p99={out['rt']['p99'] * 1000:.1f}ms")
    for n in sizes:
        await api.delete_all("components", f"floor-{n}")
    return out


# --- measures ----------------------------------------------------------------------------
async def all_entities(api: Api, ns: str) -> list[dict[str, Any]]:
    lists = await asyncio.gather(*(api.list(p, ns) for p in PLURALS.values()))
    return [item for lst in lists for item in lst["items"]]


async def wait_quiet(
    audit: Audit, start: int, ns: str, quiet: float = 5.0, limit: float = 120.0
) -> float:
    """Wait until the operator made no write in `ns` for `quiet` seconds."""
    t0 = time.monotonic()
    count = -1
    last_change = t0
    while time.monotonic() - t0 < limit:
        audit.poll()
        c = len(audit.operator_writes(start, ns=ns))
        if c != count:
            count, last_change = c, time.monotonic()
        elif time.monotonic() - last_change >= quiet:
            break
        await asyncio.sleep(0.5)
    return time.monotonic() - t0


async def cold(api: Api, audit: Audit, ns: str, n: int, pid: int, limit: float) -> dict[str, Any]:
    """Create the catalog at concurrency 32; converged when the watches (one per kind) show
    every entity Ready with a current observedGeneration -- the arrival time of the last
    event that made an entity Ready -- confirmed by a LIST."""
    objs = catalog(n, ns)
    watchers = [Watcher(api, plural, ns) for plural in PLURALS.values()]
    for w in watchers:
        await w.start()
    start = await audit.mark()
    created: list[float] = []

    async def create_all() -> None:
        await bounded([lambda o=o: api.create(o) for o in objs], 32)
        created.append(time.monotonic())

    ticks0 = cpu_ticks(pid)
    t0 = time.monotonic()
    create_task = asyncio.create_task(create_all())
    converged = None
    ready = 0
    try:
        while time.monotonic() - t0 < limit:
            await asyncio.sleep(0.1)
            since = [t for w in watchers for t in w.ready_since.values()]
            ready = sum(1 for t in since if t is not None)
            if not create_task.done() or len(since) < len(objs) or ready < len(objs):
                continue
            items = await all_entities(api, ns)
            if len(items) == len(objs) and all(is_ready(o) for o in items):
                converged = max(t for t in since if t is not None) - t0
                break
        cpu = (cpu_ticks(pid) - ticks0) / CLK_TCK
        await create_task
    finally:
        for w in watchers:
            await w.stop()
    await wait_quiet(audit, start, ns)
    end = await audit.mark()
    writes = audit.operator_writes(start, end, ns)
    return {
        "entities": len(objs),
        "seconds": converged,
        "ready": ready,
        "created_in": created[0] - t0 if created else None,
        "operator_cpu_seconds": cpu,
        "writes": len(writes),
        "writes_per_entity": len(writes) / len(objs),
        "writes_by": breakdown(writes),
    }


async def change_latency(
    api: Api, audit: Audit, ns: str, n: int, rate: float, seconds: float
) -> dict[str, Any]:
    watcher = Watcher(api, "components", ns)
    await watcher.start()
    start = await audit.mark()
    patches: list[tuple[str, float, int]] = []
    rng = random.Random(n)

    async def one(i: int) -> None:
        name = f"c-{rng.randrange(n)}"
        t = time.monotonic()
        resp = await api.patch("components", ns, name, {"spec": {"description": f"change {i}"}})
        patches.append((name, t, resp["metadata"]["generation"]))

    tasks = []
    t0 = time.monotonic()
    total = int(rate * seconds)
    for i in range(total):
        delay = t0 + i / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i)))
    await asyncio.gather(*tasks)

    def resolved(name: str, t: float, gen: int) -> float | None:
        for e in watcher.events:
            if e.name == name and e.t >= t and e.observed is not None and e.observed >= gen:
                return e.t - t
        return None

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if all(resolved(*p) is not None for p in patches):
            break
        await asyncio.sleep(0.5)
    await watcher.stop()
    lat = [x for x in (resolved(*p) for p in patches) if x is not None]
    await wait_quiet(audit, start, ns)
    end = await audit.mark()
    writes = audit.operator_writes(start, end, ns)
    return {
        "patches": len(patches),
        "resolved": len(lat),
        "p50": pct(lat, 0.5),
        "p99": pct(lat, 0.99),
        "max": max(lat) if lat else float("nan"),
        "writes": len(writes),
        "writes_per_change": len(writes) / max(1, len(patches)),
        "writes_by": breakdown(writes),
    }


async def idle_window(audit: Audit, ns: str, pid: int, seconds: float) -> dict[str, Any]:
    start = await audit.mark()
    c0, t0 = cpu_ticks(pid), time.monotonic()
    rss = []
    while time.monotonic() - t0 < seconds:
        await asyncio.sleep(1.0)
        rss.append(rss_mb(pid))
    c1, t1 = cpu_ticks(pid), time.monotonic()
    end = await audit.mark()
    writes = audit.operator_writes(start, end, ns)
    return {
        "seconds": t1 - t0,
        "cpu_percent": 100.0 * (c1 - c0) / CLK_TCK / (t1 - t0),
        "rss_mb": rss[-1] if rss else rss_mb(pid),
        "rss_max_mb": max(rss) if rss else rss_mb(pid),
        "writes": len(writes),
        "writes_by": breakdown(writes),
    }


async def restart(
    audit: Audit, ns: str, op: OperatorProcess, limit: float
) -> tuple[dict[str, Any], int]:
    """Stop, start again, wait until idle: no operator write and CPU below 10% of a core
    (1 s samples) for 5 s. Returns the figures and the new pid."""
    op.stop()
    start = await audit.mark()
    t0 = time.monotonic()
    op.start(timeout=60)
    pid = operator_pid(op)
    healthy = time.monotonic() - t0
    last_busy = time.monotonic()
    ticks = cpu_ticks(pid)
    count = 0
    idle_at = None
    trace: list[float] = []  # CPU % of a core, per 1 s sample
    while time.monotonic() - t0 < limit:
        await asyncio.sleep(1.0)
        now_ticks = cpu_ticks(pid)
        trace.append(round(100.0 * (now_ticks - ticks) / CLK_TCK, 1))
        audit.poll()
        c = len(audit.operator_writes(start, ns=ns))
        if c != count or (now_ticks - ticks) > 0.10 * CLK_TCK:
            last_busy = time.monotonic()
        count, ticks = c, now_ticks
        if time.monotonic() - last_busy >= 5.0:
            idle_at = last_busy - t0
            break
    end = await audit.mark()
    writes = audit.operator_writes(start, end, ns)
    return (
        {
            "healthy_after": healthy,
            "idle_after": idle_at,
            "writes": len(writes),
            "writes_by": breakdown(writes),
            "cpu_trace": trace,
        },
        pid,
    )


async def round_for(
    api: Api,
    audit: Audit,
    cluster: LocalCluster,
    n: int,
    fl: dict[str, Any],
    args: argparse.Namespace,
    work: Path,
) -> dict[str, Any]:
    ns = f"bench-{n}"
    await api.ensure_namespace(ns)
    result: dict[str, Any] = {"n": n}
    op = OperatorProcess(
        cluster.kubeconfig,
        work / f"operator-{n}.log",
        extra_args=("--namespace", ns),
    )
    try:
        op.start(timeout=60)
        pid = operator_pid(op)
        await asyncio.sleep(2.0)
        result["rss0_mb"] = rss_mb(pid)
        log(f"N={n}: operator up, RSS(0)={result['rss0_mb']:.1f} MB")

        result["cold"] = await cold(api, audit, ns, n, pid, limit=args.cold_timeout)
        c = result["cold"]
        log(
            f"N={n}: cold convergence {c['seconds']}s ({c['ready']}/{c['entities']} ready, "
            f"created in {c['created_in']}s, operator CPU {c['operator_cpu_seconds']}s), "
            f"{c['writes']} writes {c['writes_by']}"
        )

        result["change"] = await change_latency(api, audit, ns, n, args.rate, args.change_seconds)
        ch = result["change"]
        log(
            f"N={n}: change p50={ch['p50']:.3f}s p99={ch['p99']:.3f}s "
            f"({ch['resolved']}/{ch['patches']}), {ch['writes']} writes {ch['writes_by']}"
        )

        await wait_quiet(audit, len(audit.events), ns)
        result["idle"] = await idle_window(audit, ns, pid, args.idle_seconds)
        i = result["idle"]
        log(
            f"N={n}: idle {i['seconds']:.0f}s cpu={i['cpu_percent']:.2f}% "
            f"rss={i['rss_mb']:.1f} MB writes={i['writes']}"
        )

        f_list = fl["list"][str(n)]["best"]
        result["restart"], pid = await restart(audit, ns, op, limit=f_list + 90)
        r = result["restart"]
        log(f"N={n}: restart idle after {r['idle_after']}s, writes={r['writes']} {r['writes_by']}")
    finally:
        op.stop()
    return result


# --- report ----------------------------------------------------------------------------
def verdicts(fl: dict[str, Any], rounds: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []

    def row(n: int | None, measure: str, value: str, target: str, ok: bool | None) -> None:
        verdict = "n/a" if ok is None else ("PASS" if ok else "MISS")
        rows.append(
            {"n": n, "measure": measure, "value": value, "target": target, "verdict": verdict}
        )

    rt = fl["rt"]["p50"]
    for n, r in rounds.items():
        f_patch = fl["patch"][str(n)]["best"]
        f_list = fl["list"][str(n)]["best"]
        c = r.get("cold")
        if c:
            if c["seconds"] is None:
                row(
                    n,
                    "cold convergence",
                    f"not converged ({c['ready']}/{c['entities']})",
                    "<= 2.5 x F_patch",
                    False if n >= 1000 else None,
                )
            else:
                ratio = c["seconds"] / f_patch
                row(
                    n,
                    "cold convergence",
                    f"{c['seconds']:.2f}s = {ratio:.1f} x F_patch ({f_patch:.2f}s)",
                    "<= 2.5 x F_patch",
                    ratio <= 2.5 if n >= 1000 else None,
                )
            row(
                n,
                "writes / created entity",
                f"{c['writes_per_entity']:.2f}",
                "<= 2",
                c["writes_per_entity"] <= 2,
            )
        ch = r.get("change")
        if ch:
            ratio = ch["p50"] / rt
            row(
                n,
                "change latency p50",
                f"{ch['p50'] * 1000:.0f}ms = {ratio:.1f} x F_rt",
                "<= 3 x F_rt",
                ratio <= 3 if n >= 1000 else None,
            )
            row(
                n,
                "change latency p99",
                f"{ch['p99'] * 1000:.0f}ms",
                "<= 1 s",
                ch["p99"] <= 1.0 if n >= 1000 else None,
            )
            row(
                n,
                "writes / spec change",
                f"{ch['writes_per_change']:.2f}",
                "<= 1",
                ch["writes_per_change"] <= 1,
            )
        i = r.get("idle")
        if i:
            row(
                n,
                "writes / unchanged resync",
                f"{i['writes']} in {i['seconds']:.0f}s idle",
                "0",
                i["writes"] == 0,
            )
            row(
                n,
                "idle CPU",
                f"{i['cpu_percent']:.2f}% of a core",
                "<= 2%",
                i["cpu_percent"] <= 2.0,
            )
            row(
                n,
                "idle RSS",
                f"{i['rss_mb']:.0f} MB (RSS(0) {r['rss0_mb']:.0f} MB)",
                "<= 300 MB at N=5000",
                i["rss_mb"] <= 300 if n >= 5000 else None,
            )
        rs = r.get("restart")
        if rs:
            row(n, "restart writes", str(rs["writes"]), "0", rs["writes"] == 0)
            if rs["idle_after"] is None:
                row(n, "restart: idle after", "not idle", "<= F_list+20s", False)
            else:
                limit = f_list + 20
                row(
                    n,
                    "restart: idle after",
                    f"{rs['idle_after']:.1f}s",
                    f"<= F_list+20s = {limit:.1f}s",
                    rs["idle_after"] <= limit,
                )
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    head = ["N", "measure", "value", "target", "verdict"]
    cells = [[str(r["n"]), r["measure"], r["value"], r["target"], r["verdict"]] for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(head)]
    lines = ["| " + " | ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)) + " |"]
    lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for c in cells:
        lines.append("| " + " | ".join(x.ljust(w) for x, w in zip(c, widths, strict=True)) + " |")
    return "\n".join(lines)


def install_crds(bins: Path, kubeconfig: Path) -> None:
    kubectl = [str(bins / "kubectl"), "--kubeconfig", str(kubeconfig)]
    crds = str(ROOT / "crds")
    subprocess.run([*kubectl, "apply", "-f", crds], check=True, capture_output=True)
    subprocess.run(
        [*kubectl, "wait", "--for=condition=Established", "-f", crds],
        check=True,
        capture_output=True,
    )


def bin_dir() -> Path:
    env = os.environ.get("PORTICO_BIN_DIR")
    if env:
        return Path(env)
    out = subprocess.run(
        [str(ROOT / "hack" / "build-binaries.sh")], capture_output=True, text=True, check=True
    )
    return Path(out.stdout.strip().splitlines()[-1])


async def scaffold_throughput(
    api: Api, cluster: LocalCluster, work: Path, count: int, limit: float
) -> dict[str, Any]:
    """Scaffolds against the GitHub contract fake: per minute, and GitHub writes per scaffold
    (GitHub allows 80 content-creating requests a minute and 500 an hour)."""
    ns = "bench-scaffold"
    with FakeGitHub(orgs=["acme"], user="portico-bot") as fake:
        await api.ensure_namespace(ns)
        await api.ensure_namespace("portico-system")
        secret = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "portico-github-token"},
            "stringData": {"token": fake.token},
        }
        await api.request("POST", "/api/v1/namespaces/portico-system/secrets", json=secret)
        config = yaml.safe_dump(
            {
                "github": {"apiUrl": fake.base_url, "throttle": False},
                "tenancy": {"rules": [{"namespaces": [ns], "publish": {"githubOwners": ["acme"]}}]},
            }
        )
        cm = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "portico-config"},
            "data": {"config.yaml": config},
        }
        await api.request("POST", "/api/v1/namespaces/portico-system/configmaps", json=cm)
        template = {
            "apiVersion": "portico.dev/v1alpha1",
            "kind": "Template",
            "metadata": {"name": "svc", "namespace": ns},
            "spec": {
                "owner": "group:platform",
                "skeleton": {
                    "files": [
                        {"path": f"src/file{i}.txt", "content": "{{ component.name }} " + str(i)}
                        for i in range(5)
                    ]
                },
                "publish": {"github": {"owner": "acme", "repoName": "{{ component.name }}"}},
            },
        }
        await api.request("POST", f"{GROUP_PATH}/namespaces/{ns}/templates", json=template)
        op = OperatorProcess(
            cluster.kubeconfig, work / "operator-scaffold.log", extra_args=("-n", ns)
        )
        await asyncio.to_thread(op.start)
        try:
            writes_before = len(fake.write_calls())
            started = time.monotonic()
            for i in range(count):
                await api.request(
                    "POST",
                    f"{GROUP_PATH}/namespaces/{ns}/components",
                    json={
                        "apiVersion": "portico.dev/v1alpha1",
                        "kind": "Component",
                        "metadata": {"name": f"svc-{i}", "namespace": ns},
                        "spec": {
                            "type": "service",
                            "lifecycle": "experimental",
                            "owner": "group:team",
                            "scaffold": {"templateRef": {"name": "svc"}},
                        },
                    },
                )
            done = 0
            while time.monotonic() - started < limit:
                items = (await api.list("components", ns))["items"]
                done = sum(
                    1
                    for c in items
                    if ((c.get("status") or {}).get("repository") or {}).get("commit")
                )
                if done == count:
                    break
                await asyncio.sleep(0.25)
            elapsed = time.monotonic() - started
            writes = (len(fake.write_calls()) - writes_before) / max(done, 1)
        finally:
            await asyncio.to_thread(op.stop)
    per_minute = done / elapsed * 60 if elapsed else 0.0
    fit = int(min(500, 80 * 60) // writes) if writes else 0
    log(
        f"scaffolds: {done}/{count} in {elapsed:.1f}s = {per_minute:.0f}/min, "
        f"{writes:.2f} GitHub writes each, {fit} fit in GitHub's hourly limit"
    )
    return {
        "count": count,
        "done": done,
        "seconds": elapsed,
        "per_minute": per_minute,
        "writes_per_scaffold": writes,
        "fit_per_hour": fit,
    }


async def main_async(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    bins = bin_dir()
    cluster = LocalCluster(bins, work / "cluster")
    report: dict[str, Any] = {
        "started": datetime.now().isoformat(timespec="seconds"),
        "sizes": args.sizes,
        "cpus": os.cpu_count(),
    }
    api: Api | None = None
    try:
        log("starting the control plane")
        cluster.start()
        await asyncio.to_thread(install_crds, bins, cluster.kubeconfig)
        report["kubernetes"] = cluster.version()
        api = Api(cluster.kubeconfig)
        audit = Audit(cluster.audit_log, api)
        fl = await floors(api, args.sizes)
        report["floors"] = fl
        rounds: dict[int, dict[str, Any]] = {}
        report["rounds"] = rounds
        for n in args.sizes:
            rounds[n] = await round_for(api, audit, cluster, n, fl, args, work)
        rows = verdicts(fl, rounds)
        report["verdicts"] = rows
        print()
        print(
            f"floors: F_rt p50={fl['rt']['p50'] * 1000:.1f}ms "
            f"p99={fl['rt']['p99'] * 1000:.1f}ms; "
            + "; ".join(
                f"N={n}: F_patch={fl['patch'][str(n)]['best']:.2f}s "
                f"F_list={fl['list'][str(n)]['best'] * 1000:.0f}ms "
                f"(creating N: {fl['create'][str(n)]:.2f}s)"
                for n in args.sizes
            )
        )
        if args.scaffolds:
            sc = await scaffold_throughput(api, cluster, work, args.scaffolds, args.cold_timeout)
            report["scaffolding"] = sc
            rows.append(
                {
                    "n": "-",
                    "measure": "GitHub writes / scaffold",
                    "value": f"{sc['writes_per_scaffold']:.2f} ({sc['per_minute']:.0f} "
                    f"scaffolds/min; {sc['fit_per_hour']}/h fit GitHub's limits)",
                    "target": "<= 5",
                    "verdict": "PASS" if sc["writes_per_scaffold"] <= 5 else "MISS",
                }
            )
        print(table(rows))
    finally:
        if api is not None:
            await api.aclose()
        cluster.stop()
        report["finished"] = datetime.now().isoformat(timespec="seconds")
    return report


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument(
        "--sizes", default="100,1000", type=lambda s: [int(x) for x in s.split(",") if x]
    )
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "latest.json")
    p.add_argument("--rate", type=float, default=20.0, help="spec changes per second")
    p.add_argument("--change-seconds", type=float, default=10.0)
    p.add_argument("--idle-seconds", type=float, default=60.0)
    p.add_argument("--cold-timeout", type=float, default=300.0)
    p.add_argument("--keep", action="store_true", help="keep the etcd data directory")
    p.add_argument("--scaffolds", type=int, default=20, help="scaffolds to time; 0: skip")
    args = p.parse_args()
    work = Path(tempfile.mkdtemp(prefix="portico-bench-"))
    log(f"work directory {work}")
    t0 = time.monotonic()
    try:
        report = asyncio.run(main_async(args, work))
    finally:
        if not args.keep:
            shutil.rmtree(work / "cluster" / "etcd", ignore_errors=True)
        log(f"logs in {work} (operator-N.log, cluster/audit.log)")
    report["wall_seconds"] = time.monotonic() - t0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, default=str))
    log(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

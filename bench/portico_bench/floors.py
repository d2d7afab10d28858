"""The floors: what the API server allows, measured once per run before any operator
starts, on the same control plane and with the same HTTP stack. Measures read them through
`harness.Floors` (`rnd.floors` in a round); the JSON keeps the raw dict (`Floors.raw`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import Any

from portico_bench.catalog import PLURALS, catalog, component
from portico_bench.harness import Floors, log, pct
from portico_bench.kube import Api, Watcher, WatchEvent, bounded


def generation_of_c0(gen: int) -> Callable[[WatchEvent], bool]:
    """Matches a watch event of `c-0` at generation `gen` or later."""
    return lambda e: e.name == "c-0" and e.generation >= gen


async def cold_floor(api: Api, n: int) -> float:
    """F_cold(N): the catalog of measure 1 created at concurrency 32, each entity followed
    by one status write, as an ideal operator would cost the API server; no operator runs.
    Cold convergence cannot be faster than this on the same machine."""
    ns = f"floor-cold-{n}"
    await api.ensure_namespace(ns)
    body = {"status": {"observedGeneration": 1}}

    async def one(obj: dict[str, Any]) -> None:
        await api.create(obj)
        plural = PLURALS[obj["kind"]]
        await api.patch(plural, ns, obj["metadata"]["name"], body, status=True)

    objs = catalog(n, ns)
    t = time.monotonic()
    await bounded([partial(one, o) for o in objs], 32)
    seconds = time.monotonic() - t
    for plural in PLURALS.values():
        await api.delete_all(plural, ns)
    return seconds


async def measure_floors(api: Api, sizes: list[int]) -> Floors:
    """F_patch(N), F_list(N) and F_cold(N) for each N, then F_rt; no operator is running.
    The floor objects are deleted afterwards."""
    out: dict[str, Any] = {"patch": {}, "list": {}, "cold": {}}
    for n in sizes:
        ns = f"floor-{n}"
        await api.ensure_namespace(ns)
        objs = [component(f"c-{i}", ns, "sys-0", "api-0") for i in range(n)]
        t = time.monotonic()
        await bounded([partial(api.create, o) for o in objs], 32)
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
                partial(api.patch, "components", ns, f"c-{i}", body, status=True) for i in range(n)
            ]
            t = time.monotonic()
            await bounded(jobs, conc)
            per_level[str(conc)] = time.monotonic() - t
        out["patch"][str(n)] = {"best": min(per_level.values()), "by_concurrency": per_level}
        out["list"][str(n)] = {"best": min(lists), "all": lists}
        out["cold"][str(n)] = await cold_floor(api, n)
        log(
            f"floor N={n}: F_patch={min(per_level.values()):.3f}s {per_level}, "
            f"F_list={min(lists):.3f}s, create N (context)={out['create'][str(n)]:.3f}s, "
            f"F_cold={out['cold'][str(n)]:.3f}s"
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
            seen = await watcher.wait(generation_of_c0(gen), since, 10)
            rts.append(seen - t)
    finally:
        await watcher.stop()
    out["rt"] = {"p50": pct(rts, 0.5), "p99": pct(rts, 0.99), "n": len(rts)}
    log(f"floor F_rt p50={out['rt']['p50'] * 1000:.1f}ms p99={out['rt']['p99'] * 1000:.1f}ms")
    for n in sizes:
        await api.delete_all("components", f"floor-{n}")
    return Floors(out)

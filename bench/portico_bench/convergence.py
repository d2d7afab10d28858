"""Measure 1, cold convergence: create the catalog (N Components, N/50 Systems, N/10 APIs)
with the operator running, until every entity is Ready for its current generation; over
F_patch(N). Also measure 3's writes per created entity."""

from __future__ import annotations

import asyncio
import time
from functools import partial

from portico_bench.catalog import PLURALS, catalog, is_ready
from portico_bench.harness import CLK_TCK, Floors, Measure, Result, Round, Rows, cpu_ticks
from portico_bench.kube import Watcher, all_entities, bounded
from portico_bench.writes import breakdown, wait_quiet, window_writes


async def run(rnd: Round) -> Result:
    """Create the catalog at concurrency 32; converged when the watches (one per kind) show
    every entity Ready with a current observedGeneration -- the arrival time of the last
    event that made an entity Ready -- confirmed by a LIST."""
    api, audit, ns, pid = rnd.api, rnd.audit, rnd.ns, rnd.pid
    limit = rnd.options.cold_timeout
    objs = catalog(rnd.n, ns)
    watchers = [Watcher(api, plural, ns) for plural in PLURALS.values()]
    for w in watchers:
        await w.start()
    start = await audit.mark()
    created: list[float] = []

    async def create_all() -> None:
        await bounded([partial(api.create, o) for o in objs], 32)
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
    writes = await window_writes(audit, start, ns)
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


def summary(c: Result) -> str:
    return (
        f"cold convergence {c['seconds']}s ({c['ready']}/{c['entities']} ready, "
        f"created in {c['created_in']}s, operator CPU {c['operator_cpu_seconds']}s), "
        f"{c['writes']} writes {c['writes_by']}"
    )


def verdicts(rows: Rows, floors: Floors, n: int, r: Result) -> None:
    c = r["cold"]
    f_patch = floors.f_patch(n)
    if c["seconds"] is None:
        rows.add(
            n,
            "cold convergence",
            f"not converged ({c['ready']}/{c['entities']})",
            "<= 2.5 x F_patch",
            False if n >= 1000 else None,
        )
    else:
        ratio = c["seconds"] / f_patch
        rows.add(
            n,
            "cold convergence",
            f"{c['seconds']:.2f}s = {ratio:.1f} x F_patch ({f_patch:.2f}s)",
            "<= 2.5 x F_patch",
            ratio <= 2.5 if n >= 1000 else None,
        )
        f_cold = floors.f_cold(n)
        if f_cold is not None:  # context: what no operator can beat on this machine
            rows.add(
                n,
                "cold convergence vs F_cold",
                f"{c['seconds'] / f_cold:.2f} x F_cold ({f_cold:.2f}s = "
                f"{f_cold / f_patch:.1f} x F_patch)",
                "F_cold: create + 1 status write each, no operator",
                None,
            )
    rows.add(
        n,
        "writes / created entity",
        f"{c['writes_per_entity']:.2f}",
        "<= 1.2",
        c["writes_per_entity"] <= 1.2,
    )


MEASURE = Measure(key="cold", run=run, summary=summary, verdicts=verdicts)

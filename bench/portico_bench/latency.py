"""Measure 2, change latency: patch `spec.description` of random Components at a steady
rate; for each, the time from sending the patch to the watch event whose
observedGeneration reaches the new generation. p50 over F_rt, p99 in seconds. Also
measure 3's writes per spec change."""

from __future__ import annotations

import asyncio
import random
import time

from portico_bench.harness import Floors, Measure, Result, Round, Rows, pct
from portico_bench.kube import Watcher
from portico_bench.writes import breakdown, wait_quiet, window_writes


async def run(rnd: Round) -> Result:
    api, audit, ns, n = rnd.api, rnd.audit, rnd.ns, rnd.n
    rate, seconds = rnd.options.rate, rnd.options.change_seconds
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
    writes = await window_writes(audit, start, ns)
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


def summary(ch: Result) -> str:
    return (
        f"change p50={ch['p50']:.3f}s p99={ch['p99']:.3f}s "
        f"({ch['resolved']}/{ch['patches']}), {ch['writes']} writes {ch['writes_by']}"
    )


def verdicts(rows: Rows, floors: Floors, n: int, r: Result) -> None:
    ch = r["change"]
    ratio = ch["p50"] / floors.f_rt_p50
    rows.add(
        n,
        "change latency p50",
        f"{ch['p50'] * 1000:.0f}ms = {ratio:.1f} x F_rt",
        "<= 3 x F_rt",
        ratio <= 3 if n >= 1000 else None,
    )
    rows.add(
        n,
        "change latency p99",
        f"{ch['p99'] * 1000:.0f}ms",
        "<= 1 s",
        ch["p99"] <= 1.0 if n >= 1000 else None,
    )
    rows.add(
        n,
        "writes / spec change",
        f"{ch['writes_per_change']:.2f}",
        "<= 1",
        ch["writes_per_change"] <= 1,
    )


MEASURE = Measure(key="change", run=run, summary=summary, verdicts=verdicts)

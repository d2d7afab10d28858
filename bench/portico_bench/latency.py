"""Measure 2, change latency: patch `spec.description` of random Components at a steady
rate; for each, the time from sending the patch to the watch event whose
observedGeneration reaches the new generation. p50 over F_rt, p99 in seconds. Also
measure 3's writes per spec change."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable

from portico_bench.harness import Floors, Measure, Result, Round, Rows, pct
from portico_bench.kube import Watcher
from portico_bench.writes import breakdown, wait_quiet, window_writes

Patch = tuple[str, float, int]
"""One spec change: the Component's name, when the patch was sent (monotonic) and the
generation it produced."""


async def send_changes(
    rnd: Round, names: Callable[[], str], rate: float, seconds: float, text: str
) -> list[Patch]:
    """Patch `spec.description` of `names()` at `rate` a second for `seconds`, each patch
    in its own task (a slow answer does not delay the next); the patches once all answered."""
    api, ns = rnd.api, rnd.ns
    patches: list[Patch] = []

    async def one(name: str, i: int) -> None:
        t = time.monotonic()
        resp = await api.patch("components", ns, name, {"spec": {"description": f"{text} {i}"}})
        patches.append((name, t, resp["metadata"]["generation"]))

    tasks = []
    t0 = time.monotonic()
    for i in range(int(rate * seconds)):
        delay = t0 + i / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(names(), i)))
    await asyncio.gather(*tasks)
    return patches


async def latencies(watcher: Watcher, patches: list[Patch], limit: float = 30.0) -> list[float]:
    """For each patch, the time to the first watch event of its Component, after it was
    sent, whose observedGeneration reaches its generation; waits up to `limit` for them all.
    Patches never resolved are left out."""
    found: dict[int, float] = {}
    deadline = time.monotonic() + limit
    seen = 0
    pending = {i: p for i, p in enumerate(patches)}
    by_name: dict[str, list[int]] = {}
    for i, (name, _, _) in pending.items():
        by_name.setdefault(name, []).append(i)
    while pending and time.monotonic() < deadline:
        for e in watcher.events[seen:]:
            for i in by_name.get(e.name, ()):
                if i not in pending:
                    continue
                _, t, gen = pending[i]
                if e.t >= t and e.observed is not None and e.observed >= gen:
                    found[i] = e.t - t
                    del pending[i]
        seen = len(watcher.events)
        await asyncio.sleep(0.5)
    return [found[i] for i in sorted(found)]


async def run(rnd: Round) -> Result:
    api, audit, ns, n = rnd.api, rnd.audit, rnd.ns, rnd.n
    watcher = Watcher(api, "components", ns)
    await watcher.start()
    start = await audit.mark()
    rng = random.Random(n)
    patches = await send_changes(
        rnd, lambda: f"c-{rng.randrange(n)}", rnd.options.rate, rnd.options.change_seconds, "change"
    )
    lat = await latencies(watcher, patches)
    await watcher.stop()
    await wait_quiet(audit, start, ns)
    writes = await window_writes(audit, start, ns)
    return {
        "patches": len(patches),
        "resolved": len(lat),
        **figures(lat),
        "writes": len(writes),
        "writes_per_change": len(writes) / max(1, len(patches)),
        "writes_by": breakdown(writes),
    }


def figures(lat: list[float]) -> Result:
    return {
        "p50": pct(lat, 0.5),
        "p99": pct(lat, 0.99),
        "max": max(lat) if lat else float("nan"),
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

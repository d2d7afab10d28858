"""Measure 7, change latency under churn: measure 2 again (the same rate and duration, the
same patch -> watch event timing) while a background task patches `spec.description` of
other Components at 50 changes/s. Only the foreground patches are timed: they go to the
even-numbered Components, the churn to the odd-numbered ones. p50 over F_rt, p99 in
seconds; and the writes per spec change over the whole window (both kinds of change)."""

from __future__ import annotations

import asyncio
import random

from portico_bench.harness import Floors, Measure, Result, Round, Rows
from portico_bench.kube import Watcher
from portico_bench.latency import figures, latencies, send_changes
from portico_bench.writes import breakdown, wait_quiet, window_writes

CHURN_RATE = 50.0  # background changes a second
LEAD = 1.0  # seconds of churn before the first timed change, and after the last


async def run(rnd: Round) -> Result:
    api, audit, ns, n = rnd.api, rnd.audit, rnd.ns, rnd.n
    rate, seconds = rnd.options.rate, rnd.options.change_seconds
    evens, odds = max(1, (n + 1) // 2), max(1, n // 2)
    fg_rng, bg_rng = random.Random(n), random.Random(n + 1)
    watcher = Watcher(api, "components", ns)
    await watcher.start()
    start = await audit.mark()
    churn = asyncio.create_task(
        send_changes(
            rnd,
            lambda: f"c-{2 * bg_rng.randrange(odds) + 1}" if n > 1 else "c-0",
            CHURN_RATE,
            seconds + 2 * LEAD,
            "churn",
        )
    )
    await asyncio.sleep(LEAD)
    patches = await send_changes(
        rnd, lambda: f"c-{2 * fg_rng.randrange(evens)}", rate, seconds, "timed change"
    )
    background = await churn
    lat = await latencies(watcher, patches)
    await watcher.stop()
    await wait_quiet(audit, start, ns)
    writes = await window_writes(audit, start, ns)
    changes = len(patches) + len(background)
    return {
        "patches": len(patches),
        "resolved": len(lat),
        "churn_rate": CHURN_RATE,
        "churn_patches": len(background),
        **figures(lat),
        "writes": len(writes),
        "writes_per_change": len(writes) / max(1, changes),
        "writes_by": breakdown(writes),
    }


def summary(ch: Result) -> str:
    return (
        f"change under churn p50={ch['p50']:.3f}s p99={ch['p99']:.3f}s "
        f"({ch['resolved']}/{ch['patches']}, {ch['churn_patches']} churn patches), "
        f"{ch['writes']} writes {ch['writes_by']}"
    )


def verdicts(rows: Rows, floors: Floors, n: int, r: Result) -> None:
    ch = r["churn"]
    ratio = ch["p50"] / floors.f_rt_p50
    rows.add(
        n,
        "change latency under churn p50",
        f"{ch['p50'] * 1000:.0f}ms = {ratio:.1f} x F_rt",
        "<= 3 x F_rt",
        ratio <= 3 if n >= 1000 else None,
    )
    rows.add(
        n,
        "change latency under churn p99",
        f"{ch['p99'] * 1000:.0f}ms",
        "<= 1 s",
        ch["p99"] <= 1.0 if n >= 1000 else None,
    )
    rows.add(
        n,
        "writes / spec change under churn",
        f"{ch['writes_per_change']:.2f}",
        "<= 1",
        ch["writes_per_change"] <= 1,
    )


MEASURE = Measure(key="churn", run=run, summary=summary, verdicts=verdicts)

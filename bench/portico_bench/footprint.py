"""Measure 5, idle footprint: once the operator has made no write for 5 s, its RSS and CPU
over an idle window, vs RSS(0) (recorded by the harness 2 s after the operator started).
Also measure 3's writes per unchanged resync (the idle window must cost 0 writes)."""

from __future__ import annotations

import asyncio
import time

from portico_bench.harness import CLK_TCK, Floors, Measure, Result, Round, Rows, cpu_ticks, rss_mb
from portico_bench.writes import breakdown, wait_quiet, window_writes


async def run(rnd: Round) -> Result:
    audit, ns, pid, seconds = rnd.audit, rnd.ns, rnd.pid, rnd.options.idle_seconds
    await wait_quiet(audit, len(audit.events), ns)
    start = await audit.mark()
    c0, t0 = cpu_ticks(pid), time.monotonic()
    rss = []
    while time.monotonic() - t0 < seconds:
        await asyncio.sleep(1.0)
        rss.append(rss_mb(pid))
    c1, t1 = cpu_ticks(pid), time.monotonic()
    writes = await window_writes(audit, start, ns)
    return {
        "seconds": t1 - t0,
        "cpu_percent": 100.0 * (c1 - c0) / CLK_TCK / (t1 - t0),
        "rss_mb": rss[-1] if rss else rss_mb(pid),
        "rss_max_mb": max(rss) if rss else rss_mb(pid),
        "writes": len(writes),
        "writes_by": breakdown(writes),
    }


def summary(i: Result) -> str:
    return (
        f"idle {i['seconds']:.0f}s cpu={i['cpu_percent']:.2f}% "
        f"rss={i['rss_mb']:.1f} MB writes={i['writes']}"
    )


def verdicts(rows: Rows, floors: Floors, n: int, r: Result) -> None:
    i = r["idle"]
    rows.add(
        n,
        "writes / unchanged resync",
        f"{i['writes']} in {i['seconds']:.0f}s idle",
        "0",
        i["writes"] == 0,
    )
    rows.add(
        n,
        "idle CPU",
        f"{i['cpu_percent']:.2f}% of a core",
        "<= 2%",
        i["cpu_percent"] <= 2.0,
    )
    rows.add(
        n,
        "idle RSS",
        f"{i['rss_mb']:.0f} MB (RSS(0) {r['rss0_mb']:.0f} MB)",
        "<= 400 MB at N=10000",
        i["rss_mb"] <= 400 if n >= 10000 else None,
    )


MEASURE = Measure(key="idle", run=run, summary=summary, verdicts=verdicts)

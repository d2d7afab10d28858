"""Measure 4, restart: stop the operator (SIGTERM) and start it again with nothing changed;
the time until it is idle and the writes it made (must be 0), vs F_list(N) + 20 s. Gives
up after F_list(N) + 90 s."""

from __future__ import annotations

import asyncio
import time

from portico_bench.harness import (
    CLK_TCK,
    Floors,
    Measure,
    Result,
    Round,
    Rows,
    cpu_ticks,
    operator_pid,
)
from portico_bench.writes import breakdown, window_writes


async def run(rnd: Round) -> Result:
    """Stop, start again, wait until idle: no operator write and CPU below 10% of a core
    (1 s samples) for 5 s. Sets the round's new pid."""
    audit, ns, op = rnd.audit, rnd.ns, rnd.op
    limit = rnd.floors.f_list(rnd.n) + 90
    op.stop()
    start = await audit.mark()
    t0 = time.monotonic()
    op.start(timeout=60)
    pid = rnd.pid = operator_pid(op)
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
    cpu_seconds = cpu_ticks(pid) / CLK_TCK  # the new process's CPU, start-up included
    writes = await window_writes(audit, start, ns)
    return {
        "cpu_seconds": round(cpu_seconds, 2),
        "healthy_after": healthy,
        "idle_after": idle_at,
        "writes": len(writes),
        "writes_by": breakdown(writes),
        "cpu_trace": trace,
    }


def summary(r: Result) -> str:
    return (
        f"restart idle after {r['idle_after']}s, {r['cpu_seconds']} CPU-s, "
        f"writes={r['writes']} {r['writes_by']}"
    )


def verdicts(rows: Rows, floors: Floors, n: int, r: Result) -> None:
    rs = r["restart"]
    rows.add(n, "restart writes", str(rs["writes"]), "0", rs["writes"] == 0)
    if rs["idle_after"] is None:
        rows.add(n, "restart: idle after", "not idle", "<= F_list+20s", False)
    else:
        limit = floors.f_list(n) + 20
        rows.add(
            n,
            "restart: idle after",
            f"{rs['idle_after']:.1f}s",
            f"<= F_list+20s = {limit:.1f}s",
            rs["idle_after"] <= limit,
        )
    rows.add(n, "restart: CPU-seconds", f"{rs['cpu_seconds']:.1f}", "CPU(10k)/CPU(1k) <= 12", None)


MEASURE = Measure(key="restart", run=run, summary=summary, verdicts=verdicts)

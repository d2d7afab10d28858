"""Measure 9, failover of an HA pair: the active replica dies (SIGKILL, as a node failure
would: no goodbye), the standby takes over; the time until the standby is idle and the
writes it made (must be 0: the catalog did not change), vs lifetime + F_list(N) + 20 s.

The round's operator runs standalone, so this measure stops it and starts a pair instead:
two `portico run --namespace bench-N` processes with `PORTICO_PEERING=portico-bench`, a
short `PORTICO_PEERING_LIFETIME` (LIFETIME) and `POD_ID` set (kopf's identity, so the peering
record names each replica). A namespaced kopf operator peers through a namespaced KopfPeering
object, which the operator does not create (it creates the ClusterKopfPeering only), so the
measure installs both peering CRDs and creates the KopfPeering itself.

Once both are idle, the active one (the highest priority in the KopfPeering's status) is
SIGKILLed. SIGTERM would remove its peering record on the way out and the standby would take
over at once; SIGKILL leaves the record to expire after the lifetime. Idle: the standby has
logged kopf's "Resuming operations" and then made no write and used under 10 % of a core
(1 s samples) for 5 s; the time reported is the start of that quiet period. Writes to the
KopfPeering (keep-alives, removing the dead peer) are not catalog writes and are left out
(the local control plane's audit policy does not log kopf.dev anyway). The standby stays as
the round's operator (`rnd.op`, `rnd.pid`); the measure goes last."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable
from typing import Any

import yaml

from portico_bench import ROOT
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
from portico_bench.kube import Api
from portico_bench.writes import Audit, breakdown
from support.operator import OperatorProcess

PEERING = "portico-bench"
LIFETIME = 10  # seconds: kopf's keep-alives come every 1-5 s
PEERINGS = "/apis/kopf.dev/v1/namespaces/{ns}/kopfpeerings"
CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"


async def ensure_peering(api: Api, ns: str) -> None:
    """The ClusterKopfPeering CRD (deploy/peering), its namespaced twin KopfPeering, and the
    KopfPeering object the pair peers on."""
    cluster_crd = yaml.safe_load((ROOT / "deploy/peering/clusterkopfpeerings.yaml").read_text())
    ns_crd = yaml.safe_load(yaml.safe_dump(cluster_crd))
    ns_crd["metadata"]["name"] = "kopfpeerings.kopf.dev"
    ns_crd["spec"]["scope"] = "Namespaced"
    ns_crd["spec"]["names"] = {
        "kind": "KopfPeering",
        "plural": "kopfpeerings",
        "singular": "kopfpeering",
    }
    for crd in (cluster_crd, ns_crd):
        r = await api.http.post(CRDS, json=crd)
        if r.status_code not in (201, 409):
            raise RuntimeError(f"CRD {crd['metadata']['name']}: {r.status_code} {r.text[:300]}")
    body = {"apiVersion": "kopf.dev/v1", "kind": "KopfPeering", "metadata": {"name": PEERING}}
    deadline = time.monotonic() + 30
    while True:  # until the new CRD is served
        r = await api.http.post(PEERINGS.format(ns=ns), json=body)
        if r.status_code in (201, 409):
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"KopfPeering {PEERING}: {r.status_code} {r.text[:300]}")
        await asyncio.sleep(0.5)


def catalog_writes(
    audit: Audit, start: int, ns: str, end: int | None = None
) -> list[dict[str, Any]]:
    """The operator's writes in `ns` from `start` (to `end`), without peering keep-alives."""
    return [
        e
        for e in audit.operator_writes(start, end, ns=ns)
        if (e.get("objectRef") or {}).get("resource") != "kopfpeerings"
    ]


async def wait_idle(
    audit: Audit,
    ns: str,
    pids: list[int],
    start: int,
    limit: float,
    armed: Callable[[], bool] = lambda: True,
) -> tuple[float | None, list[float]]:
    """Seconds from now until the processes were idle (see the module), once `armed()`;
    None after `limit`. Also the CPU trace of the first pid (% of a core per second)."""
    t0 = last_busy = time.monotonic()
    ticks = [cpu_ticks(p) for p in pids]
    count = 0
    trace: list[float] = []
    was_armed = False
    while time.monotonic() - t0 < limit:
        await asyncio.sleep(1.0)
        now_ticks = [cpu_ticks(p) for p in pids]
        trace.append(round(100.0 * (now_ticks[0] - ticks[0]) / CLK_TCK, 1))
        audit.poll()
        c = len(catalog_writes(audit, start, ns))
        busy = any(b - a > 0.10 * CLK_TCK for a, b in zip(ticks, now_ticks, strict=True))
        if c != count or busy or not was_armed:
            last_busy = time.monotonic()
        count, ticks = c, now_ticks
        was_armed = was_armed or armed()
        if was_armed and time.monotonic() - last_busy >= 5.0:
            return last_busy - t0, trace
    return None, trace


async def active_identity(api: Api, ns: str, identities: list[str]) -> str:
    """The replica kopf lets work: the highest priority among the live peers."""
    deadline = time.monotonic() + 30
    while True:
        peering = await api.request("GET", f"{PEERINGS.format(ns=ns)}/{PEERING}")
        peers = peering.get("status") or {}
        if all(i in peers for i in identities):
            return max(identities, key=lambda i: int(peers[i]["priority"]))
        if time.monotonic() > deadline:
            raise RuntimeError(f"KopfPeering {PEERING} lists {sorted(peers)}, not {identities}")
        await asyncio.sleep(0.5)


async def run(rnd: Round) -> Result:
    api, audit, ns, n = rnd.api, rnd.audit, rnd.ns, rnd.n
    f_list = rnd.floors.f_list(n)
    await ensure_peering(api, ns)
    rnd.op.stop()
    pair: dict[str, OperatorProcess] = {}
    for side in ("a", "b"):
        identity = f"bench-{n}-{side}"
        env = {
            "PORTICO_PEERING": PEERING,
            "PORTICO_PEERING_LIFETIME": str(LIFETIME),
            "POD_ID": identity,
        }
        log_path = rnd.bench.work / f"operator-{n}-{identity}.log"
        pair[identity] = OperatorProcess(
            rnd.bench.cluster.kubeconfig, log_path, env, ("--namespace", ns)
        )
    try:
        for op in pair.values():
            op.start(timeout=60)
        pids = {i: operator_pid(op) for i, op in pair.items()}
        settled, _ = await wait_idle(
            audit, ns, list(pids.values()), len(audit.events), f_list + 120
        )
        active = await active_identity(api, ns, list(pair))
        standby = next(i for i in pair if i != active)
        stand = pair[standby]
        log_from = len(stand.log())
        start = await audit.mark()
        ticks0 = cpu_ticks(pids[standby])
        pair[active].stop(signal.SIGKILL)
        t0 = time.monotonic()
        resumed: list[float] = []

        def armed() -> bool:
            if not resumed and "Resuming operations" in stand.log()[log_from:]:
                resumed.append(time.monotonic() - t0)
            return bool(resumed)

        idle_at, trace = await wait_idle(
            audit, ns, [pids[standby]], start, LIFETIME + f_list + 90, armed
        )
        cpu_seconds = (cpu_ticks(pids[standby]) - ticks0) / CLK_TCK
    except BaseException:
        for op in pair.values():
            op.stop()
        raise
    rnd.op, rnd.pid = stand, pids[standby]  # the survivor is the round's operator now
    end = await audit.mark()
    writes = catalog_writes(audit, start, ns, end)
    return {
        "lifetime": LIFETIME,
        "signal": "SIGKILL",
        "pair_settled_after": settled,
        "active": active,
        "resumed_after": resumed[0] if resumed else None,
        "idle_after": idle_at,
        "cpu_seconds": round(cpu_seconds, 2),
        "writes": len(writes),
        "writes_by": breakdown(writes),
        "cpu_trace": trace,
    }


def summary(r: Result) -> str:
    return (
        f"failover (lifetime {r['lifetime']}s, {r['signal']}): standby resumed after "
        f"{r['resumed_after']}s, idle after {r['idle_after']}s, {r['cpu_seconds']} CPU-s, "
        f"writes={r['writes']} {r['writes_by']}"
    )


def verdicts(rows: Rows, floors: Floors, n: int, r: Result) -> None:
    fo = r["failover"]
    limit = fo["lifetime"] + floors.f_list(n) + 20
    target = f"<= lifetime+F_list+20s = {limit:.1f}s"
    if fo["idle_after"] is None:
        rows.add(n, "failover: standby idle after", "not idle", target, False)
    else:
        value = f"{fo['idle_after']:.1f}s (resumed {fo['resumed_after']:.1f}s)"
        rows.add(n, "failover: standby idle after", value, target, fo["idle_after"] <= limit)
    rows.add(n, "failover writes", str(fo["writes"]), "0", fo["writes"] == 0)
    rows.add(n, "failover: CPU-seconds", f"{fo['cpu_seconds']:.1f}", "(for information)", None)


MEASURE = Measure(key="failover", run=run, summary=summary, verdicts=verdicts)

"""Measure 8, burst: min(N, 1000) Deployments lose their pods at once (a node drains).

The control plane runs no controller-manager, so the bench plays its part: it creates
Deployment `d-<i>` (labels `app: c-<i>`) for Components c-0 .. c-(B-1), writes each one's
status as fully available, then points each Component at its Deployment
(`spec.observe.kubernetes.selector.matchLabels`) and waits until every one is Healthy and
the operator is quiet. Then it patches every Deployment's status to 0 available replicas
(Available=False) as fast as it can (concurrency 32) and times, from the first patch, the
watch event that shows each Component Progressing (Argo CD's rule for replicas not
available, domain/workloads.py). Writes in the burst window are counted per System (roll-
ups), per Component and per API. The Deployments stay: the measures after it (idle
footprint, restart, failover) see them as part of an unchanged catalog."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from datetime import datetime
from functools import partial
from typing import Any

from portico_bench.harness import Floors, Measure, Result, Round, Rows
from portico_bench.kube import MERGE, Api, Watcher, bounded
from portico_bench.writes import breakdown, wait_quiet, window_writes

MAX_DEPLOYMENTS = 1000
CONCURRENCY = 32
EXPECTED = "Progressing"  # 0 of 1 replicas available (domain/workloads.py)
LIMIT = 120.0  # seconds to wait for Healthy, and for the burst to show


def deployment(name: str, ns: str, app: str) -> dict[str, Any]:
    labels = {"app": app}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns, "labels": labels},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "app", "image": "portico.dev/bench:1"}]},
            },
        },
    }


def deployment_status(available: bool) -> dict[str, Any]:
    """A Deployment at generation 1 with its one replica available, or drained."""
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    up = 1 if available else 0
    return {
        "status": {
            "observedGeneration": 1,
            "replicas": 1,
            "updatedReplicas": 1,
            "readyReplicas": up,
            "availableReplicas": up,
            "unavailableReplicas": 1 - up,
            "conditions": [
                {
                    "type": "Available",
                    "status": "True" if available else "False",
                    "reason": "MinimumReplicasAvailable"
                    if available
                    else "MinimumReplicasUnavailable",
                    "lastUpdateTime": now,
                    "lastTransitionTime": now,
                },
                {
                    "type": "Progressing",
                    "status": "True",
                    "reason": "NewReplicaSetAvailable",
                    "lastUpdateTime": now,
                    "lastTransitionTime": now,
                },
            ],
        }
    }


async def set_status(api: Api, ns: str, name: str, available: bool) -> None:
    await api.request(
        "PATCH",
        f"/apis/apps/v1/namespaces/{ns}/deployments/{name}/status",
        content=json.dumps(deployment_status(available)),
        headers=MERGE,
    )


async def create_deployment(api: Api, ns: str, i: int) -> None:
    path = f"/apis/apps/v1/namespaces/{ns}/deployments"
    await api.request("POST", path, json=deployment(f"d-{i}", ns, f"c-{i}"))
    await set_status(api, ns, f"d-{i}", True)


async def observe(api: Api, ns: str, i: int) -> None:
    selector = {"selector": {"matchLabels": {"app": f"c-{i}"}}}
    await api.patch("components", ns, f"c-{i}", {"spec": {"observe": {"kubernetes": selector}}})


async def wait_health(
    watcher: Watcher, names: set[str], health: str, since: float, limit: float
) -> float | None:
    """The arrival time of the last first-event (after `since`) that showed each of `names`
    with `health`; None if some never did within `limit`."""
    first: dict[str, float] = {}
    seen = 0
    deadline = time.monotonic() + limit
    while len(first) < len(names) and time.monotonic() < deadline:
        for e in watcher.events[seen:]:
            if e.t >= since and e.health == health and e.name in names:
                first.setdefault(e.name, e.t)
        seen = len(watcher.events)
        if len(first) < len(names):
            await asyncio.sleep(0.2)  # the events keep their arrival times
    return max(first.values()) if len(first) == len(names) else None


def per_name(writes: list[dict[str, Any]], resource: str) -> Counter[str]:
    return Counter(
        (e.get("objectRef") or {}).get("name", "")
        for e in writes
        if (e.get("objectRef") or {}).get("resource") == resource
    )


def write_times(writes: list[dict[str, Any]], resource: str, t0: float) -> dict[str, list[float]]:
    """For each object of `resource`, when its writes were received, in seconds after the
    wall-clock time `t0` (the audit log's requestReceivedTimestamp)."""
    out: dict[str, list[float]] = {}
    for e in writes:
        ref = e.get("objectRef") or {}
        if ref.get("resource") == resource:
            at = datetime.fromisoformat(e["requestReceivedTimestamp"].replace("Z", "+00:00"))
            out.setdefault(ref.get("name", ""), []).append(round(at.timestamp() - t0, 2))
    return out


async def run(rnd: Round) -> Result:
    api, audit, ns, n = rnd.api, rnd.audit, rnd.ns, rnd.n
    count = min(n, MAX_DEPLOYMENTS)
    names = {f"c-{i}" for i in range(count)}
    n_sys = max(1, n // 50)
    systems = {f"sys-{i % n_sys}" for i in range(count)}
    watcher, sys_watcher = Watcher(api, "components", ns), Watcher(api, "systems", ns)
    await watcher.start()
    await sys_watcher.start()
    try:
        t_setup = time.monotonic()
        await bounded([partial(create_deployment, api, ns, i) for i in range(count)], CONCURRENCY)
        await bounded([partial(observe, api, ns, i) for i in range(count)], CONCURRENCY)
        healthy = await wait_health(watcher, names, "Healthy", t_setup, LIMIT)
        if healthy is None:
            raise RuntimeError(f"burst: not every observing Component became Healthy in {LIMIT}s")
        await wait_quiet(audit, len(audit.events), ns)
        start = await audit.mark()
        t0, wall0 = time.monotonic(), time.time()
        await bounded(
            [partial(set_status, api, ns, f"d-{i}", False) for i in range(count)], CONCURRENCY
        )
        sent = time.monotonic() - t0
        done = await wait_health(watcher, names, EXPECTED, t0, LIMIT)
        sys_done = await wait_health(sys_watcher, systems, EXPECTED, t0, LIMIT)
    finally:
        await watcher.stop()
        await sys_watcher.stop()
    await wait_quiet(audit, start, ns)
    writes = await window_writes(audit, start, ns)
    by_system = per_name(writes, "systems")
    by_component = per_name(writes, "components")
    sys_counts = [by_system.get(s, 0) for s in systems]
    sys_times = write_times(writes, "systems", wall0)
    return {
        "deployments": count,
        "setup_seconds": healthy - t_setup,
        "sent_in": sent,
        "seconds": None if done is None else done - t0,
        "systems": len(systems),
        "systems_seconds": None if sys_done is None else sys_done - t0,
        "writes": len(writes),
        "writes_by": breakdown(writes),
        "system_writes_max": max(sys_counts),
        "system_writes_mean": sum(sys_counts) / len(sys_counts),
        "system_writes_other": sum(v for k, v in by_system.items() if k not in systems),
        "component_writes": sum(by_component.values()),
        "component_writes_per_component": sum(by_component.values()) / count,
        "component_writes_max": max(by_component.values(), default=0),
        "api_writes": sum(per_name(writes, "apis").values()),
        "api_writes_max": max(per_name(writes, "apis").values(), default=0),
        "system_writes_at": sys_times,  # seconds after the first Deployment patch
        "system_writes_last": max((t for ts in sys_times.values() for t in ts), default=None),
    }


def summary(b: Result) -> str:
    return (
        f"burst of {b['deployments']} (sent in {b['sent_in']:.2f}s): Components {EXPECTED} "
        f"after {b['seconds']}s, Systems after {b['systems_seconds']}s; writes per System "
        f"max {b['system_writes_max']} mean {b['system_writes_mean']:.2f}, per Component "
        f"{b['component_writes_per_component']:.2f}, last System write at "
        f"{b['system_writes_last']}s; {b['writes']} writes {b['writes_by']}"
    )


def verdicts(rows: Rows, floors: Floors, n: int, r: Result) -> None:
    b = r["burst"]
    value = "not right" if b["seconds"] is None else f"{b['seconds']:.1f}s"
    rows.add(
        n,
        "burst: health right within",
        f"{value} ({b['deployments']} Deployments, sent in {b['sent_in']:.1f}s)",
        "<= 10 s",
        b["seconds"] is not None and b["seconds"] <= 10,
    )
    rows.add(
        n,
        "burst: writes per System",
        f"max {b['system_writes_max']}, mean {b['system_writes_mean']:.2f} "
        f"({b['systems']} Systems)",
        "max <= 3",
        b["system_writes_max"] <= 3,
    )
    rows.add(
        n,
        "burst: writes per Component",
        f"{b['component_writes_per_component']:.2f} (max {b['component_writes_max']})",
        "1",
        None,
    )


MEASURE = Measure(key="burst", run=run, summary=summary, verdicts=verdicts)

"""Side by side with Backstage (issue 14): Portico's measures and Backstage's catalog
backend on the same generated catalog (`catalog.catalog(N)`), on the same machine, in the
same run; a table of both figures and the Portico/Backstage ratio.

For each N: a fresh control plane (started as cli.py does; no floors) and `portico run`
with measures 1, 2 and 5 of the Portico bench (cold convergence, change latency, idle
footprint) plus the operator's peak RSS; the control plane is stopped; then Backstage
(`backstage.py`) once per setting: `tuned` (`catalog.processingInterval` 5 s) and
`default` (Backstage's 100-150 s). The JSON records the machine's load in each phase: the
machine is shared, other jobs may run.

Entry point: `bench/peers.py`; bench/README.md, "Side by side with Backstage".
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from portico_bench import ROOT, convergence, footprint, latency
from portico_bench.backstage import (
    PEER,
    SETTINGS,
    BackstageOptions,
    ensure_node_modules,
    run_backstage,
    status_mb,
)
from portico_bench.harness import (
    CLK_TCK,
    Bench,
    Floors,
    Measure,
    Options,
    Result,
    Round,
    bin_dir,
    install_crds,
    log,
    rss_mb,
    run_round,
)
from portico_bench.kube import Api
from portico_bench.writes import Audit
from portico_devcluster.cluster import LocalCluster


# --- the machine -------------------------------------------------------------------------
def load_snapshot() -> dict[str, float]:
    """Busy CPU ticks of the machine, of this process and its reaped children, loadavg."""
    cpu = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    ours = os.times()
    return {
        "t": time.monotonic(),
        "busy": (sum(cpu[:8]) - cpu[3] - cpu[4]) / CLK_TCK,  # minus idle and iowait
        "ours": ours.user + ours.system + ours.children_user + ours.children_system,
        "loadavg": float(Path("/proc/loadavg").read_text().split()[0]),
    }


def load_between(a: dict[str, float], b: dict[str, float]) -> Result:
    """Cores in use during a phase: by everything, and by others than this bench and the
    processes it started (taken after they were stopped and reaped)."""
    dt = max(b["t"] - a["t"], 1e-9)
    return {
        "seconds": dt,
        "busy_cores": (b["busy"] - a["busy"]) / dt,
        "other_cores": max(0.0, (b["busy"] - a["busy"]) - (b["ours"] - a["ours"])) / dt,
        "loadavg_1m": [a["loadavg"], b["loadavg"]],
    }


# --- Portico -------------------------------------------------------------------------------
async def _peak(rnd: Round) -> Result:
    procs = rnd.bench.cluster.processes
    return {
        "rss_peak_mb": status_mb(rnd.pid, "VmHWM"),
        "control_plane_rss_mb": {k: rss_mb(p.pid) for k, p in procs.items() if p.poll() is None},
    }


PEAK = Measure(
    key="peak",
    run=_peak,
    summary=lambda p: (
        f"peak RSS {p['rss_peak_mb']:.0f} MiB, control plane "
        f"{sum(p['control_plane_rss_mb'].values()):.0f} MiB"
    ),
    verdicts=lambda rows, floors, n, r: None,
)
PORTICO = (convergence.MEASURE, latency.MEASURE, footprint.MEASURE, PEAK)


async def run_portico(options: Options, work: Path, n: int) -> Result:
    """One round on a fresh control plane (started as cli.py does, no floors)."""
    cluster = LocalCluster(bin_dir(), work / f"cluster-{n}")
    api: Api | None = None
    try:
        log(f"N={n}: Portico: starting the control plane")
        cluster.start()
        await asyncio.to_thread(install_crds, bin_dir(), cluster.kubeconfig)
        api = Api(cluster.kubeconfig)
        bench = Bench(options, work, cluster, api, Audit(cluster.audit_log, api), Floors({}))
        result = await run_round(bench, n, PORTICO)
        result["kubernetes"] = cluster.version()
        return result
    finally:
        if api is not None:
            await api.aclose()
        cluster.stop()
        shutil.rmtree(cluster.state_dir / "etcd", ignore_errors=True)


# --- the run -------------------------------------------------------------------------------
@dataclass(frozen=True)
class PeerOptions:
    sizes: list[int]
    out: Path
    settings: list[str]
    portico: Options
    backstage: BackstageOptions


def parse_args(argv: list[str] | None = None) -> PeerOptions:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--sizes", default="1000,10000", type=lambda s: [int(x) for x in s.split(",")])
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "peers.json")
    p.add_argument("--settings", default="tuned,default", type=lambda s: s.split(","))
    p.add_argument("--edits", type=int, default=5, help="edits to time (tuned; refresh call)")
    p.add_argument("--default-edits", type=int, default=3, help="edits to time, defaults")
    p.add_argument("--edit-timeout", type=float, default=300.0)
    p.add_argument("--idle-seconds", type=float, default=150.0, help="both; >= 1 default cycle")
    p.add_argument("--cold-timeout", type=float, default=900.0)
    p.add_argument("--rate", type=float, default=20.0, help="Portico spec changes per second")
    p.add_argument("--change-seconds", type=float, default=10.0)
    a = p.parse_args(argv)
    if unknown := set(a.settings) - set(SETTINGS):
        p.error(f"unknown settings {unknown}; known: {sorted(SETTINGS)}")
    portico = Options(
        sizes=a.sizes,
        out=a.out,
        rate=a.rate,
        change_seconds=a.change_seconds,
        idle_seconds=a.idle_seconds,
        cold_timeout=a.cold_timeout,
        keep=False,
        scaffolds=0,
    )
    backstage = BackstageOptions(
        edits=a.edits,
        default_edits=a.default_edits,
        edit_timeout=a.edit_timeout,
        idle_seconds=a.idle_seconds,
        cold_timeout=a.cold_timeout,
    )
    return PeerOptions(a.sizes, a.out, a.settings, portico, backstage)


def versions() -> Result:
    lock = json.loads((PEER / "package-lock.json").read_text())["packages"]
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    return {
        "node": node,
        "python": platform.python_version(),
        **{
            name: lock[f"node_modules/{name}"]["version"]
            for name in (
                "@backstage/backend-defaults",
                "@backstage/plugin-catalog-backend",
                "better-sqlite3",
            )
        },
    }


def fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "s":
        return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"
    return f"{value:.2f} %" if unit == "%" else f"{value:.0f} {unit}"


ROWS: list[tuple[str, str, Any, Any]] = [  # measure, unit, Portico figure, Backstage figure
    ("cold ingest, all relations", "s", lambda p: p["cold"]["seconds"],
     lambda b: b["cold"]["seconds"]),
    ("CPU during cold ingest", "CPU-s", lambda p: p["cold"]["operator_cpu_seconds"],
     lambda b: b["cold"]["cpu_seconds"]),
    ("edit -> visible p50", "s", lambda p: p["change"]["p50"], lambda b: b["edit"]["p50"]),
    ("edit -> visible p50, refresh call", "s", lambda p: p["change"]["p50"],
     lambda b: b["edit_refresh"]["p50"]),
    ("RSS peak", "MiB", lambda p: p["peak"]["rss_peak_mb"], lambda b: b["rss_peak_mb"]),
    ("RSS settled", "MiB", lambda p: p["idle"]["rss_mb"], lambda b: b["idle"]["rss_mb"]),
    ("RSS settled, + apiserver & etcd", "MiB",
     lambda p: p["idle"]["rss_mb"] + sum(p["peak"]["control_plane_rss_mb"].values()),
     lambda b: b["idle"]["rss_mb"]),
    ("idle CPU, % of a core", "%", lambda p: p["idle"]["cpu_percent"],
     lambda b: b["idle"]["cpu_percent"]),
]  # fmt: skip


def table(report: Result, settings: list[str]) -> str:
    head = ["N", "measure", "Portico"]
    for s in settings:
        head += [f"Backstage {SETTINGS[s] or 'default'}{' s' if SETTINGS[s] else ''}", "P/B"]
    cells = []
    for n, rnd in report["rounds"].items():
        for measure, unit, of_p, of_b in ROWS:
            try:
                pv = of_p(rnd["portico"])
            except (KeyError, TypeError):
                pv = None
            row = [str(n), measure, fmt(pv, unit)]
            for s in settings:
                try:
                    bv = of_b(rnd["backstage"][s])
                except (KeyError, TypeError):  # not measured, or that step failed
                    bv = None
                ratio = "-" if pv is None or not bv else f"{pv / bv:.2f}"
                if pv is not None and bv and pv / bv < 0.1:
                    ratio = f"{pv / bv:.2g}"  # two significant digits
                row += [fmt(bv, unit), ratio]
            cells.append(row)
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(head)]
    lines = ["| " + " | ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)) + " |"]
    lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    lines += ["| " + " | ".join(x.ljust(w) for x, w in zip(c, widths, strict=True)) + " |"
              for c in cells]  # fmt: skip
    return "\n".join(lines)


async def main_async(opts: PeerOptions, work: Path, report: Result) -> None:
    for n in opts.sizes:
        rnd: Result = report["rounds"].setdefault(str(n), {"load": {}})
        a = load_snapshot()
        rnd["portico"] = await run_portico(opts.portico, work, n)
        rnd["load"]["portico"] = load_between(a, b := load_snapshot())
        for setting in opts.settings:
            rnd.setdefault("backstage", {})[setting] = await run_backstage(
                opts.backstage, work, n, setting
            )
            rnd["load"][f"backstage-{setting}"] = load_between(b, b := load_snapshot())
        opts.out.write_text(json.dumps(report, indent=2, default=str))  # a partial report


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
    ensure_node_modules()
    work = Path(tempfile.mkdtemp(prefix="portico-peers-"))
    log(f"work directory {work} (operator-N.log, backstage-N-<setting>.log)")
    opts.out.parent.mkdir(parents=True, exist_ok=True)
    top = subprocess.run(["ps", "-eo", "pcpu,rss,etime,args", "--sort=-pcpu"],
                         capture_output=True, text=True).stdout.splitlines()[:8]  # fmt: skip
    report: Result = {
        "started": datetime.now().isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "versions": versions(),
        "settings": {s: SETTINGS[s] for s in opts.settings},
        "busiest_processes_at_start": [line[:160] for line in top],
        "rounds": {},
    }
    t0 = time.monotonic()
    try:
        asyncio.run(main_async(opts, work, report))
    finally:
        report["wall_seconds"] = time.monotonic() - t0
        report["finished"] = datetime.now().isoformat(timespec="seconds")
        opts.out.write_text(json.dumps(report, indent=2, default=str))
        log(f"wrote {opts.out}")
    print()
    print(table(report, opts.settings))
    return 0

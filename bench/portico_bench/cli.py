"""The command line: flags, the control plane, the floors, the rounds, the table and the
JSON report. `bench/run.py` calls `main()`."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import portico_bench
from portico_bench import ROOT, registry
from portico_bench.floors import measure_floors
from portico_bench.harness import Bench, Options, Result, bin_dir, install_crds, log, run_round
from portico_bench.kube import Api
from portico_bench.report import table, verdicts
from portico_bench.writes import Audit
from portico_devcluster.cluster import LocalCluster


def parse_args(argv: list[str] | None = None) -> Options:
    doc = portico_bench.__doc__
    p = argparse.ArgumentParser(description=doc.splitlines()[0] if doc else None)
    p.add_argument(
        "--sizes", default="100,1000", type=lambda s: [int(x) for x in s.split(",") if x]
    )
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "latest.json")
    p.add_argument("--rate", type=float, default=20.0, help="spec changes per second")
    p.add_argument("--change-seconds", type=float, default=10.0)
    p.add_argument("--idle-seconds", type=float, default=60.0)
    p.add_argument("--cold-timeout", type=float, default=300.0)
    p.add_argument("--keep", action="store_true", help="keep the etcd data directory")
    p.add_argument("--scaffolds", type=int, default=20, help="scaffolds to time; 0: skip")
    keys = [m.key for m in registry.PER_SIZE]
    p.add_argument(
        "--measures",
        default="",
        help=f"per-size measures to run, comma-separated, of {','.join(keys)}; default: all "
        "(every measure but cold needs the catalog cold creates)",
    )
    args = p.parse_args(argv)
    measures = tuple(m for m in args.measures.split(",") if m)
    if unknown := set(measures) - set(keys):
        p.error(f"unknown measures {sorted(unknown)}; known: {','.join(keys)}")
    return Options(
        sizes=args.sizes,
        out=args.out,
        rate=args.rate,
        change_seconds=args.change_seconds,
        idle_seconds=args.idle_seconds,
        cold_timeout=args.cold_timeout,
        keep=args.keep,
        scaffolds=args.scaffolds,
        measures=measures,
    )


async def main_async(options: Options, work: Path) -> dict[str, Any]:
    bins = bin_dir()
    cluster = LocalCluster(bins, work / "cluster")
    report: dict[str, Any] = {
        "started": datetime.now().isoformat(timespec="seconds"),
        "sizes": options.sizes,
        "cpus": os.cpu_count(),
    }
    api: Api | None = None
    try:
        log("starting the control plane")
        cluster.start()
        await asyncio.to_thread(install_crds, bins, cluster.kubeconfig)
        report["kubernetes"] = cluster.version()
        api = Api(cluster.kubeconfig)
        audit = Audit(cluster.audit_log, api)
        floors = await measure_floors(api, options.sizes)
        report["floors"] = floors.raw
        bench = Bench(options, work, cluster, api, audit, floors)
        rounds: dict[int, Result] = {}
        report["rounds"] = rounds
        for n in options.sizes:
            rounds[n] = await run_round(bench, n, registry.per_size(options))
        rows = verdicts(floors, rounds, registry.PER_SIZE)
        report["verdicts"] = rows.rows
        print()
        print(floors.line(options.sizes))
        for once in registry.ONCE:
            if once.enabled(options):
                result = await once.run(bench)
                report[once.key] = result
                once.verdicts(rows, result)
        print(table(rows.rows))
    finally:
        if api is not None:
            await api.aclose()
        cluster.stop()
        report["finished"] = datetime.now().isoformat(timespec="seconds")
    return report


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="portico-bench-"))
    log(f"work directory {work}")
    t0 = time.monotonic()
    try:
        report = asyncio.run(main_async(options, work))
    finally:
        if not options.keep:
            shutil.rmtree(work / "cluster" / "etcd", ignore_errors=True)
        log(f"logs in {work} (operator-N.log, cluster/audit.log)")
    report["wall_seconds"] = time.monotonic() - t0
    options.out.parent.mkdir(parents=True, exist_ok=True)
    options.out.write_text(json.dumps(report, indent=2, default=str))
    log(f"wrote {options.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

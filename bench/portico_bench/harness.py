"""The shared harness every measure uses: the run's options, the contexts a measure gets
(`Bench` for the run, `Round` for one N), the floors as measures read them (`Floors`), the
operator process (/proc readings), the verdict rows, and the loop that runs the registered
measures for one N. bench/README.md, "Adding a measure", shows how the parts fit."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from portico_bench import ROOT
from portico_bench.kube import Api
from portico_bench.writes import Audit
from portico_devcluster.cluster import LocalCluster
from support.operator import OperatorProcess

CLK_TCK = os.sysconf("SC_CLK_TCK")

Result = dict[str, Any]
"""What a measure returns: JSON-ready figures, stored under the measure's key."""


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0..1) by nearest rank; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


# --- the operator process ----------------------------------------------------------------
def cpu_ticks(pid: int) -> int:
    """utime + stime of `pid`, in clock ticks (CLK_TCK a second)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def operator_pid(op: OperatorProcess) -> int:
    assert op.proc is not None
    return op.proc.pid


# --- the control plane -------------------------------------------------------------------
def bin_dir() -> Path:
    """The control-plane binaries: PORTICO_BIN_DIR, or what hack/build-binaries.sh prints."""
    env = os.environ.get("PORTICO_BIN_DIR")
    if env:
        return Path(env)
    out = subprocess.run(
        [str(ROOT / "hack" / "build-binaries.sh")], capture_output=True, text=True, check=True
    )
    return Path(out.stdout.strip().splitlines()[-1])


def install_crds(bins: Path, kubeconfig: Path) -> None:
    kubectl = [str(bins / "kubectl"), "--kubeconfig", str(kubeconfig)]
    crds = str(ROOT / "crds")
    subprocess.run([*kubectl, "apply", "-f", crds], check=True, capture_output=True)
    subprocess.run(
        [*kubectl, "wait", "--for=condition=Established", "-f", crds],
        check=True,
        capture_output=True,
    )


# --- contexts ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Options:
    """The command-line flags (cli.py parses them)."""

    sizes: list[int]
    out: Path
    rate: float
    change_seconds: float
    idle_seconds: float
    cold_timeout: float
    keep: bool
    scaffolds: int
    measures: tuple[str, ...] = ()
    """The keys of the per-size measures to run (registry order); empty: all."""


@dataclass(frozen=True)
class Floors:
    """Read access to the floors; `raw` is what the JSON report keeps under "floors"."""

    raw: dict[str, Any]

    def f_patch(self, n: int) -> float:
        """F_patch(N): the fastest merge patch of N statuses (best concurrency), seconds."""
        best: float = self.raw["patch"][str(n)]["best"]
        return best

    def f_list(self, n: int) -> float:
        """F_list(N): one LIST of N Components (best of 3), seconds."""
        best: float = self.raw["list"][str(n)]["best"]
        return best

    def f_cold(self, n: int) -> float | None:
        """F_cold(N): creating measure 1's catalog with one status write per entity and no
        operator (floors.cold_floor), seconds; None in a report from before it existed."""
        seconds: float | None = self.raw.get("cold", {}).get(str(n))
        return seconds

    def create(self, n: int) -> float:
        """Creating N Components at concurrency 32, seconds (context, not a floor)."""
        seconds: float = self.raw["create"][str(n)]
        return seconds

    @property
    def f_rt_p50(self) -> float:
        """F_rt p50: patch one object -> our own watch event, seconds."""
        p50: float = self.raw["rt"]["p50"]
        return p50

    @property
    def f_rt_p99(self) -> float:
        p99: float = self.raw["rt"]["p99"]
        return p99

    def line(self, sizes: list[int]) -> str:
        """The one-line summary printed above the table."""
        return (
            f"floors: F_rt p50={self.f_rt_p50 * 1000:.1f}ms "
            f"p99={self.f_rt_p99 * 1000:.1f}ms; "
            + "; ".join(
                f"N={n}: F_patch={self.f_patch(n):.2f}s "
                f"F_list={self.f_list(n) * 1000:.0f}ms "
                f"(creating N: {self.create(n):.2f}s)"
                for n in sizes
            )
        )


@dataclass
class Bench:
    """The run: one control plane, one client, one audit log reader, the floors."""

    options: Options
    work: Path
    cluster: LocalCluster
    api: Api
    audit: Audit
    floors: Floors


@dataclass
class Round:
    """One N: namespace `bench-N` and the operator watching it. A measure that restarts the
    operator updates `pid` (and `op`, if it replaces the process); `result` holds what the
    measures before it returned."""

    bench: Bench
    n: int
    ns: str
    op: OperatorProcess
    pid: int
    result: Result

    @property
    def api(self) -> Api:
        return self.bench.api

    @property
    def audit(self) -> Audit:
        return self.bench.audit

    @property
    def floors(self) -> Floors:
        return self.bench.floors

    @property
    def options(self) -> Options:
        return self.bench.options


# --- verdicts ------------------------------------------------------------------------------
class Rows:
    """The results table, one row per (N, measure): value, target and verdict."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def add(
        self, n: int | str | None, measure: str, value: str, target: str, ok: bool | None
    ) -> None:
        """`ok` None: the target does not apply at this N (verdict "n/a")."""
        verdict = "n/a" if ok is None else ("PASS" if ok else "MISS")
        self.rows.append(
            {"n": n, "measure": measure, "value": value, "target": target, "verdict": verdict}
        )


# --- measures ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Measure:
    """A measure run once for each N, in registry order (registry.py).

    `run` returns the figures stored under `key` in the round's JSON; `summary` turns them
    into the log line after "N=<n>: "; `verdicts` adds the table rows, given the floors, N
    and the whole round's results (its own under `key`; it is called only if they exist).
    """

    key: str
    run: Callable[[Round], Awaitable[Result]]
    summary: Callable[[Result], str]
    verdicts: Callable[[Rows, Floors, int, Result], None]


@dataclass(frozen=True)
class RunMeasure:
    """A measure run once per run, after the rounds, when `enabled(options)`; its figures
    go under `key` at the top of the JSON."""

    key: str
    enabled: Callable[[Options], bool]
    run: Callable[[Bench], Awaitable[Result]]
    verdicts: Callable[[Rows, Result], None]


async def run_round(bench: Bench, n: int, measures: tuple[Measure, ...]) -> Result:
    """Start `portico run --namespace bench-N`, record RSS(0) 2 s after start (before any
    entity exists), run the measures in order, stop the operator whatever happens (the one
    the round ends with: a measure may replace `rnd.op`). A measure that raises is recorded
    under `errors` (and in the table), and the round's later measures are skipped: the
    figures already taken, and the other sizes, are kept."""
    ns = f"bench-{n}"
    await bench.api.ensure_namespace(ns)
    result: Result = {"n": n}
    op = OperatorProcess(
        bench.cluster.kubeconfig,
        bench.work / f"operator-{n}.log",
        extra_args=("--namespace", ns),
    )
    rnd: Round | None = None
    try:
        op.start(timeout=60)
        rnd = Round(bench, n, ns, op, operator_pid(op), result)
        await asyncio.sleep(2.0)
        result["rss0_mb"] = rss_mb(rnd.pid)
        log(f"N={n}: operator up, RSS(0)={result['rss0_mb']:.1f} MB")
        for measure in measures:
            try:
                result[measure.key] = await measure.run(rnd)
            except Exception as e:  # a finding: keep the figures so far, skip what follows
                result.setdefault("errors", {})[measure.key] = f"{type(e).__name__}: {e}"
                log(f"N={n}: {measure.key} failed ({type(e).__name__}: {e}); skipping the rest")
                break
            log(f"N={n}: {measure.summary(result[measure.key])}")
    finally:
        op.stop()
        if rnd is not None:
            rnd.op.stop()  # the process a measure left as the round's operator (failover)
    return result

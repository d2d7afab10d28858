"""Which measures run, and in which order: the order of the log lines, of the JSON keys
and of the table rows. A new measure is a module with a `MEASURE`, added here."""

from __future__ import annotations

from portico_bench import (
    burst,
    churn,
    convergence,
    failover,
    footprint,
    latency,
    restart,
    scaffolding,
)
from portico_bench.harness import Measure, Options, RunMeasure

# For each N, on the same catalog, in this order. Every measure after the first needs the
# catalog it creates. The burst leaves its Deployments in place, so the idle footprint,
# restart and failover see them as part of the unchanged catalog. Restart replaces the
# operator process; failover replaces it with an HA pair and goes last.
PER_SIZE: tuple[Measure, ...] = (
    convergence.MEASURE,  # 1 cold convergence (+ writes per created entity)
    latency.MEASURE,  # 2 change latency (+ writes per spec change)
    churn.MEASURE,  # 7 change latency under churn (+ writes per spec change)
    burst.MEASURE,  # 8 a burst of Deployment changes (+ writes per System)
    footprint.MEASURE,  # 5 idle footprint (+ writes per unchanged resync)
    restart.MEASURE,  # 4 restart (+ writes on restart)
    failover.MEASURE,  # 9 failover of an HA pair (+ writes on failover)
)

# Once per run, after the rounds and the floors line.
ONCE: tuple[RunMeasure, ...] = (
    scaffolding.MEASURE,  # 6 scaffolding throughput
)


def per_size(options: Options) -> tuple[Measure, ...]:
    """The per-size measures `--measures` selects (all by default), in registry order."""
    if not options.measures:
        return PER_SIZE
    return tuple(m for m in PER_SIZE if m.key in options.measures)

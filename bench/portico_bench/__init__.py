"""Portico's benchmark: how fast, how thrifty and how small the operator is, relative to
what the API server itself can do on the same machine at the same moment.

Absolute seconds mean little on a shared 2-core machine, so every figure is a ratio to a
*floor* measured in the same run on the same control plane with the same Python HTTP stack
(httpx, admin client certificate) the operator uses:

- F_patch(N): the fastest merge patch of `/status` on N existing Components (concurrency 1,
  8 and 32; the best is kept) -- the least time any operator needs to write N statuses.
- F_rt: p50/p99 of "patch an object -> see my own watch event" -- the least latency any
  watch-driven controller can have.
- F_list(N): one LIST of N Components -- the least time a restarted operator needs to learn
  the catalog.

Then, for each N, with `portico run` as a subprocess watching a fresh namespace:

1. cold convergence (N Components, N/50 Systems, N/10 APIs, refs resolvable) until every
   entity is Ready with a current observedGeneration, over F_patch(N);
2. change latency: spec patches at a steady rate, patch -> watch event with the new
   observedGeneration, p50 over F_rt and p99 in seconds;
3. write amplification from the audit log (the operator's user agents): writes per created
   entity, per spec change, and over an idle window (must be 0);
4. restart with nothing changed: time to idle and writes made (must be 0), vs F_list(N)+20 s;
5. idle footprint: RSS and CPU of the operator after settling, vs RSS with 0 entities;
7. change latency under a background churn of 50 changes/s;
8. burst: min(N, 1000) Deployments lose their pods at once, until every Component's health
   is right, and the writes per System;
9. failover of an HA pair (SIGKILL the active replica): time until the standby is idle,
   and its writes (must be 0).

Targets print PASS/MISS; a MISS is a finding, never a non-zero exit.
Run: `.venv/bin/python bench/run.py [--sizes 100,1000] [--out bench/results/latest.json]`.

Layout (bench/README.md, "Adding a measure"): `harness` (options, contexts, the operator
process, the round loop), `kube` (API client, watches), `writes` (audit log, measure 3),
`catalog` (the entities), `floors`, one module per measure (`convergence`, `latency`,
`footprint`, `restart`, `scaffolding`, `churn`, `burst`, `failover`), `registry` (which
measures run, in which order), `report` (verdicts and the table) and `cli` (flags, control
plane, JSON).
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
# The operator process helper and the GitHub fake live with the tests.
for _path in (ROOT / "tests", ROOT / "operator"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

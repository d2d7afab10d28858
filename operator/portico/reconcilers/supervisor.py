"""Background tasks that do not die silently.

A task started with `asyncio.create_task` that raises ends quietly: nobody awaits it, and the
operator carries on with whatever it last knew (a stale configuration, frozen alerts).
`supervise` runs such a task's coroutine factory and, when it raises, logs the crash under the
task's name, counts it in `portico_background_restarts_total{task}` and starts it again after
an exponential, jittered back-off. A run that lasted `reset_after` seconds counts as healthy,
so the next crash waits `base` again. Cancellation stops it: that is how a task is stopped.

Only `Exception` is caught: `CancelledError`, `KeyboardInterrupt` and `SystemExit` go through.
Expected, handled failures (an unreachable API server) belong inside the task; what reaches
the supervisor is a bug or a surprise, so it is logged as an error.
"""

import asyncio
import logging
import random
import time
from collections.abc import Callable, Coroutine
from typing import Any

from portico.metrics import BACKGROUND_RESTARTS

log = logging.getLogger("portico.supervisor")

Factory = Callable[[], Coroutine[Any, Any, None]]


def backoff(failures: int, *, base: float, cap: float, jitter: float | None = None) -> float:
    """Seconds to wait after the `failures`-th crash in a row (1, 2, ...): `base * 2**(n-1)`,
    at most `cap`, scaled by a jitter in [0.5, 1) so restarts of many tasks do not align."""
    ceiling = min(cap, base * 2.0 ** max(failures - 1, 0))
    return ceiling * (random.uniform(0.5, 1.0) if jitter is None else jitter)


async def supervise(
    name: str,
    factory: Factory,
    *,
    base: float = 1.0,
    cap: float = 60.0,
    reset_after: float | None = None,
) -> None:
    """Run `factory()` until cancelled, restarting it whenever it raises.

    `reset_after` (default: `cap`) is how long a run must last for its crash to count as the
    first in a row again. A factory that returns normally has finished its work: supervision
    ends with it.
    """
    healthy = cap if reset_after is None else reset_after
    failures = 0
    while True:
        started = time.monotonic()
        try:
            await factory()
        except Exception:
            failures = 1 if time.monotonic() - started >= healthy else failures + 1
            delay = backoff(failures, base=base, cap=cap)
            BACKGROUND_RESTARTS.labels(task=name).inc()
            log.exception(
                "background task %s crashed (%d in a row); restarting in %.1fs",
                name,
                failures,
                delay,
            )
            await asyncio.sleep(delay)
        else:
            log.info("background task %s finished", name)
            return

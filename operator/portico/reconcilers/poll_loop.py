"""The pattern every poller of an external system shares (Prometheus alerts, Grafana's
dashboards, GitHub): one loop for the whole catalog, a jittered pause between rounds (no
thundering herd of replicas), `wake()` to start a round at once (the configuration changed),
and a supervisor that restarts the loop after an unexpected exception instead of ending
the polls. What a round reads, and which entities it requeues, is the subclass's.

A standby replica (kopf's peering paused it: `paused`, set at start-up to
kopf_gate.operator_paused) skips its rounds: two replicas would otherwise spend the external
system's budget twice, and only the active one writes what the answers change.

A subclass gives `poll_once()` and `interval()`; one that paces its rounds itself (GitHub's
budgets) overrides `_loop`, calls `standby()` before each round, and keeps `start`, `stop` and
`wake`."""

import asyncio
import contextlib
import random
from collections.abc import Callable

from portico.reconcilers.supervisor import supervise

JITTER = 0.1  # a pause is the interval +/- 10 %


class PollLoop:
    name = "poll"  # the supervisor's name for the loop, and the task's

    def __init__(self) -> None:
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self.paused: Callable[[], bool | None] = lambda: None  # None: not known, so active

    def standby(self) -> bool:
        return self.paused() is True

    async def poll_once(self) -> None:
        raise NotImplementedError

    def interval(self) -> float:
        """Seconds between two rounds (read each time: the configuration may change)."""
        raise NotImplementedError

    async def close(self) -> None:
        """Release what the polls hold (clients); called once the loop has stopped."""

    def wake(self) -> None:
        """Start a round now (the configuration changed)."""
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(
            supervise(self.name, self._loop), name=f"portico-{self.name}"
        )

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        await self.close()

    async def _loop(self) -> None:
        while True:
            # Cleared before the round, not after: a wake() that arrives while the round is
            # in flight (a new URL) must cut the following pause short, not be forgotten.
            self._wake.clear()
            if not self.standby():
                await self.poll_once()
            pause = self.interval() * random.uniform(1 - JITTER, 1 + JITTER)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), pause)

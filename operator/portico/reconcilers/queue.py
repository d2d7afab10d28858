"""A keyed work queue with client-go's semantics, for asyncio.

A key is queued at most once; a key being worked on that is added again is processed once
more after the current run (never twice at the same time); failed keys come back after a
per-key exponential backoff. This is what keeps a burst of watch events for one entity
down to one reconcile.
"""

import asyncio
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


class WorkQueue(Generic[K]):
    def __init__(
        self,
        *,
        base_delay: float = 0.5,
        max_delay: float = 300.0,
        accept: Callable[[K], bool] | None = None,
    ) -> None:
        """`accept` filters what may be queued (a shard queues only what it owns); it is
        asked again when a delayed key comes due."""
        self._accept = accept
        self._queue: asyncio.Queue[K] = asyncio.Queue()
        self._pending: set[K] = set()
        self._active: set[K] = set()
        self._dirty: set[K] = set()
        self._failures: dict[Hashable, int] = {}
        self._timers: dict[Hashable, asyncio.TimerHandle] = {}
        self._base = base_delay
        self._max = max_delay

    def __len__(self) -> int:
        return len(self._pending) + len(self._active)

    def add(self, key: K) -> None:
        if key in self._pending:
            return
        if self._accept is not None and not self._accept(key):
            return
        if key in self._active:
            self._dirty.add(key)
            return
        timer = self._timers.pop(key, None)
        if timer is not None:
            timer.cancel()
        self._pending.add(key)
        self._queue.put_nowait(key)

    def add_after(self, key: K, delay: float) -> None:
        if key in self._pending or key in self._timers:
            return
        loop = asyncio.get_running_loop()
        self._timers[key] = loop.call_later(delay, self._fire, key)

    def _fire(self, key: K) -> None:
        self._timers.pop(key, None)
        self.add(key)

    async def get(self) -> K:
        key = await self._queue.get()
        self._pending.discard(key)
        self._active.add(key)
        return key

    def done(self, key: K) -> None:
        self._active.discard(key)
        if key in self._dirty:
            self._dirty.discard(key)
            self.add(key)

    def retry(self, key: K, delay: float | None = None) -> float:
        """Schedule a failed key again; returns the delay chosen."""
        failures = self._failures.get(key, 0) + 1
        self._failures[key] = failures
        wait = delay if delay is not None else min(self._max, self._base * 2 ** (failures - 1))
        self.add_after(key, wait)
        return wait

    def forget(self, key: K) -> None:
        """The key succeeded: reset its backoff."""
        self._failures.pop(key, None)

    def idle(self) -> bool:
        return not self._pending and not self._active

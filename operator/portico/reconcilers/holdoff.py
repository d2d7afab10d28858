"""Hold a step's external calls for one entity until a retry time has come.

A reconcile whose step failed writes a condition; that write comes back as a watch event and
queues the entity again at once. Without a hold-off the step would call the external system
again immediately, ignoring a rate limit's reset or a backoff. While held, the step returns
the outcome it had, and the engine's delayed re-queue brings it back when the time has come.

An entry whose key is never asked again (the entity was deleted, or its step no longer
runs) would stay forever: `hold` drops expired entries whenever the table has doubled since
the last sweep, so it stays bounded by about twice the keys that are still held, at an
amortised O(1) per call.
"""

import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, Protocol, TypeVar


class Retrying(Protocol):
    @property
    def retry_after(self) -> float | None: ...


T = TypeVar("T")
R = TypeVar("R", bound=Retrying)

MIN_SWEEP = 64  # never sweep a table smaller than this


class Holdoff(Generic[T]):
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._until: dict[Hashable, tuple[float, T]] = {}
        self._clock = clock
        self._sweep_at = MIN_SWEEP

    def __len__(self) -> int:
        return len(self._until)

    def held(self, key: Hashable) -> T | None:
        entry = self._until.get(key)
        if entry is None:
            return None
        if self._clock() >= entry[0]:
            del self._until[key]
            return None
        return entry[1]

    def hold(self, key: Hashable, seconds: float, outcome: T) -> T:
        now = self._clock()
        self._until[key] = (now + seconds, outcome)
        if len(self._until) >= self._sweep_at:
            self._until = {k: e for k, e in self._until.items() if e[0] > now}
            self._sweep_at = max(MIN_SWEEP, 2 * len(self._until))
        return outcome

    def release(self, key: Hashable) -> None:
        self._until.pop(key, None)


async def held_call(
    holdoff: "Holdoff[R]", key: Hashable, call: Callable[[], Awaitable[R | None]]
) -> R | None:
    """The step's outcome, calling out only when no hold is in force: an outcome asking to
    retry later is held until then, any other releases the hold. (The one hold-off wrapper
    every step that calls an external system shares.)"""
    held = holdoff.held(key)
    if held is not None:
        return held
    outcome = await call()
    if outcome is not None and outcome.retry_after:
        return holdoff.hold(key, outcome.retry_after, outcome)
    holdoff.release(key)
    return outcome

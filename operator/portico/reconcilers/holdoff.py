"""Hold a step's external calls for one entity until a retry time has come.

A reconcile whose step failed writes a condition; that write comes back as a watch event and
queues the entity again at once. Without a hold-off the step would call the external system
again immediately, ignoring a rate limit's reset or a backoff. While held, the step returns
the outcome it had, and the engine's delayed re-queue brings it back when the time has come.
"""

import time
from collections.abc import Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class Holdoff(Generic[T]):
    def __init__(self) -> None:
        self._until: dict[Hashable, tuple[float, T]] = {}

    def held(self, key: Hashable) -> T | None:
        entry = self._until.get(key)
        if entry is None:
            return None
        if time.monotonic() >= entry[0]:
            del self._until[key]
            return None
        return entry[1]

    def hold(self, key: Hashable, seconds: float, outcome: T) -> T:
        self._until[key] = (time.monotonic() + seconds, outcome)
        return outcome

    def release(self, key: Hashable) -> None:
        self._until.pop(key, None)

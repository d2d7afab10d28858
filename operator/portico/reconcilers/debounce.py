"""A trailing debounce for roll-ups, bounded by a wait that grows while a burst lasts.

A System, an API or a Template is re-decided when one of its members changes. In a burst
(a catalog applied at once, a node draining) its members change hundreds of times in a few
seconds, and writing the roll-up after each change, or after each fixed window, costs one
status write (and its watch echo) per window for as long as the burst lasts.

So a roll-up is queued once its members have been quiet for `quiet` seconds, and at the
latest `bound` seconds after the first change it waits for. When that bound is what fired
(the burst was still going on), the next bound for that key grows `growth` times, up to
`longest`, and until the burst is over the quiet time is `burst_quiet`; when quiet fired,
the burst is over and both are back to `first` and `quiet`. A key touched again within
`longest` seconds of its last write is in a burst too, even if that write came after a
quiet moment: a burst often starts slowly (the first members' changes trickle in), and
the quiet time alone cannot tell that from an isolated change. With the defaults (bounds
1, then 8 s; quiet 0.25 s, 2 s in a burst) a roll-up in a burst of T seconds is written
once early, every 8 s while it lasts and 2 s after it: three writes for a node's drain of
up to 15 s. (A System's 50 members in a drain of 1,000 Deployments change about every
0.26 s; with a 0.25 s quiet and doubling bounds, the bench measured 5-6 writes per
System.) A roll-up is never more than `longest` seconds late; an isolated change is
written after `quiet`.

A burst of one roll-up's members is not the only kind: while a whole catalog is imported,
members arrive seconds apart for minutes (reconcilers/arrivals.py). While `hold()` says
so, a key that comes due is held instead, and all held keys are released together once
`hold()` is false (checked every `quiet` seconds), each at the latest `hold_limit` seconds
after the first change it waited for. A roll-up is then written once per import.
"""

import asyncio
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


@dataclass
class _Waiting:
    since: float  # the first change this wait is for
    deadline: float
    timer: asyncio.TimerHandle
    bound_hit: bool = False


class Debouncer(Generic[K]):
    def __init__(
        self,
        fire: Callable[[K], None],
        *,
        quiet: float = 0.25,
        first: float = 1.0,
        longest: float = 8.0,
        growth: float = 8.0,
        burst_quiet: float = 2.0,
        hold: Callable[[], bool] | None = None,
        hold_limit: float = 120.0,
    ) -> None:
        self._fire_cb = fire
        self._quiet, self._first, self._longest = quiet, first, longest
        self._growth, self._burst_quiet = growth, burst_quiet
        self._hold, self._hold_limit = hold, hold_limit
        self._waiting: dict[K, _Waiting] = {}
        self._bounds: dict[K, float] = {}  # keys in a burst: their next, grown bound
        self._last_fire: dict[K, float] = {}  # when each key was last queued
        self._held: dict[K, float] = {}  # key -> since: due, held back by `hold()`
        self._release: asyncio.TimerHandle | None = None

    def __len__(self) -> int:
        return len(self._waiting) + len(self._held)

    def touch(self, key: K) -> None:
        """A member of `key` changed: queue `key` once things are quiet (or at its bound)."""
        if key in self._held:
            return  # due already: written when the hold ends, with this change in it
        loop = asyncio.get_running_loop()
        now = loop.time()
        waiting = self._waiting.get(key)
        if waiting is not None:
            waiting.timer.cancel()
            since, deadline = waiting.since, waiting.deadline
        else:
            since, deadline = now, now + self._bound(key, now)
        in_burst = key in self._bounds or self._recent(key, now)
        at = min(now + (self._burst_quiet if in_burst else self._quiet), deadline)
        timer = loop.call_at(at, self._fire, key)
        self._waiting[key] = _Waiting(since, deadline, timer, bound_hit=at >= deadline)

    def _recent(self, key: K, now: float) -> bool:
        last = self._last_fire.get(key)
        if last is not None and now - last >= self._longest:
            del self._last_fire[key]  # long ago: forget it (keeps the map small)
            return False
        return last is not None

    def _bound(self, key: K, now: float) -> float:
        bound = self._bounds.get(key)
        if bound is not None:
            return bound
        if self._recent(key, now):  # written moments ago: a burst that started slowly
            return min(self._growth * self._first, self._longest)
        return self._first

    def forget(self, key: K) -> None:
        """The key is gone: drop its timer and its bound."""
        waiting = self._waiting.pop(key, None)
        if waiting is not None:
            waiting.timer.cancel()
        self._bounds.pop(key, None)
        self._last_fire.pop(key, None)
        self._held.pop(key, None)

    def _fire(self, key: K) -> None:
        waiting = self._waiting.pop(key)
        if self._hold is not None and self._hold():
            self._held[key] = waiting.since
            if self._release is None:
                self._release = asyncio.get_running_loop().call_later(self._quiet, self._recheck)
            return
        now = asyncio.get_running_loop().time()
        if waiting.bound_hit:
            grown = self._growth * (waiting.deadline - waiting.since)
            self._bounds[key] = min(grown, self._longest)
        else:
            self._bounds.pop(key, None)
        self._last_fire[key] = now
        self._fire_cb(key)

    def _recheck(self) -> None:
        """Release every held key once the hold is over, and those held too long."""
        self._release = None
        if not self._held:
            return
        loop = asyncio.get_running_loop()
        holding = self._hold is not None and self._hold()
        limit = loop.time() - self._hold_limit
        due = [k for k, since in self._held.items() if not holding or since <= limit]
        for key in due:
            del self._held[key]
            self._fire_cb(key)
        if self._held:
            self._release = loop.call_later(self._quiet, self._recheck)

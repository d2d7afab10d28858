"""Is the catalog being imported? New entities per second, over a sliding window.

A catalog applied at once (`kubectl apply -f catalog/`, Argo CD syncing a repository of
10,000 entities) creates entities for as long as the apply takes: 10 s for a thousand, two
minutes for ten thousand on a small control plane. A System's members arrive at random
moments all along, seconds apart, so a roll-up that is written whenever its members have
been quiet for a moment is written once per member or so. While entities keep arriving
faster than `rate` a second, the engine holds roll-ups back (reconcilers/debounce.py) and
writes each once the import is over.

Only entities Portico has never decided count (no `status.observedGeneration`): a restart
re-lists a whole catalog at once, and that is not an import. Steady churn (spec changes,
workloads, a few new Components a minute) never counts, so roll-ups stay fresh then.
"""

import time
from collections import deque
from collections.abc import Callable


class ArrivalRate:
    def __init__(
        self,
        *,
        rate: float = 10.0,
        window: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Importing while at least `rate * window` new entities arrived in the last
        `window` seconds."""
        self._threshold = max(1, round(rate * window))
        self._window = window
        self._clock = clock
        self._times: deque[float] = deque(maxlen=self._threshold)

    def arrived(self) -> None:
        """A new entity (never decided by Portico) was seen."""
        self._times.append(self._clock())

    def importing(self) -> bool:
        """Did the last `threshold` arrivals all come within `window` seconds from now?"""
        if len(self._times) < self._threshold:
            return False
        return self._clock() - self._times[0] <= self._window

"""kopf's index-readiness gate, made linear: a ToggleSet that counts, and wakes on a flip.

On start, kopf makes one toggle per listed object in `operator_indexed` (a ToggleSet of
`all`) and every per-object worker waits for the whole set to be on. kopf 1.45's ToggleSet
notifies its condition on every toggle made or dropped, and every waiter re-evaluates
`all(toggles)`: O(N) wake-ups of O(N) checks for each of N toggles. At 5,600 objects that
kept a core busy for over a minute after a restart (bench/RESULTS.md).

CountingToggleSet keeps the number of toggles that are on, so its state is O(1), and
notifies the set's waiters only when that state flips. A member toggle turned on or off by
`turn_to` notifies as before (its own waiters share the set's condition). The behaviour is
kopf's in every other respect; it is written to be offered upstream as a change to
`kopf._cogs.aiokits.aiotoggles.ToggleSet`.

`install()` replaces the class kopf constructs (`aiotoggles.ToggleSet(all)` in
orchestration.py, `ToggleSet(any)` in running.py) before `kopf.run`. It checks that kopf is
the version this was written against and that ToggleSet's source is unchanged; otherwise it
leaves kopf alone and says so (tests/unit/test_kopf_gate.py fails loudly in that case).
"""

import hashlib
import importlib.metadata
import inspect
import logging
import weakref
from collections.abc import Callable, Iterable

from kopf._cogs.aiokits import aiotoggles

log = logging.getLogger("portico.kopf_gate")

KOPF_VERSION = "1.45.2"
# sha256 of inspect.getsource(aiotoggles) in KOPF_VERSION: what this patch was written against.
TOGGLES_SOURCE_SHA256 = "8308730e8c42c15fc975c4900bad8ab12589f654f699feff5a25f3032416e444"


class _MemberToggle(aiotoggles.Toggle):
    """A toggle of a CountingToggleSet: turning it keeps the set's count."""

    def __init__(
        self,
        state: bool,
        *,
        name: str | None,
        owner: "CountingToggleSet",
    ) -> None:
        super().__init__(state, name=name, condition=owner._condition)
        self._owner = owner

    async def turn_to(self, __state: bool) -> None:
        state = bool(__state)
        async with self._condition:
            if state != self._state and self in self._owner._toggles:
                self._owner._on += 1 if state else -1
            self._state = state
            self._condition.notify_all()  # rare (peering, pauses): as kopf does


class CountingToggleSet(aiotoggles.ToggleSet):
    """kopf's ToggleSet with an O(1) state for `all` and `any`, notifying on flips only."""

    def __init__(self, fn: Callable[[Iterable[bool]], bool]) -> None:
        super().__init__(fn)
        self._on = 0  # how many toggles in the set are on
        if fn is any:  # kopf makes one per run: `operator_paused` (running.py)
            _pause_sets.append(weakref.ref(self))

    def is_on(self) -> bool:
        if self._fn is all:
            return self._on == len(self._toggles)
        if self._fn is any:
            return self._on > 0
        return super().is_on()

    async def make_toggle(
        self, __val: bool = False, *, name: str | None = None
    ) -> aiotoggles.Toggle:
        toggle = _MemberToggle(bool(__val), name=name, owner=self)
        async with self._condition:
            before = self.is_on()
            self._toggles.add(toggle)
            self._on += toggle.is_on()
            self._notify_on_flip(before)
        return toggle

    async def drop_toggle(self, toggle: aiotoggles.Toggle) -> None:
        await self.drop_toggles([toggle])

    async def drop_toggles(self, toggles: Iterable[aiotoggles.Toggle]) -> None:
        async with self._condition:
            before = self.is_on()
            for toggle in toggles:
                if toggle in self._toggles:
                    self._toggles.discard(toggle)
                    self._on -= toggle.is_on()
            self._notify_on_flip(before)

    def _notify_on_flip(self, before: bool) -> None:
        if self.is_on() != before or self._fn not in (all, any):
            self._condition.notify_all()


_pause_sets: list["weakref.ref[CountingToggleSet]"] = []


def operator_paused() -> bool | None:
    """Whether kopf has paused this operator (a standby replica under peering), or None if
    that cannot be known (kopf's own ToggleSet is in use). Call on the event loop."""
    live = [s for s in (ref() for ref in _pause_sets) if s is not None]
    return live[-1].is_on() if live else None


def kopf_version() -> str:
    return importlib.metadata.version("kopf")


def toggles_source_digest() -> str:
    return hashlib.sha256(inspect.getsource(aiotoggles).encode()).hexdigest()


def installable(version: str, digest: str) -> str | None:
    """Why the patch must not be installed over this kopf, or None when it may."""
    if version != KOPF_VERSION:
        return f"kopf is {version}, the gate patch was written for {KOPF_VERSION}"
    if digest != TOGGLES_SOURCE_SHA256:
        return "kopf's aiotoggles.py differs from the one the gate patch was written for"
    return None


def install() -> bool:
    """Make kopf build CountingToggleSets; False (with a warning) if kopf is not the one
    this was written against, in which case kopf's own (quadratic) gate stays."""
    if aiotoggles.ToggleSet is CountingToggleSet:
        return True
    why = installable(kopf_version(), toggles_source_digest())
    if why is not None:
        log.warning("not patching kopf's index gate: %s; restarts may be slow", why)
        return False
    aiotoggles.ToggleSet = CountingToggleSet  # type: ignore[misc]
    return True

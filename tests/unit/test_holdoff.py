"""A held step returns its last outcome until the retry time, then lets the call through."""

import time

from portico.reconcilers.holdoff import Holdoff


def test_hold_then_release_by_time_and_by_success() -> None:
    holdoff: Holdoff[str] = Holdoff()
    assert holdoff.held("k") is None
    assert holdoff.hold("k", 0.05, "waiting") == "waiting"
    assert holdoff.held("k") == "waiting"
    deadline = time.monotonic() + 2
    while holdoff.held("k") is not None:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    holdoff.hold("k", 60, "waiting")
    holdoff.release("k")
    assert holdoff.held("k") is None


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_expired_holds_of_keys_never_asked_again_are_dropped() -> None:
    """Entities that were deleted while held must not stay in the table forever."""
    clock = Clock()
    holdoff: Holdoff[str] = Holdoff(clock=clock)
    for i in range(10_000):  # each held once, never asked again
        holdoff.hold(("gone", i), 30, "waiting")
        clock.now += 1
    assert len(holdoff) <= 2 * 30 + 64  # about twice the live ones, never all of them
    live = [("live", i) for i in range(200)]
    for key in live:
        holdoff.hold(key, 3600, "waiting")
    clock.now += 60  # every "gone" hold has expired
    for i in range(1000):
        holdoff.hold(("new", i), 1, "waiting")
        clock.now += 2
    assert len(holdoff) <= 2 * (len(live) + 1) + 64
    assert all(holdoff.held(key) == "waiting" for key in live)  # live holds are kept


async def test_held_call_calls_out_only_when_no_hold_is_in_force() -> None:
    from dataclasses import dataclass

    from portico.reconcilers.holdoff import held_call

    @dataclass(frozen=True)
    class Outcome:
        retry_after: float | None

    now = [0.0]
    holdoff: Holdoff[Outcome] = Holdoff(clock=lambda: now[0])
    calls: list[Outcome] = []

    async def call(result: Outcome) -> Outcome:
        calls.append(result)
        return result

    failing = Outcome(30.0)
    assert await held_call(holdoff, "k", lambda: call(failing)) is failing
    assert await held_call(holdoff, "k", lambda: call(Outcome(None))) is failing  # held
    assert len(calls) == 1
    now[0] = 31.0
    done = Outcome(None)
    assert await held_call(holdoff, "k", lambda: call(done)) is done
    assert len(holdoff) == 0  # a success releases the hold

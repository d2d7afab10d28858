"""The roll-up debounce (reconcilers/debounce.py), on a virtual clock: an isolated change is
queued after the quiet time; a burst is queued at its bound, which grows eightfold while
the burst lasts (up to the longest) and is back to the first once things were quiet; a key that goes
away is never queued."""

import asyncio

import pytest

from portico.reconcilers.debounce import Debouncer
from support.clock import VirtualClock


def run(
    loop: VirtualClock, until: float, touch_every: float | None, debouncer: Debouncer[str]
) -> None:
    """Move the clock to `until` in 10 ms steps, touching "system" every `touch_every` s."""
    next_touch = loop.now if touch_every is not None else None

    async def drive() -> None:
        nonlocal next_touch
        while loop.now < until - 1e-9:
            if next_touch is not None and loop.now >= next_touch - 1e-9:
                debouncer.touch("system")
                assert touch_every is not None
                next_touch += touch_every
            loop.now = round(loop.now + 0.01, 6)
            await asyncio.sleep(0)  # timers due at the new time run

    loop.run_until_complete(drive())


def debouncer(fired: list[tuple[str, float]], loop: VirtualClock) -> Debouncer[str]:
    return Debouncer(lambda key: fired.append((key, loop.now)), quiet=0.25, first=1.0, longest=8.0)


def test_an_isolated_change_is_queued_after_the_quiet_time(loop: VirtualClock) -> None:
    fired: list[tuple[str, float]] = []
    d = debouncer(fired, loop)
    run(loop, 0.01, 1.0, d)  # one touch at t=0
    run(loop, 2.0, None, d)
    assert fired == [("system", pytest.approx(0.25, abs=0.02))]
    assert len(d) == 0


def test_a_burst_is_queued_at_bounds_that_grow_then_once_after_it(loop: VirtualClock) -> None:
    fired: list[tuple[str, float]] = []
    d = debouncer(fired, loop)
    run(loop, 20.0, 0.1, d)  # a member changes every 100 ms for 20 s
    run(loop, 23.0, None, d)
    times = [round(t, 2) for _, t in fired]
    # bounds 1, 8, 8, each from the first change after the last write (100 ms later); then
    # the burst's quiet time (2 s) after the last change (19.9 s)
    expected = [1.0, 9.1, 17.2, 21.9]
    assert times == [pytest.approx(t, abs=0.03) for t in expected]  # 10 ms clock steps
    # the burst is over (no write for the longest bound): an isolated change is back to the
    # quiet time
    fired.clear()
    run(loop, 30.0, None, d)
    run(loop, 30.01, 1.0, d)
    run(loop, 32.0, None, d)
    assert [round(t - 30.0, 2) for _, t in fired] == [pytest.approx(0.25, abs=0.02)]


def test_a_burst_that_starts_slowly_is_still_written_few_times(loop: VirtualClock) -> None:
    """A drain's first member changes trickle in (each alone after a quiet moment) before
    the bulk: a key touched again within the longest bound of its last write is in a
    burst."""
    fired: list[tuple[str, float]] = []
    d = debouncer(fired, loop)
    run(loop, 0.01, 1.0, d)  # t=0
    run(loop, 0.6, None, d)  # written at 0.25
    run(loop, 0.61, 1.0, d)  # another alone at 0.6
    run(loop, 1.2, None, d)
    run(loop, 12.0, 0.2, d)  # then the bulk, for 11 s
    run(loop, 16.0, None, d)
    assert len(fired) == 3  # 0.25 s, at the 8 s bound, 2 s after the last change


def test_a_lull_in_a_burst_does_not_restart_its_bounds(loop: VirtualClock) -> None:
    """A System's members in a node's drain change every ~0.26 s: a pause longer than the
    quiet time but shorter than the burst's quiet is still the same burst."""
    fired: list[tuple[str, float]] = []
    d = debouncer(fired, loop)
    run(loop, 6.0, 0.1, d)
    run(loop, 6.5, None, d)  # a lull of 0.6 s
    run(loop, 12.0, 0.1, d)
    run(loop, 16.0, None, d)
    assert len(fired) == 3  # 1 s, 9.1 s, then once after the burst


def test_writes_in_a_burst_grow_with_its_log_not_its_length(loop: VirtualClock) -> None:
    counts = {}
    for seconds in (2.0, 10.0, 90.0):
        fired: list[tuple[str, float]] = []
        d = debouncer(fired, loop)
        start = loop.now
        run(loop, start + seconds, 0.05, d)
        run(loop, start + seconds + 1.0, None, d)
        counts[seconds] = len(fired)
    assert counts[2.0] <= 2
    assert counts[10.0] <= 3  # a node's drain at N=1000 lasted 8-13 s (bench, issue 14)
    assert counts[90.0] <= 15  # one per 8 s once the bound is at its longest
    print(f"\nroll-up writes for a burst of 2 s, 10 s, 90 s: {counts}")


def test_a_key_that_goes_away_is_never_queued(loop: VirtualClock) -> None:
    fired: list[tuple[str, float]] = []
    d = debouncer(fired, loop)
    run(loop, 0.01, 1.0, d)
    d.forget("system")
    run(loop, 2.0, None, d)
    assert fired == []


def test_while_held_a_due_key_waits_and_is_queued_once_when_the_hold_ends(
    loop: VirtualClock,
) -> None:
    fired: list[tuple[str, float]] = []
    importing = True
    d = Debouncer(
        lambda key: fired.append((key, loop.now)),
        quiet=0.25,
        hold=lambda: importing,
        hold_limit=120.0,
    )
    run(loop, 30.0, 0.1, d)  # a member every 100 ms for 30 s, all during an import
    assert fired == []
    assert len(d) == 1
    importing = False
    run(loop, 31.0, None, d)
    assert fired == [("system", pytest.approx(30.0, abs=0.3))]  # within one recheck
    assert len(d) == 0


def test_a_hold_never_delays_a_key_past_its_limit(loop: VirtualClock) -> None:
    fired: list[tuple[str, float]] = []
    d = Debouncer(
        lambda key: fired.append((key, loop.now)), quiet=0.25, hold=lambda: True, hold_limit=10.0
    )
    run(loop, 25.0, 0.1, d)  # an import that never ends
    times = [round(t) for _, t in fired]
    assert times == [10, 20]  # once per limit, counted from the first change it waited for


def test_a_held_key_that_goes_away_is_never_queued(loop: VirtualClock) -> None:
    fired: list[tuple[str, float]] = []
    importing = True
    d = Debouncer(lambda key: fired.append((key, loop.now)), hold=lambda: importing)
    run(loop, 2.0, 0.1, d)
    d.forget("system")
    importing = False
    run(loop, 4.0, None, d)
    assert fired == []
    assert len(d) == 0

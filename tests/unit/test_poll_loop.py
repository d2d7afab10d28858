"""The loop every poller shares (reconcilers/poll_loop.py): a round, then a jittered pause
that wake() cuts short; a round that raises does not end the polls; stop() closes."""

import asyncio

from portico.reconcilers.poll_loop import PollLoop
from support.poll import eventually_async


class Counting(PollLoop):
    name = "counting"

    def __init__(self, fail_first: bool = False) -> None:
        super().__init__()
        self.rounds = 0
        self.closed = False
        self._fail_first = fail_first

    async def poll_once(self) -> None:
        self.rounds += 1
        if self._fail_first and self.rounds == 1:
            raise ValueError("an answer nothing expected")

    def interval(self) -> float:
        return 3600.0  # only wake() starts another round within a test

    async def close(self) -> None:
        self.closed = True


async def test_wake_starts_a_round_at_once_and_stop_closes() -> None:
    loop = Counting()
    loop.start()
    try:
        await eventually_async(lambda: _rounds(loop, 1), within=2)
        loop.wake()
        await eventually_async(lambda: _rounds(loop, 2), within=2)
        await asyncio.sleep(0.05)
        assert loop.rounds == 2  # the hour's pause holds without a wake
    finally:
        await loop.stop()
    assert loop.closed


async def test_a_round_that_raises_does_not_end_the_polls() -> None:
    loop = Counting(fail_first=True)
    loop.start()
    try:
        await eventually_async(lambda: _rounds(loop, 2), within=10)  # after the back-off
    finally:
        await loop.stop()


async def _rounds(loop: Counting, n: int) -> None:
    assert loop.rounds == n


async def test_a_standby_replica_skips_its_rounds_until_it_is_active() -> None:
    loop = Counting()
    standby = True
    loop.paused = lambda: standby
    loop.start()
    try:
        loop.wake()
        await asyncio.sleep(0.05)
        assert loop.rounds == 0  # woken, but paused: no request spent
        standby = False
        loop.wake()
        await eventually_async(lambda: _rounds(loop, 1), within=2)
    finally:
        await loop.stop()

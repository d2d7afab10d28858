"""The work queue: one pending copy per key, a re-add during work runs once more after it,
and retries back off exponentially."""

import asyncio

from portico.reconcilers.queue import WorkQueue


async def test_a_key_is_queued_once_however_often_it_is_added() -> None:
    q = WorkQueue()
    for _ in range(5):
        q.add("a")
    q.add("b")
    assert len(q) == 2
    assert await q.get() == "a"
    assert await q.get() == "b"


async def test_a_key_added_while_active_runs_again_after_done_never_concurrently() -> None:
    q = WorkQueue()
    q.add("a")
    key = await q.get()
    q.add("a")
    assert q._queue.empty()  # not handed out twice at once
    q.done(key)
    assert await asyncio.wait_for(q.get(), 1) == "a"


async def test_retry_backs_off_and_forget_resets() -> None:
    q = WorkQueue(base_delay=0.01, max_delay=0.04)
    q.add("a")
    await q.get()
    q.done("a")
    assert q.retry("a") == 0.01
    assert await asyncio.wait_for(q.get(), 1) == "a"
    q.done("a")
    assert q.retry("a") == 0.02
    await asyncio.wait_for(q.get(), 1)
    q.done("a")
    q.forget("a")
    assert q.retry("a") == 0.01

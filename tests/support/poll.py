"""Poll with a deadline instead of sleeping and hoping."""

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


def eventually(check: Callable[[], T], *, timeout: float = 15.0, interval: float = 0.1) -> T:
    """Call `check` until it returns without AssertionError; re-raise the last one at the end."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except AssertionError:
            if time.monotonic() >= deadline:
                raise
        time.sleep(interval)


async def eventually_async(
    check: Callable[[], Awaitable[T]], *, within: float = 15.0, interval: float = 0.02
) -> T:
    """`eventually` for async checks inside an event loop (the loop keeps running)."""
    deadline = time.monotonic() + within
    while True:
        try:
            return await check()
        except AssertionError:
            if time.monotonic() >= deadline:
                raise
        await asyncio.sleep(interval)

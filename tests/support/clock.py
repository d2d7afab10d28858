"""An asyncio event loop on a virtual clock, for timing logic without real waiting (the
`virtual_loop` fixture is in tests/unit/conftest.py)."""

import asyncio


class VirtualClock(asyncio.SelectorEventLoop):
    """An event loop whose clock only moves when the test says: sleeps take no time."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0

    def time(self) -> float:
        return self.now

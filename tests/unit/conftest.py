"""Fixtures shared by the unit tests."""

from collections.abc import Iterator

import pytest

from support.clock import VirtualClock


@pytest.fixture
def loop() -> Iterator[VirtualClock]:
    """An event loop whose clock moves only when the test moves it."""
    loop = VirtualClock()
    yield loop
    loop.close()

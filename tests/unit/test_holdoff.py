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

"""kopf's index gate made linear (portico/kopf_gate.py): the counting ToggleSet behaves as
kopf's own for `all` and `any` through any sequence of toggles made, turned and dropped;
its waiters wake once per flip, not once per toggle; install() makes kopf build it; and the
kopf installed is the one it was written against (this file fails loudly when not)."""

import asyncio
import random
from collections.abc import Callable, Iterable

import pytest
from kopf._cogs.aiokits import aiotoggles

from portico import kopf_gate
from portico.kopf_gate import CountingToggleSet

KOPFS_OWN = aiotoggles.ToggleSet  # before any install() in this process replaced it


def test_the_installed_kopf_is_the_one_the_gate_patch_was_written_for() -> None:
    why = kopf_gate.installable(kopf_gate.kopf_version(), kopf_gate.toggles_source_digest())
    assert why is None, (
        f"{why}. kopf changed underneath portico/kopf_gate.py: re-read kopf's "
        "aiotoggles.py and its callers (orchestration.py, processing.py, queueing.py), "
        "adapt CountingToggleSet, then update KOPF_VERSION and TOGGLES_SOURCE_SHA256."
    )


def test_another_kopf_is_refused() -> None:
    digest = kopf_gate.TOGGLES_SOURCE_SHA256
    assert "written for 1.45.2" in str(kopf_gate.installable("1.46.0", digest))
    assert "differs" in str(kopf_gate.installable(kopf_gate.KOPF_VERSION, "0" * 64))


@pytest.mark.parametrize("fn", [all, any], ids=["all", "any"])
async def test_it_agrees_with_kopfs_toggleset_through_random_operations(
    fn: Callable[[Iterable[bool]], bool],
) -> None:
    rng = random.Random(14)
    theirs, ours = KOPFS_OWN(fn), CountingToggleSet(fn)
    pairs: list[tuple[aiotoggles.Toggle, aiotoggles.Toggle]] = []
    for step in range(2000):
        action = rng.choice(["make", "make", "turn", "drop", "drop_many"])
        if action == "make" or not pairs:
            state = rng.random() < 0.5
            pairs.append((await theirs.make_toggle(state), await ours.make_toggle(state)))
        elif action == "turn":
            state = rng.random() < 0.5
            a, b = rng.choice(pairs)
            await a.turn_to(state)
            await b.turn_to(state)
        elif action == "drop":
            a, b = pairs.pop(rng.randrange(len(pairs)))
            await theirs.drop_toggle(a)
            await ours.drop_toggle(b)
            await b.turn_to(not b.is_on())  # a dropped toggle no longer counts
        else:
            dropped = [pairs.pop(rng.randrange(len(pairs))) for _ in range(min(3, len(pairs)))]
            await theirs.drop_toggles([a for a, _ in dropped])
            await ours.drop_toggles([b for _, b in dropped])
        assert (len(ours), ours.is_on()) == (len(theirs), theirs.is_on()), (step, action)


async def _gate(toggleset: aiotoggles.ToggleSet, n: int) -> int:
    """kopf's start, in miniature: n objects listed, each with a toggle; each object's
    worker drops its own toggle and waits for the whole set (processing.py). Returns how
    many times the waiters evaluated the set's state."""
    checks = 0
    is_on = toggleset.is_on

    def counted() -> bool:
        nonlocal checks
        checks += 1
        return is_on()

    toggleset.is_on = counted  # type: ignore[method-assign]
    toggles = [await toggleset.make_toggle(name=f"object-{i}") for i in range(n)]

    async def worker(toggle: aiotoggles.Toggle) -> None:
        await toggleset.drop_toggle(toggle)
        await toggleset.wait_for(True)

    workers = []
    for toggle in toggles:  # the listing arrives object by object: workers start in turn
        workers.append(asyncio.create_task(worker(toggle)))
        await asyncio.sleep(0)
    await asyncio.wait_for(asyncio.gather(*workers), timeout=60)
    return checks


async def test_waiters_wake_once_per_flip_not_once_per_toggle() -> None:
    n = 400
    ours = await _gate(CountingToggleSet(all), n)
    theirs = await _gate(KOPFS_OWN(all), n)
    print(f"\nstate checks for {n} objects: counting {ours}, kopf's own {theirs}")
    assert ours <= 8 * n  # linear: a few checks per toggle made, dropped and waited on
    assert theirs >= n * n // 4  # the quadratic it replaces (so this test can tell)


async def test_waiters_for_either_state_and_for_a_member_are_woken() -> None:
    paused = CountingToggleSet(any)
    peering = await paused.make_toggle(False, name="peering")
    unpaused = asyncio.create_task(paused.wait_for(True))
    member_on = asyncio.create_task(peering.wait_for(True))
    await asyncio.sleep(0)
    assert not unpaused.done()
    await peering.turn_to(True)
    await asyncio.wait_for(asyncio.gather(unpaused, member_on), timeout=1)
    resumed = asyncio.create_task(paused.wait_for(False))
    await asyncio.sleep(0)
    await paused.drop_toggle(peering)
    await asyncio.wait_for(resumed, timeout=1)


def test_install_makes_kopf_build_the_counting_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(aiotoggles, "ToggleSet", KOPFS_OWN)
    assert kopf_gate.install() is True
    from kopf._core.reactor import orchestration  # kopf builds `aiotoggles.ToggleSet(all)`

    assert orchestration.aiotoggles.ToggleSet is CountingToggleSet
    assert kopf_gate.install() is True  # twice is harmless


def test_install_leaves_another_kopf_alone(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(aiotoggles, "ToggleSet", KOPFS_OWN)
    monkeypatch.setattr(kopf_gate, "kopf_version", lambda: "2.0.0")
    assert kopf_gate.install() is False
    assert aiotoggles.ToggleSet is KOPFS_OWN
    assert "not patching kopf's index gate" in caplog.text

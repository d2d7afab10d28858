"""A catalog applied at once: its roll-ups are written once, with every member in them,
not once per member arriving; steady churn and a restart still update roll-ups at once
(reconcilers/arrivals.py, the hold in reconcilers/debounce.py). On a virtual clock, with
the engine writing to a fake API server."""

import asyncio
from typing import Any

from portico.reconcilers.catalog import CatalogEngine
from portico.reconcilers.relations import Relations
from support.clock import VirtualClock
from support.engine import Store, drain, engine_with_fake_api, index, make_body

SPEC = {"type": "service", "lifecycle": "production", "owner": "group:team", "system": "shop"}


def apply(
    loop: VirtualClock,
    engine: CatalogEngine,
    stores: tuple[Store, Relations],
    bodies: list[dict[str, Any]],
    every: float,
    settle: float = 5.0,
) -> None:
    """Each body arrives `every` seconds (indexed, then observed, as kopf does); the
    engine's queue is drained as its workers would, in 10 ms steps, until `settle` s after
    the last one."""

    async def drive() -> None:
        due = loop.now
        end = loop.now + every * len(bodies) + settle
        pending = list(bodies)
        while loop.now < end:
            while pending and loop.now >= due - 1e-9:
                view = index(*stores, pending.pop(0))
                engine.observe(view, deleted=False)
                due += every
            await drain(engine)
            loop.now = round(loop.now + 0.01, 6)
            await asyncio.sleep(0)  # timers due at the new time run
            await drain(engine)

    loop.run_until_complete(drive())


def writes_to(patches: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [p["body"]["status"] for p in patches if p["url"].endswith(f"/{name}/status")]


def test_a_catalog_applied_at_once_writes_its_system_once_with_every_member(
    loop: VirtualClock,
) -> None:
    engine, patches, entities, edges = engine_with_fake_api()
    system = make_body("System", "shop", {"owner": "group:team"})
    members = [make_body("Component", f"c-{i}", SPEC) for i in range(300)]
    apply(loop, engine, (entities, edges), [system, *members], every=0.01)  # 100 a second
    system_writes = writes_to(patches, "systems/shop")
    assert len(system_writes) == 1
    assert len(system_writes[0]["members"]) == 300
    assert all(len(writes_to(patches, f"components/c-{i}")) == 1 for i in range(300))


def test_members_arriving_slowly_update_their_system_as_they_come(loop: VirtualClock) -> None:
    engine, patches, entities, edges = engine_with_fake_api()
    system = make_body("System", "shop", {"owner": "group:team"})
    members = [make_body("Component", f"c-{i}", SPEC) for i in range(5)]
    apply(loop, engine, (entities, edges), [system, *members], every=9.0)  # not an import
    counts = [len(w["members"]) for w in writes_to(patches, "systems/shop")]
    assert counts[0] == 0
    assert counts[-1] == 5
    assert len(counts) >= 5  # written soon after each member, not held


def test_a_restart_listing_a_decided_catalog_is_not_an_import(loop: VirtualClock) -> None:
    engine, _patches, entities, edges = engine_with_fake_api()
    decided = {"observedGeneration": 1}
    system = make_body("System", "shop", {"owner": "group:team"}, status=decided)
    members = [make_body("Component", f"c-{i}", SPEC, status=decided) for i in range(300)]
    apply(loop, engine, (entities, edges), [system, *members], every=0.001, settle=0.0)
    assert not engine.arrivals.importing()
    # Each listed entity is decided on its own event; its members do not make the System
    # wait out a burst (a restart of a big catalog was busy with roll-ups 10 s longer).
    assert len(engine.rollups) == 0

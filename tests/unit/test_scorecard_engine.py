"""Scorecards in the engine: decided on the status this reconcile computed, written once,
never again while nothing changed, an Event when the level moves, and the gauge counted."""

import json
from typing import Any

from portico.domain.refs import EntityKey
from portico.models.config import OperatorConfig
from support.engine import drain, engine_with_fake_api, index, make_body

SPEC = {"type": "service", "lifecycle": "experimental", "owner": "group:team"}
KEY = EntityKey("component", "shop", "a")


def writes(requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r["body"]["status"] for r in requests if r["url"].endswith("/status")]


def events(requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r["body"] for r in requests if r["url"].endswith("/events")]


async def test_a_scorecard_is_written_with_the_status_and_not_again_when_unchanged() -> None:
    engine, requests, entities, edges = engine_with_fake_api()
    index(entities, edges, make_body("Component", "a", SPEC))
    await engine.reconcile(KEY)
    (status,) = writes(requests)
    card = status["scorecard"]
    assert card["level"] == "none"
    assert card["message"].startswith("bronze needs: description (set spec.description); "
                                      "system (set spec.system")  # fmt: skip
    # The watch brings our write back; the card is the same: nothing is written.
    index(entities, edges, make_body("Component", "a", SPEC, rv="2", status=status))
    await engine.reconcile(KEY)
    assert len(writes(requests)) == 1
    assert engine.scorecards.tally[("owner", "Pass")] == 1
    assert engine.scorecards.tally[("system", "Fail")] == 1


async def test_the_level_follows_the_entity_with_an_event_each_way() -> None:
    engine, requests, entities, edges = engine_with_fake_api()
    index(entities, edges, make_body("Component", "a", SPEC))
    await engine.reconcile(KEY)
    status = writes(requests)[-1]
    better = {**SPEC, "system": "shop", "description": "Takes the money"}
    index(entities, edges, make_body("Component", "a", better, rv="3", status=status))
    engine.queue.add(KEY)
    await drain(engine)
    status = writes(requests)[-1]
    assert status["scorecard"]["level"] == "bronze"
    (up,) = events(requests)
    assert (up["reason"], up["type"]) == ("ScorecardLevelChanged", "Normal")
    assert up["note"].startswith("Scorecard level none -> bronze: silver needs: docs")
    assert engine.scorecards.tally[("system", "Pass")] == 1
    assert ("system", "Fail") not in engine.scorecards.tally

    index(entities, edges, make_body("Component", "a", SPEC, rv="5", status=status))
    engine.queue.add(KEY)
    await drain(engine)
    down = events(requests)[-1]
    assert (down["reason"], down["type"]) == ("ScorecardLevelChanged", "Warning")
    assert "bronze -> none" in down["note"]


async def test_a_deleted_entity_leaves_the_gauge() -> None:
    engine, _, entities, edges = engine_with_fake_api()
    view = index(entities, edges, make_body("Component", "a", SPEC))
    await engine.reconcile(KEY)
    assert sum(engine.scorecards.tally.values()) == 9  # production-observed: not experimental
    engine.observe(view, deleted=True)
    assert engine.scorecards.tally == {}


async def test_a_scorecard_reads_the_health_decided_in_the_same_reconcile() -> None:
    engine, requests, entities, edges = engine_with_fake_api()
    engine._config = lambda: _config_with(  # type: ignore[method-assign]
        {"levels": ["observed"], "checks": [{
            "name": "health", "level": "observed",
            "expression": 'has(self.status.health) && self.status.health.status == "Missing"',
        }]}
    )  # fmt: skip
    spec = {**SPEC, "observe": {"kubernetes": {"selector": {"matchLabels": {"app": "a"}}}}}
    index(entities, edges, make_body("Component", "a", spec))
    await engine.reconcile(KEY)
    (status,) = writes(requests)
    assert status["health"]["status"] == "Missing"  # no workload selected yet
    assert status["scorecard"]["level"] == "observed", json.dumps(status["scorecard"])


def _config_with(scorecards: dict[str, Any]) -> OperatorConfig:
    return OperatorConfig.model_validate({"scorecards": scorecards})


async def test_an_entity_that_left_the_shard_or_was_deleted_mid_reconcile_is_not_counted() -> None:
    engine, _, entities, edges = engine_with_fake_api()
    index(entities, edges, make_body("Component", "a", SPEC))
    await engine.reconcile(KEY)
    assert engine.scorecards.tally
    del entities[KEY]  # deleted, or its namespace moved to another shard's
    await engine.reconcile(KEY)
    assert engine.scorecards.tally == {}


async def test_a_level_moved_by_new_checks_is_not_an_event_per_entity() -> None:
    engine, requests, entities, edges = engine_with_fake_api()
    index(entities, edges, make_body("Component", "a", SPEC))
    await engine.reconcile(KEY)
    status = writes(requests)[-1]
    assert status["scorecard"]["level"] == "none"
    engine._config = lambda: _config_with(  # type: ignore[method-assign]
        {"levels": ["any"], "checks": [{"name": "t", "level": "any", "expression": "true"}]}
    )
    index(entities, edges, make_body("Component", "a", SPEC, rv="3", status=status))
    await engine.reconcile(KEY)
    assert writes(requests)[-1]["scorecard"]["level"] == "any"  # rescored and written
    assert events(requests) == []  # but the admin's change is not news about the entity
    # The entity's own change under the new checks is an Event again.
    engine._config = lambda: _config_with(  # type: ignore[method-assign]
        {"levels": ["any"], "checks": [{"name": "t", "level": "any",
                                        "expression": "has(self.spec.system)"}]}
    )  # fmt: skip
    status = writes(requests)[-1]
    index(entities, edges, make_body("Component", "a", SPEC, rv="5", status=status))
    await engine.reconcile(KEY)  # rescored by new checks again: none, no Event
    status = writes(requests)[-1]
    index(entities, edges, make_body("Component", "a", {**SPEC, "system": "s"}, rv="7",
                                     status=status))  # fmt: skip
    await engine.reconcile(KEY)
    (event,) = events(requests)
    assert "none -> any" in event["note"]

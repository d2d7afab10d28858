"""Steps as data (portico.reconcilers.steps): a kind's reconcile is its list of steps. The
matrix: a step that raises (a bug, a Portico error, a transient error) costs only its own
condition, and the others still run and the status is still written; what an earlier step
writes is seen by a later one; a new step plugs into the engine's list without touching
`CatalogEngine.reconcile`."""

from typing import Any

from test_engine import engine_with_fake_api, index, make_body

from portico.domain.conditions import cond
from portico.domain.refs import EntityKey
from portico.errors import ExternalError, TransientError
from portico.reconcilers.outcome import StepOutcome
from portico.reconcilers.steps import StepContext, run_steps

SPEC = {"type": "service", "lifecycle": "production", "owner": "group:team"}


class Fixed:
    def __init__(self, name: str, condition: str, result: Any) -> None:
        self.name, self.condition, self.result = name, condition, result
        self.seen: list[dict[str, Any]] = []

    async def __call__(self, ctx: StepContext) -> StepOutcome | None:
        self.seen.append(dict(ctx.view.status))
        if isinstance(self.result, Exception):
            raise self.result
        outcome: StepOutcome | None = self.result
        return outcome


async def test_a_step_that_raises_costs_only_its_own_condition() -> None:
    engine, patches, entities, edges = engine_with_fake_api()
    view = index(entities, edges, make_body("Component", "a", SPEC))
    bug = Fixed("buggy", "Widgets", ValueError("boom"))
    refused = Fixed("refused", "Gadgets", ExternalError("gadgets", "no", status=403))
    flaky = Fixed("flaky", "Gizmos", TransientError("gizmos", "down", retry_after=7))
    fine = Fixed("fine", "Doodads", StepOutcome([cond("Doodads", True, "Done", "ok")]))
    engine.steps["component"] = (bug, refused, flaky, fine)
    await engine.reconcile(view.key)
    assert len(patches) == 1, "the status is still written"
    conditions = {c["type"]: c for c in patches[0]["body"]["status"]["conditions"]}
    assert conditions["Widgets"]["status"] == "False"
    assert conditions["Widgets"]["reason"] == "StepError"
    assert "buggy: boom" in conditions["Widgets"]["message"]
    assert conditions["Gadgets"]["reason"] == "StepFailed"
    assert conditions["Gizmos"]["status"] == "Unknown"
    assert "retrying in 7s" in conditions["Gizmos"]["message"]
    assert conditions["Doodads"]["status"] == "True"
    assert conditions["Ready"]["status"] == "False"
    assert fine.seen, "the step after the failures still ran"
    # And the failed steps come back: the earliest retry is the transient error's.
    done = await run_steps((bug, flaky), StepContext(view, None, None, "now"))  # type: ignore[arg-type]
    assert done.retry_after == 7


async def test_what_a_step_writes_is_seen_by_the_next() -> None:
    _, _, entities, edges = engine_with_fake_api()
    view = index(entities, edges, make_body("Component", "a", SPEC))
    first = Fixed("first", "One", StepOutcome([], {"repository": {"url": "file:///r.git"}}))
    second = Fixed("second", "Two", None)
    done = await run_steps((first, second), StepContext(view, None, None, "now"))  # type: ignore[arg-type]
    assert second.seen == [{"repository": {"url": "file:///r.git"}}]
    assert done.fields == {"repository": {"url": "file:///r.git"}}
    assert done.view is not None
    assert done.view.status["repository"]["url"] == "file:///r.git"


async def test_a_new_step_plugs_in_as_data() -> None:
    engine, patches, entities, edges = engine_with_fake_api()
    view = index(entities, edges, make_body("Component", "a", SPEC))
    score = Fixed("scorecard", "Scored", StepOutcome([cond("Scored", True, "Gold", "3/3")]))
    engine.steps["component"] = (*engine.steps["component"], score)
    await engine.reconcile(EntityKey("component", "shop", "a"))
    conditions = {c["type"]: c for c in patches[0]["body"]["status"]["conditions"]}
    assert conditions["Scored"]["reason"] == "Gold"
    assert view.key == EntityKey("component", "shop", "a")

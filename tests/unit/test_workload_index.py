"""Workloads found by label, in both directions: a Component's selector finds its workloads,
and a workload's change wakes exactly the Components whose selectors match it now or
matched it before."""

from typing import Any

from portico.domain.entity import view_from_body
from portico.domain.workloads import Selector, WorkloadView, selector_from
from portico.reconcilers.workload_index import WorkloadIndex
from support.engine import Store, engine_with_fake_api, index, make_body

SPEC = {"type": "service", "lifecycle": "production", "owner": "group:team"}


def deployment(name: str, status: str = "Healthy", ns: str = "shop", **labels: str) -> WorkloadView:
    return WorkloadView("Deployment", ns, name, labels, status, "")


def watching(name: str, selector: dict[str, Any]) -> dict[str, Any]:
    spec = {**SPEC, "observe": {"kubernetes": {"selector": selector}}}
    return make_body("Component", name, spec)


def names(workloads: list[WorkloadView]) -> set[str]:
    return {w.name for w in workloads}


def test_a_selector_finds_its_workloads_and_only_in_its_namespace() -> None:
    index = WorkloadIndex()
    index.load(
        [
            deployment("web", app="web", tier="front"),
            deployment("web-canary", app="web", tier="canary"),
            deployment("api", app="api"),
            deployment("web", ns="other", app="web"),
        ]
    )
    front = selector_from({"matchLabels": {"app": "web", "tier": "front"}})
    assert names(index.selected("shop", front)) == {"web"}
    assert names(index.selected("shop", selector_from({"matchLabels": {"app": "web"}}))) == {
        "web",
        "web-canary",
    }
    only_expressions = selector_from(
        {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["canary"]}]}
    )
    assert names(index.selected("shop", only_expressions)) == {"web-canary"}
    assert index.selected("shop", Selector()) == []  # an empty selector selects nothing


def test_a_relabelled_workload_leaves_its_old_label_and_a_deleted_one_is_gone() -> None:
    index = WorkloadIndex()
    index.update(deployment("web", app="web"))
    index.update(deployment("web", app="shop-web"))
    assert index.selected("shop", selector_from({"matchLabels": {"app": "web"}})) == []
    assert names(index.selected("shop", selector_from({"matchLabels": {"app": "shop-web"}}))) == {
        "web"
    }
    index.remove(("Deployment", "shop", "web"))
    assert len(index) == 0
    assert index.selected("shop", selector_from({"matchLabels": {"app": "shop-web"}})) == []


async def test_a_workload_change_wakes_the_components_that_select_it_now_or_before() -> None:
    engine, _, entities, relations = engine_with_fake_api()
    web = index(entities, relations, watching("web", {"matchLabels": {"app": "web"}}))
    new = index(entities, relations, watching("new", {"matchLabels": {"app": "new-web"}}))
    any_canary = index(
        entities,
        relations,
        watching("canary", {"matchExpressions": [{"key": "track", "operator": "Exists"}]}),
    )
    index(entities, relations, watching("api", {"matchLabels": {"app": "api"}}))
    engine.observe_workload(deployment("d", app="web"), deleted=False)
    assert await queued(engine) == {web.key}
    engine.observe_workload(deployment("d", app="web"), deleted=False)  # unchanged: nothing
    assert await queued(engine) == set()
    engine.observe_workload(deployment("d", app="new-web", track="beta"), deleted=False)
    assert await queued(engine) == {web.key, new.key, any_canary.key}
    engine.observe_workload(deployment("d", app="new-web", track="beta"), deleted=True)
    assert await queued(engine) == {new.key, any_canary.key}


async def test_a_restart_judges_health_on_every_workload_listed_before_it() -> None:
    """kopf's gate holds every handler until the workloads are listed: the first decision
    after a restart must see them, or it writes Missing and then Healthy back."""
    engine, patches, _, _ = engine_with_fake_api()
    entities, workloads = Store(), Store()
    component = view_from_body("Component", watching("web", {"matchLabels": {"app": "web"}}))
    entities.put(component.key, component)
    workloads.put("shop", deployment("web", app="web"))
    engine.graph = None  # as in a new process: not bound yet
    engine.bind({"entities": entities, "workloads": workloads})
    engine.observe_workload(deployment("web", app="web"), deleted=False)  # its first event
    assert len(engine.queue) == 0  # known from the list: nothing to wake
    await engine.reconcile(component.key)
    assert patches[-1]["body"]["status"]["health"]["status"] == "Healthy"


async def queued(engine: Any) -> set[Any]:
    keys = set()
    while len(engine.queue):
        key = await engine.queue.get()
        keys.add(key)
        engine.queue.done(key)
    return keys

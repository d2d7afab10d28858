"""The reverse relations the engine keeps (who points at an entity, who watches a namespace,
whom an Application concerns): right after any sequence of versions, and built in full from
a complete index at the first event of a restart."""

from typing import Any

from portico.domain.argocd import APP_NAME_ANNOTATION, app_name
from portico.domain.entity import KUBERNETES_ID, view_from_body
from portico.domain.refs import EntityKey
from portico.reconcilers.relations import Relations
from support.engine import Store, engine_with_fake_api, make_body

SPEC = {"type": "service", "lifecycle": "production", "owner": "group:team"}


def component(name: str, rv: str = "1", **extra: Any) -> Any:
    annotations = extra.pop("annotations", {})
    body = make_body("Component", name, {**SPEC, **extra}, rv=rv)
    body["metadata"]["annotations"] = annotations
    return view_from_body("Component", body)


def sources(relations: Relations, kind: str, name: str) -> set[tuple[str, str]]:
    return {(e.type, e.source.name) for e in relations.incoming(EntityKey(kind, "shop", name))}


def test_a_component_moving_to_another_system_leaves_the_first() -> None:
    relations = Relations()
    relations.update(component("a", system="one", providesApis=["pay"]))
    relations.update(component("b", system="one"))
    assert sources(relations, "system", "one") == {("partOf", "a"), ("partOf", "b")}
    assert sources(relations, "api", "pay") == {("providesApi", "a")}
    relations.update(component("a", rv="2", system="two"))
    assert sources(relations, "system", "one") == {("partOf", "b")}
    assert sources(relations, "system", "two") == {("partOf", "a")}
    assert sources(relations, "api", "pay") == set()


def test_a_deleted_entity_points_at_nothing_and_watches_nothing() -> None:
    relations = Relations()
    a = component("a", system="one", annotations={KUBERNETES_ID: "web"})
    relations.update(a)
    assert relations.watchers("shop", {KUBERNETES_ID: "web"}) == [a.key]
    relations.remove(a.key)
    relations.remove(a.key)  # a second DELETED (a re-list) is harmless
    assert sources(relations, "system", "one") == set()
    assert relations.watchers("shop", {KUBERNETES_ID: "web"}) == []
    assert len(relations) == 0


def test_an_application_concerns_its_component_by_both_names_until_the_annotation_goes() -> None:
    relations = Relations()
    a = component("a", annotations={APP_NAME_ANNOTATION: "argocd/legacy-web"})
    relations.update(a)
    assert relations.app_watchers(app_name(a.key)) == [a.key]
    assert relations.app_watchers("legacy-web") == [a.key]
    relations.update(component("a", rv="2"))
    assert relations.app_watchers("legacy-web") == []
    assert relations.app_watchers(app_name(a.key)) == [a.key]


def test_a_component_that_stops_observing_kubernetes_watches_no_namespace() -> None:
    relations = Relations()
    relations.update(component("a", annotations={KUBERNETES_ID: "web"}))
    relations.update(component("a", rv="2"))
    assert relations.watchers("shop", {KUBERNETES_ID: "web"}) == []


async def test_a_restart_builds_the_relations_from_the_complete_index() -> None:
    """kopf calls the first event handler once every object is indexed; the engine's first
    sight of the index must know every member of a System before any member's own event,
    or the restart rewrites the System's members (0 writes is the restart's target)."""
    engine, patches, _, _ = engine_with_fake_api()
    entities = Store()
    members = [component(f"c-{i}", system="one") for i in range(3)]
    for view in members:
        entities.put(view.key, view)
    system = view_from_body("System", make_body("System", "one", {"owner": "group:team"}))
    entities.put(system.key, system)
    engine.graph = None  # as in a new process: not bound yet
    engine.bind({"entities": entities})
    engine.observe(system, deleted=False)  # the System's event comes first
    await engine.reconcile(system.key)
    (written,) = [p["body"]["status"] for p in patches if p["url"].endswith("systems/one/status")]
    assert [m["ref"] for m in written["members"]] == [f"component:shop/c-{i}" for i in range(3)]

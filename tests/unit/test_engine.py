"""The engine against a fake API server transport: one write per change, none when the
watch lags behind our own write, neighbours re-queued when an entity appears."""

import json
from typing import Any

import httpx

from portico.clients.kube import KubeClient
from portico.domain.refs import EntityKey
from portico.reconcilers.catalog import CatalogEngine
from support.engine import Store, drain, engine_with_fake_api, index, make_body


async def test_one_write_then_none_while_the_watch_lags() -> None:
    engine, patches, entities, edges = engine_with_fake_api()
    spec = {"type": "service", "lifecycle": "production", "owner": "group:team"}
    index(entities, edges, make_body("Component", "a", spec))
    key = EntityKey("component", "shop", "a")
    await engine.reconcile(key)
    await engine.reconcile(key)  # the index still shows the old status (rv 1)
    assert len(patches) == 1
    assert patches[0]["url"] == "/apis/portico.dev/v1alpha1/namespaces/shop/components/a/status"
    status = patches[0]["body"]["status"]
    assert status["observedGeneration"] == 1
    # The watch catches up with our write: still nothing to do.
    index(entities, edges, make_body("Component", "a", spec, rv="2", status=status))
    await engine.reconcile(key)
    assert len(patches) == 1


async def test_an_appearing_system_requeues_the_components_waiting_for_it() -> None:
    engine, _, entities, edges = engine_with_fake_api()
    spec = {"type": "service", "lifecycle": "production", "owner": "group:team", "system": "shop"}
    comp = index(entities, edges, make_body("Component", "a", spec))
    engine.observe(comp, deleted=False)
    assert await engine.queue.get() == comp.key
    engine.queue.done(comp.key)
    system = index(entities, edges, make_body("System", "shop", {"owner": "group:team"}))
    engine.observe(system, deleted=False)
    queued = {await engine.queue.get(), await engine.queue.get()}
    assert queued == {system.key, comp.key}


async def test_a_kubeconfig_token_is_sent_as_a_bearer_header(
    tmp_path: Any, monkeypatch: Any
) -> None:
    """Token kubeconfigs (ServiceAccounts, TokenRequest) must authenticate, not go anonymous."""
    import yaml

    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "c",
        "clusters": [
            {
                "name": "k",
                "cluster": {"server": "https://127.0.0.1:6443", "insecure-skip-tls-verify": True},
            }
        ],
        "users": [{"name": "u", "user": {"token": "sekrit-token"}}],
        "contexts": [{"name": "c", "context": {"cluster": "k", "user": "u"}}],
    }
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(config))
    monkeypatch.setenv("KUBECONFIG", str(path))
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("Authorization", ""))
        return httpx.Response(200, json={})

    kube = KubeClient.from_environment(transport=httpx.MockTransport(handler))
    await kube.patch_status("portico.dev", "v1alpha1", "components", "ns", "x", {})
    await kube.aclose()
    assert seen == ["Bearer sekrit-token"]


async def test_a_late_echo_of_an_earlier_write_causes_no_rewrite() -> None:
    """The watch may deliver our first write's echo after our second write: it is older than
    what we produced, so it must not look like news (it did, at N=5000, in the benchmark)."""
    engine, patches, entities, edges = _engine_returning(["11", "13"])
    spec = {"type": "service", "lifecycle": "production", "owner": "group:team"}
    key = EntityKey("component", "shop", "a")
    index(entities, edges, make_body("Component", "a", spec, rv="10"))
    await engine.reconcile(key)  # write 1: 10 -> 11
    first = patches[0]["status"]
    changed = make_body("Component", "a", spec, rv="12", status=first)
    changed["metadata"]["generation"] = 2
    index(entities, edges, changed)
    await engine.reconcile(key)  # write 2 (new generation): 12 -> 13
    assert len(patches) == 2
    index(entities, edges, make_body("Component", "a", spec, rv="11", status=first))  # late echo
    await engine.reconcile(key)
    assert len(patches) == 2


async def test_a_namespaces_label_change_requeues_what_its_labels_may_decide() -> None:
    """Tenancy rules select namespaces by label: a change of labels re-decides every entity
    in the namespace, and the Components scaffolded from its Templates (elsewhere too).
    Nothing else: not the first sight of a namespace, nor an unchanged one."""
    engine, _, entities, edges = engine_with_fake_api()
    spec = {"type": "service", "lifecycle": "production", "owner": "group:team"}
    here = index(entities, edges, make_body("Component", "a", spec))
    tmpl = index(entities, edges, make_body("Template", "t", {"owner": "group:team"}))
    elsewhere = make_body(
        "Component", "b", {**spec, "scaffold": {"templateRef": {"name": "t", "namespace": "shop"}}}
    )
    elsewhere["metadata"]["namespace"] = "other"
    scaffolded = index(entities, edges, elsewhere)
    index(entities, edges, {**make_body("Component", "c", spec), "metadata": {
        "name": "c", "namespace": "unrelated", "uid": "c", "generation": 1}})  # fmt: skip
    engine.observe_namespace("shop", {"team": "a"}, deleted=False)  # the initial list
    engine.observe_namespace("shop", {"team": "a"}, deleted=False)  # e.g. its annotations
    assert len(engine.queue) == 0
    engine.observe_namespace("shop", {"team": "b"}, deleted=False)
    queued = set()
    while len(engine.queue):
        key = await engine.queue.get()
        queued.add(key)
        engine.queue.done(key)
    assert queued == {here.key, tmpl.key, scaffolded.key}
    engine.observe_namespace("shop", {}, deleted=True)
    engine.observe_namespace("shop", {"team": "c"}, deleted=False)  # made again: first sight
    assert len(engine.queue) == 0


def _engine_returning(versions: list[str]) -> tuple[CatalogEngine, list[Any], Store, Any]:
    """An engine whose status patches produce the given resourceVersions, in order."""
    patches: list[Any] = []
    produced = iter(versions)

    def handler(request: httpx.Request) -> httpx.Response:
        patches.append(json.loads(request.content))
        return httpx.Response(200, json={"metadata": {"resourceVersion": next(produced)}})

    http = httpx.AsyncClient(base_url="https://api", transport=httpx.MockTransport(handler))
    engine = CatalogEngine(KubeClient(http), clock=lambda: "2026-01-01T00:00:00Z")
    entities = Store()
    engine.bind({"entities": entities})
    assert engine.graph is not None
    return engine, patches, entities, engine.graph.relations


async def test_the_echo_of_our_own_write_queues_nothing() -> None:
    """The watch event our status write produced could only decide what was just written."""
    engine, patches, entities, relations = _engine_returning(["11"])
    spec = {"type": "service", "lifecycle": "production", "owner": "group:team"}
    first = index(entities, relations, make_body("Component", "a", spec, rv="10"))
    engine.observe(first, deleted=False)
    await drain(engine)
    assert len(patches) == 1
    echo = make_body("Component", "a", spec, rv="11", status=patches[0]["status"])
    engine.observe(index(entities, relations, echo), deleted=False)
    assert engine.queue.idle()


async def test_a_spec_change_that_landed_under_our_write_is_still_decided() -> None:
    """A merge patch of /status does not check the resourceVersion: the object it produced
    may carry a spec changed after we read it. Its event is not an echo, and the change is
    decided (the spec change's own event was older than our write, so it was skipped)."""
    engine, patches, entities, relations = _engine_returning(["12", "13"])
    spec = {"type": "service", "lifecycle": "production", "owner": "group:team"}
    first = index(entities, relations, make_body("Component", "a", spec, rv="10"))
    engine.observe(first, deleted=False)
    await drain(engine)
    changed = make_body("Component", "a", {**spec, "lifecycle": "experimental"}, rv="11")
    changed["metadata"]["generation"] = 2
    engine.observe(index(entities, relations, changed), deleted=False)
    await drain(engine)
    assert len(patches) == 1  # rv 11 is older than the 12 our write produced: skipped
    produced = {**changed, "status": patches[0]["status"]}
    produced["metadata"] = {**changed["metadata"], "resourceVersion": "12"}
    engine.observe(index(entities, relations, produced), deleted=False)
    await drain(engine)
    assert [p["status"]["observedGeneration"] for p in patches] == [1, 2]


async def test_a_reconcile_deferred_to_our_echo_still_happens() -> None:
    """Something else asks for a reconcile (an Application appeared) while the watch still
    shows the object from before our write: that reconcile waits for the newer event, and
    that event, our own write's echo, must then be decided, not skipped as an echo."""
    engine, patches, entities, relations = _engine_returning(["11", "12"])
    spec = {"type": "service", "lifecycle": "production", "owner": "group:team"}
    first = index(entities, relations, make_body("Component", "a", spec, rv="10"))
    engine.observe(first, deleted=False)
    await drain(engine)
    engine.queue.add(first.key)  # e.g. observe_application: the index still shows rv 10
    await drain(engine)
    assert len(patches) == 1  # deferred: a newer event follows
    echo = make_body("Component", "a", spec, rv="11", status=patches[0]["status"])
    engine.observe(index(entities, relations, echo), deleted=False)
    assert not engine.queue.idle()

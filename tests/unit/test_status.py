"""Desired status and the minimal patch: refs resolved or named when missing, API providers,
System members, condition times that move only on a flip, and no patch when nothing changed."""

from typing import Any

from portico.domain.conditions import merge_conditions, summary_ready
from portico.domain.entity import EntityView, view_from_body
from portico.domain.refs import EntityKey
from portico.domain.relations import Edge
from portico.domain.status import OWNED, desired_status, status_patch
from portico.domain.workloads import Selector, WorkloadView


class FakeGraph:
    def __init__(self, *views: EntityView) -> None:
        self.views = {v.key: v for v in views}

    def get(self, key: EntityKey) -> EntityView | None:
        return self.views.get(key)

    def incoming(self, key: EntityKey) -> list[Edge]:
        return [e for v in self.views.values() for e in v.edges if e.target == key]

    def workloads(self, namespace: str, selector: Selector) -> list[WorkloadView]:
        return [w for w in self.workload_list if w.namespace == namespace]  # a superset

    workload_list: list[WorkloadView] = []

    def namespace_labels(self, namespace: str) -> dict[str, str]:
        return {}


def body(
    kind: str, name: str, spec: dict[str, Any], ns: str = "shop", **status: Any
) -> dict[str, Any]:
    return {
        "kind": kind,
        "metadata": {
            "name": name,
            "namespace": ns,
            "generation": 3,
            "uid": f"uid-{name}",
            "resourceVersion": "1",
        },
        "spec": spec,
        "status": status,
    }


COMP = {"type": "service", "lifecycle": "production", "owner": "group:team"}
API_SPEC = {
    "type": "openapi",
    "lifecycle": "production",
    "owner": "group:team",
    "definition": "openapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths: {}\n",
}


def conditions(status: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["type"]: c for c in status["conditions"]}


def test_missing_system_is_named_and_ready_is_false() -> None:
    comp = view_from_body("Component", body("Component", "orders", {**COMP, "system": "shop"}))
    status = desired_status(comp, FakeGraph(comp), now="2026-01-01T00:00:00Z")
    conds = conditions(status)
    assert conds["RefsResolved"]["status"] == "False"
    assert conds["RefsResolved"]["reason"] == "ReferenceNotFound"
    assert "system:shop/shop" in conds["RefsResolved"]["message"]
    assert conds["Ready"]["status"] == "False"
    assert conds["Ready"]["reason"] == "ReferenceNotFound"
    assert status["observedGeneration"] == 3
    assert all(c["observedGeneration"] == 3 for c in status["conditions"])


def test_present_system_resolves_and_unserved_kinds_are_not_checked() -> None:
    comp = view_from_body(
        "Component",
        body("Component", "orders", {**COMP, "system": "shop", "dependsOn": ["resource:db"]}),
    )
    sysv = view_from_body("System", body("System", "shop", {"owner": "group:team"}))
    conds = conditions(desired_status(comp, FakeGraph(comp, sysv), now="t"))
    assert conds["RefsResolved"]["status"] == "True"
    assert conds["Ready"]["status"] == "True"


def test_api_lists_providers_and_consumers_and_system_its_members() -> None:
    api = view_from_body("API", body("API", "checkout-api", {**API_SPEC, "system": "shop"}))
    svc = view_from_body(
        "Component",
        body("Component", "checkout", {**COMP, "system": "shop", "providesApis": ["checkout-api"]}),
    )
    web = view_from_body(
        "Component", body("Component", "web", {**COMP, "consumesApis": ["checkout-api"]})
    )
    sysv = view_from_body("System", body("System", "shop", {"owner": "group:team"}))
    graph = FakeGraph(api, svc, web, sysv)
    api_status = desired_status(api, graph, now="t")
    assert api_status["providers"] == ["component:shop/checkout"]
    assert api_status["consumers"] == ["component:shop/web"]
    assert api_status["definition"]["valid"] is True
    sys_status = desired_status(sysv, graph, now="t")
    assert [m["ref"] for m in sys_status["members"]] == [
        "api:shop/checkout-api",
        "component:shop/checkout",
    ]
    assert sys_status["summary"] == "1 components, 1 apis"
    assert {"type": "hasPart", "target": "component:shop/checkout"} in sys_status["relations"]


def test_condition_time_moves_only_when_status_flips() -> None:
    old = [
        {
            "type": "Ready",
            "status": "True",
            "reason": "A",
            "message": "",
            "lastTransitionTime": "2020-01-01T00:00:00Z",
        }
    ]
    same = merge_conditions(
        old,
        [{"type": "Ready", "status": "True", "reason": "B", "message": "m"}],
        generation=2,
        now="2026-01-01T00:00:00Z",
    )
    assert same[0]["lastTransitionTime"] == "2020-01-01T00:00:00Z"
    assert same[0]["reason"] == "B"
    flipped = merge_conditions(
        old,
        [{"type": "Ready", "status": "False", "reason": "C", "message": ""}],
        generation=2,
        now="2026-01-01T00:00:00Z",
    )
    assert flipped[0]["lastTransitionTime"] == "2026-01-01T00:00:00Z"


def test_ready_summarises_the_first_condition_that_is_not_true() -> None:
    ok = {"type": "A", "status": "True", "reason": "Fine", "message": ""}
    unknown = {"type": "B", "status": "Unknown", "reason": "Waiting", "message": "wait"}
    assert summary_ready([ok])["status"] == "True"
    assert summary_ready([ok, unknown]) == {
        "type": "Ready",
        "status": "Unknown",
        "reason": "Waiting",
        "message": "wait",
    }


def test_no_patch_when_status_is_already_what_we_want() -> None:
    comp = view_from_body("Component", body("Component", "orders", COMP))
    graph = FakeGraph(comp)
    first = desired_status(comp, graph, now="2026-01-01T00:00:00Z")
    settled = view_from_body("Component", body("Component", "orders", COMP, **first))
    again = desired_status(settled, graph, now="2027-01-01T00:00:00Z")
    assert status_patch(settled.status, again, OWNED["component"]) is None


def test_patch_holds_only_changed_fields_and_clears_dropped_ones() -> None:
    current = {
        "observedGeneration": 1,
        "relations": [],
        "members": [{"ref": "x"}],
        "kopf": {"progress": {}},
    }
    desired = {"observedGeneration": 2, "relations": []}
    assert status_patch(current, desired, OWNED["system"]) == {
        "observedGeneration": 2,
        "members": None,
    }


def test_a_spec_the_models_cannot_parse_becomes_a_message_not_an_exception() -> None:
    view = view_from_body("Component", body("Component", "x", {"type": "service"}))
    assert view.spec is None
    assert any(p.startswith("spec.lifecycle") for p in view.problems)
    conds = conditions(desired_status(view, FakeGraph(view), now="t"))
    assert conds["RefsResolved"]["reason"] == "InvalidReference"


def test_component_health_from_its_workloads_and_annotations() -> None:
    observed = view_from_body(
        "Component",
        body(
            "Component",
            "cart",
            {**COMP, "observe": {"kubernetes": {"selector": {"matchLabels": {"app": "cart"}}}}},
        ),
    )
    by_annotation = view_from_body(
        "Component",
        {
            **body("Component", "legacy", COMP),
            "metadata": {
                "name": "legacy",
                "namespace": "shop",
                "generation": 1,
                "annotations": {"backstage.io/kubernetes-id": "legacy"},
            },
        },
    )
    unobserved = view_from_body("Component", body("Component", "docs", COMP))
    graph = FakeGraph(observed, by_annotation, unobserved)
    graph.workload_list = [
        WorkloadView("Deployment", "shop", "cart", {"app": "cart"}, "Progressing", "1/3 ready"),
        WorkloadView(
            "StatefulSet",
            "shop",
            "legacy-db",
            {"backstage.io/kubernetes-id": "legacy"},
            "Healthy",
            "1/1 ready",
        ),
    ]
    cart = desired_status(observed, graph, now="t")["health"]
    assert cart["status"] == "Progressing"
    assert cart["message"] == "kubernetes: Deployment cart: 1/3 ready"
    assert desired_status(by_annotation, graph, now="t")["health"]["status"] == "Healthy"
    assert desired_status(unobserved, graph, now="t")["health"] is None


def test_api_without_providers_is_missing() -> None:
    api = view_from_body("API", body("API", "lonely", API_SPEC))
    health = desired_status(api, FakeGraph(api), now="t")["health"]
    assert health["status"] == "Missing"
    assert "no Component provides" in health["message"]


def test_map_keys_that_disappear_are_sent_as_null() -> None:
    current = {
        "counts": {"Healthy": 1, "Progressing": 2},
        "health": {
            "status": "Degraded",
            "reason": "KubernetesDegraded",
            "message": "m",
            "signals": [{"a": 1}],
        },
    }
    desired = {
        "counts": {"Healthy": 3},
        "health": {"status": "Healthy", "message": "ok", "signals": [{"a": 2}]},
    }
    patch = status_patch(current, desired, ("counts", "health"))
    assert patch == {
        "counts": {"Healthy": 3, "Progressing": None},
        "health": {"status": "Healthy", "reason": None, "message": "ok", "signals": [{"a": 2}]},
    }


def test_a_dashboard_problem_never_makes_the_component_not_ready() -> None:
    ok = {"type": "RefsResolved", "status": "True", "reason": "AllFound", "message": ""}
    dash = {
        "type": "DashboardReady",
        "status": "False",
        "reason": "GrafanaUnreachable",
        "message": "grafana: down",
    }
    assert summary_ready([ok, dash])["status"] == "True"


def test_observed_says_which_configured_source_could_not_be_read() -> None:
    from portico.domain.health import Signal
    from portico.domain.status import observed_condition

    assert observed_condition([]) is None
    ok = observed_condition([Signal("kubernetes", "Degraded", "0/3")])
    assert ok is not None
    assert ok["status"] == "True"
    bad = observed_condition(
        [
            Signal("kubernetes", "Healthy", "3/3"),
            Signal("prometheus", "Unknown", "unreachable", reason="PrometheusUnreachable"),
        ]
    )
    assert bad is not None
    assert (bad["status"], bad["reason"]) == ("False", "PrometheusUnreachable")
    assert "prometheus: unreachable" in bad["message"]


def test_backstage_project_slug_is_a_repository() -> None:
    from portico.domain.delivery import repository_url
    from portico.models.component import ComponentSpec

    spec = ComponentSpec.model_validate(COMP)
    assert repository_url(spec, {}, {"github.com/project-slug": "acme/checkout"}) == (
        "https://github.com/acme/checkout.git"
    )
    assert repository_url(spec, {}, {}) is None

"""`portico export`: what Portico learned reaches Backstage as its plugins' annotations, names
and references go back to Backstage's, and the HTTP endpoint serves the same document."""

import asyncio
import urllib.error
import urllib.request
from typing import Any

import pytest
import yaml

from portico.domain.backstage.export import export_catalog
from portico.domain.backstage.names import kube_name
from portico.domain.entity import view_from_body
from portico.metrics import serve
from portico.reconcilers.backstage_export import PATH, CatalogExport, render

PLATFORM = kube_name("Payments_Platform")


def component(name: str = "checkout", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "apiVersion": "portico.dev/v1alpha1",
        "kind": "Component",
        "metadata": {"name": name, "namespace": "payments", "uid": name},
        "spec": {"type": "service", "lifecycle": "production", "owner": "group:team-payments"},
    }
    for key, value in extra.items():
        body.setdefault(key, {}).update(value)
    return body


def exported(*objects: dict[str, Any]) -> list[dict[str, Any]]:
    return export_catalog(list(objects))


def test_learned_repository_argocd_grafana_and_health_become_plugin_annotations() -> None:
    obj = component(
        status={
            "repository": {"url": "https://github.com/acme/checkout.git", "defaultBranch": "main"},
            "argocd": {"application": "argocd/payments-checkout"},
            "grafana": {"dashboardUid": "portico-abc", "url": "https://grafana/d/portico-abc"},
            "health": {"status": "Degraded", "reason": "ArgoCDDegraded"},
        },
        spec={"observe": {"kubernetes": {}, "prometheus": {"alertLabels": {"service": "co"}}}},
    )
    notes = exported(obj)[0]["metadata"]["annotations"]
    assert notes["github.com/project-slug"] == "acme/checkout"
    assert notes["backstage.io/source-location"] == (
        "url:https://github.com/acme/checkout/tree/main/"
    )
    assert notes["argocd/app-name"] == "payments-checkout"
    assert notes["backstage.io/kubernetes-id"] == "checkout"
    assert notes["backstage.io/kubernetes-namespace"] == "payments"
    assert notes["prometheus.io/alert"] == "all"
    assert notes["prometheus.io/labels"] == "service=co"
    assert notes["grafana/dashboard-selector"] == "tags @> 'portico-component:payments.checkout'"
    assert notes["grafana/overview-dashboard"] == "https://grafana/d/portico-abc"
    assert notes["portico.dev/health"] == "Degraded"
    assert notes["portico.dev/health-reason"] == "ArgoCDDegraded"


def test_a_users_annotation_wins_and_bookkeeping_is_not_exported() -> None:
    obj = component(
        kube_name("Checkout_Svc"),
        metadata={
            "annotations": {
                "github.com/project-slug": "acme/the-real-one",
                "backstage.io/techdocs-ref": "dir:.",
                "kubectl.kubernetes.io/last-applied-configuration": "{}",
                "argocd.argoproj.io/tracking-id": "x",
                "portico.dev/backstage-name": "Checkout_Svc",
            }
        },
        spec={"source": {"github": {"owner": "acme", "repo": "other"}}},
    )
    entity = exported(obj)[0]
    notes = entity["metadata"]["annotations"]
    assert notes["github.com/project-slug"] == "acme/the-real-one"
    assert notes["backstage.io/techdocs-ref"] == "dir:."
    assert not [
        k for k in notes if k.startswith(("kubectl.", "argocd.argoproj.io", "portico.dev/b"))
    ]
    assert entity["metadata"]["name"] == "Checkout_Svc"


def test_names_namespaces_and_references_go_back_to_backstages() -> None:
    system = {
        "kind": "System",
        "metadata": {
            "name": PLATFORM,
            "namespace": "team-a",
            "annotations": {
                "portico.dev/backstage-name": "Payments_Platform",
                "portico.dev/backstage-namespace": "default",
            },
        },
        "spec": {"owner": "group:team-payments", "title": "Payments", "tags": ["pci"]},
    }
    comp = component(
        metadata={
            "namespace": "team-a",
            "annotations": {"portico.dev/backstage-namespace": "default"},
        },
        spec={
            "owner": "group:team-payments",
            "system": PLATFORM,
            "consumesApis": ["api:platform/auth-api"],
            "dependsOn": ["resource:payments-db", "ledger"],
            "links": [{"url": "https://wiki", "title": "Wiki"}],
        },
    )
    out = {e["kind"]: e for e in exported(comp, system)}
    assert out["System"]["metadata"] == {
        "name": "Payments_Platform",
        "namespace": "default",
        "title": "Payments",
        "tags": ["pci"],
    }
    spec = out["Component"]["spec"]
    assert out["Component"]["metadata"]["namespace"] == "default"
    assert spec["owner"] == "team-payments"
    assert spec["system"] == "Payments_Platform"
    assert spec["consumesApis"] == ["platform/auth-api"]
    assert spec["dependsOn"] == ["resource:payments-db", "component:ledger"]
    assert out["Component"]["metadata"]["links"] == [{"url": "https://wiki", "title": "Wiki"}]


def test_mapping_annotations_that_import_would_not_write_are_ignored() -> None:
    """A tenant cannot make its Component pass for another entity in Backstage."""
    forged = component(
        "evil",
        metadata={
            "annotations": {
                "portico.dev/backstage-name": "checkout",
                "portico.dev/backstage-namespace": "payments-prod",
            }
        },
    )
    [entity] = exported(forged)
    assert (entity["metadata"]["namespace"], entity["metadata"]["name"]) == ("payments", "evil")


def test_two_imports_of_one_catalog_do_not_merge_into_one_entity() -> None:
    """Team a and team b each imported Backstage's default/checkout (-n team-a, -n team-b)."""
    objects = [
        component(
            metadata={
                "namespace": ns,
                "annotations": {"portico.dev/backstage-namespace": "default"},
            }
        )
        for ns in ("team-a", "team-b")
    ]
    keys = [(e["metadata"]["namespace"], e["metadata"]["name"]) for e in exported(*objects)]
    assert keys == [("default", "checkout"), ("team-b", "checkout")]


def test_export_of_one_namespace_still_maps_references_into_others() -> None:
    system = {
        "kind": "System",
        "metadata": {
            "name": PLATFORM,
            "namespace": "shared",
            "annotations": {"portico.dev/backstage-name": "Payments_Platform"},
        },
        "spec": {"owner": "group:x"},
    }
    comp = component(spec={"system": f"shared/{PLATFORM}"})
    [entity] = export_catalog([system, comp], namespace="payments")
    assert entity["spec"]["system"] == "shared/Payments_Platform"


def test_templates_and_other_objects_are_not_exported() -> None:
    template = {"kind": "Template", "metadata": {"name": "t"}, "spec": {"owner": "group:x"}}
    assert [e["kind"] for e in exported(template, component())] == ["Component"]


class _Graph:
    def __init__(self, views: list[Any] | None) -> None:
        self.items = views

    def __call__(self) -> list[Any] | None:
        return self.items


@pytest.fixture
def port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


async def test_the_endpoint_serves_the_export_and_503_until_the_catalog_is_loaded(
    port: int,
) -> None:
    export = CatalogExport(ttl=0)
    serve(port, {PATH: export.respond})
    url = f"http://127.0.0.1:{port}{PATH}"
    code, _ = await asyncio.to_thread(_get, url)
    assert code == 503  # not attached: a standby, or starting
    graph = _Graph(None)
    export.attach(graph)
    code, _ = await asyncio.to_thread(_get, url)
    assert code == 503  # attached, catalog not loaded yet
    view = view_from_body("Component", component())
    graph.items = [view]
    code, body = await asyncio.to_thread(_get, url)
    assert code == 200
    assert body == render([view])
    assert [e["metadata"]["name"] for e in yaml.safe_load_all(body)] == ["checkout"]
    code, metrics = await asyncio.to_thread(_get, f"http://127.0.0.1:{port}/metrics")
    assert code == 200
    assert b"portico_reconciles_total" in metrics
    export.detach()
    code, _ = await asyncio.to_thread(_get, url)
    assert code == 503  # the operator stopped: nothing stale is served


async def test_a_standby_replica_answers_503_not_its_stale_catalog(port: int) -> None:
    paused = {"now": False}
    export = CatalogExport(ttl=60, paused=lambda: paused["now"])
    serve(port, {PATH: export.respond})
    export.attach(_Graph([view_from_body("Component", component())]))
    url = f"http://127.0.0.1:{port}{PATH}"
    code, _ = await asyncio.to_thread(_get, url)
    assert code == 200  # active, and now cached for 60 s
    paused["now"] = True  # kopf's peering froze this replica
    code, body = await asyncio.to_thread(_get, url)
    assert code == 503
    assert b"standby" in body


async def test_kopf_s_pause_toggle_is_what_says_standby() -> None:
    from portico.kopf_gate import CountingToggleSet, operator_paused

    paused = CountingToggleSet(any)  # as kopf's running.py makes `operator_paused`
    assert operator_paused() is False
    toggle = await paused.make_toggle(False, name="peering")
    await toggle.turn_to(True)
    assert operator_paused() is True
    await toggle.turn_to(False)
    assert operator_paused() is False

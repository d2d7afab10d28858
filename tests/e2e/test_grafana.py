"""Grafana dashboards against the Grafana contract fake: one per Component in its System's
folder with the golden-signal queries; no write when nothing changed; a user's dashboard
with the same title survives; deletion removes ours; a Grafana outage is a condition and
heals, with no duplicate dashboards."""

import json
from typing import Any

import pytest

from fakes.grafana import FakeGrafana
from support.kubectl import Kubectl
from support.poll import eventually

pytestmark = pytest.mark.usefixtures("operator")


def component(
    name: str,
    *,
    system: str = "shop",
    dashboard: bool = True,
    note: str = "",
    description: str | None = None,
) -> str:
    meta: dict[str, Any] = {"name": name}
    if note:
        meta["annotations"] = {"note": note}
    spec: dict[str, Any] = {
        "type": "service",
        "lifecycle": "production",
        "owner": "group:team",
        "system": system,
        "observe": {
            "grafana": {"dashboard": dashboard},
            "prometheus": {"alertLabels": {"service": name}},
        },
    }
    if description is not None:
        spec["description"] = description
    return json.dumps(
        {"apiVersion": "portico.dev/v1alpha1", "kind": "Component", "metadata": meta, "spec": spec}
    )


def system(name: str) -> str:
    return json.dumps(
        {
            "apiVersion": "portico.dev/v1alpha1",
            "kind": "System",
            "metadata": {"name": name},
            "spec": {"owner": "group:team"},
        }
    )


def ready(kubectl: Kubectl, name: str, ns: str, status: str = "True") -> dict[str, Any]:
    def check() -> dict[str, Any]:
        c = kubectl.condition("component", name, ns, "DashboardReady")
        assert c["status"] == status, c
        return c

    return eventually(check, timeout=30)


def test_a_dashboard_per_component_in_its_systems_folder_written_once(
    kubectl: Kubectl, namespace: str, grafana: FakeGrafana
) -> None:
    kubectl.apply(system("shop"), namespace)
    kubectl.apply(component("cart"), namespace)
    ready(kubectl, "cart", namespace)
    obj = kubectl.get("component", "cart", namespace)
    assert obj is not None
    uid = obj["status"]["grafana"]["dashboardUid"]
    stored = grafana.dashboard(uid)
    assert stored is not None
    assert stored["dashboard"]["title"] == f"{namespace}/cart"
    assert "portico" in stored["tags"]
    folder = next(f for f in grafana.folders() if f["uid"] == stored["folderUid"])
    assert folder["title"] == f"{namespace}/shop"
    exprs = [t["expr"] for p in stored["dashboard"]["panels"] for t in p["targets"]]
    assert any('service="cart"' in e for e in exprs)
    assert [p["title"] for p in stored["dashboard"]["panels"]] == [
        "Request rate",
        "Error ratio",
        "Latency p99",
        "Saturation (CPU)",
    ]

    # A second reconcile with nothing to change for the dashboard: the description is not in
    # it, but it is spec, so the generation moves and the reconcile that sees the new spec
    # says so (observedGeneration on DashboardReady). Waiting on the reason alone returned at
    # once: the first save's follow-up reconcile had set DashboardUpToDate already.
    writes = len(grafana.write_calls())
    version = stored["dashboard"]["version"]
    before = obj["metadata"]["generation"]
    kubectl.apply(component("cart", note="touched", description="the cart"), namespace)
    changed = kubectl.get("component", "cart", namespace)
    assert changed is not None
    generation = changed["metadata"]["generation"]
    assert generation > before, "the description change did not move the generation"

    c, waited = kubectl.condition_at("component", "cart", namespace, "DashboardReady", generation)
    assert c["status"] == "True", c
    assert c["reason"] == "DashboardUpToDate", c
    # The dashboard step runs before that status write, so any save it made is in by now.
    again = grafana.write_calls()[writes:]
    print(f"\ngeneration {generation} reconciled {waited:.2f}s after the wait began: {again}")
    assert again == []  # zero write calls
    after = grafana.dashboard(uid)
    assert after is not None
    assert after["dashboard"]["version"] == version


def test_a_users_dashboard_with_the_same_title_survives(
    kubectl: Kubectl, namespace: str, grafana: FakeGrafana
) -> None:
    import httpx

    from portico.domain.dashboards import folder_for
    from portico.domain.refs import EntityKey

    folder_uid, folder_title = folder_for(EntityKey("system", namespace, "shop"))
    headers = {"Authorization": f"Bearer {grafana.token}"}
    httpx.post(
        f"{grafana.base_url}/api/folders",
        headers=headers,
        json={"uid": folder_uid, "title": folder_title},
    ).raise_for_status()
    mine = {"uid": "users-own", "title": f"{namespace}/orders", "panels": []}
    httpx.post(
        f"{grafana.base_url}/api/dashboards/db",
        headers=headers,
        json={"dashboard": mine, "folderUid": folder_uid},
    ).raise_for_status()
    kubectl.apply(system("shop"), namespace)
    kubectl.apply(component("orders"), namespace)
    c = ready(kubectl, "orders", namespace, status="False")
    assert c["reason"] == "DashboardConflict"
    kept = grafana.dashboard("users-own")
    assert kept is not None
    assert kept["dashboard"]["panels"] == []


def test_deleting_the_component_removes_its_dashboard(
    kubectl: Kubectl, namespace: str, grafana: FakeGrafana
) -> None:
    kubectl.apply(system("shop"), namespace)
    kubectl.apply(component("gone"), namespace)
    ready(kubectl, "gone", namespace)
    obj = kubectl.get("component", "gone", namespace)
    assert obj is not None
    uid = obj["status"]["grafana"]["dashboardUid"]
    kubectl.run("delete", "component", "gone", "-n", namespace, "--timeout=30s")
    assert grafana.dashboard(uid) is None


def test_grafana_errors_are_a_condition_and_heal_without_duplicates(
    kubectl: Kubectl, namespace: str, grafana: FakeGrafana
) -> None:
    kubectl.apply(system("shop"), namespace)
    grafana.fail_next("POST", r"/api/dashboards/db$", 500, times=8)
    kubectl.apply(component("flaky"), namespace)
    c = ready(kubectl, "flaky", namespace, status="False")
    assert c["reason"] == "GrafanaUnreachable"
    assert kubectl.condition("component", "flaky", namespace, "RefsResolved")["status"] == "True"
    grafana.clear_faults()

    def healed() -> None:
        assert (
            kubectl.condition("component", "flaky", namespace, "DashboardReady")["status"] == "True"
        )

    eventually(healed, timeout=60)
    titles = [d["dashboard"]["title"] for d in grafana.dashboards()]
    assert titles.count(f"{namespace}/flaky") == 1

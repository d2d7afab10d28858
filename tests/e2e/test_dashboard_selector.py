"""Backstage's grafana/dashboard-selector on the real API server, against the Grafana contract
fake: the dashboards the selector matches appear in status.links (after the overview
dashboard, by title, with absolute URLs); a new matching dashboard appears and a deleted one
goes at the next search (grafana.searchIntervalSeconds: 1); an invalid selector is reported on
LinksResolved and selects nothing."""

import json
from typing import Any

import httpx
import pytest

from fakes.grafana import FakeGrafana, slugify
from support.config import changed_config
from support.kubectl import Kubectl
from support.poll import eventually

pytestmark = pytest.mark.usefixtures("operator")

OVERVIEW = "https://grafana.acme.example/d/overview"


def save(grafana: FakeGrafana, uid: str, title: str, tags: list[str], folder: str = "") -> None:
    headers = {"Authorization": f"Bearer {grafana.token}"}
    with httpx.Client(base_url=grafana.base_url, headers=headers, timeout=10) as http:
        if folder and http.get(f"/api/folders/{folder}").status_code == 404:
            http.post("/api/folders", json={"uid": folder, "title": folder}).raise_for_status()
        body: dict[str, Any] = {"dashboard": {"uid": uid, "title": title, "tags": tags}}
        if folder:
            body["folderUid"] = folder
        http.post("/api/dashboards/db", json=body).raise_for_status()


def delete(grafana: FakeGrafana, uid: str) -> None:
    headers = {"Authorization": f"Bearer {grafana.token}"}
    httpx.delete(
        f"{grafana.base_url}/api/dashboards/uid/{uid}", headers=headers, timeout=10
    ).raise_for_status()


def link(grafana: FakeGrafana, uid: str, title: str) -> dict[str, str]:
    return {
        "type": "dashboard",
        "title": title,
        "url": f"{grafana.base_url}/d/{uid}/{slugify(title)}",
    }


def component(name: str, selector: str) -> str:
    return json.dumps(
        {
            "apiVersion": "portico.dev/v1alpha1",
            "kind": "Component",
            "metadata": {
                "name": name,
                "annotations": {
                    "grafana/dashboard-selector": selector,
                    "grafana/overview-dashboard": OVERVIEW,
                },
            },
            "spec": {"type": "service", "lifecycle": "production", "owner": "group:team-a"},
        }
    )


def links_become(
    kubectl: Kubectl, name: str, namespace: str, expected: list[dict[str, str]] | None
) -> None:
    def check() -> None:
        got = kubectl.get("component", name, namespace)
        assert got is not None
        assert got.get("status", {}).get("links") == expected

    eventually(check, timeout=30, interval=0.25)


def test_selected_dashboards_follow_grafana_and_a_bad_selector_says_so(
    kubectl: Kubectl, namespace: str, grafana: FakeGrafana
) -> None:
    tag = f"sel-{namespace}"  # the namespace is unique: so is the tag
    save(grafana, f"{namespace}-w", f"{namespace} worker", [tag, "generated"], folder=namespace)
    save(grafana, f"{namespace}-a", f"{namespace} api", [tag])
    save(grafana, f"{namespace}-x", f"{namespace} unrelated", ["generated"])
    overview = {"type": "dashboard", "title": "Dashboard", "url": OVERVIEW}
    search = {"url": grafana.base_url, "searchIntervalSeconds": 1}

    with changed_config(kubectl, grafana=search):
        kubectl.apply(component("selected", f"tags @> '{tag}'"), namespace)
        links_become(
            kubectl,
            "selected",
            namespace,
            [
                overview,
                link(grafana, f"{namespace}-a", f"{namespace} api"),
                link(grafana, f"{namespace}-w", f"{namespace} worker"),
            ],
        )

        # A dashboard made later is found by the next search; a deleted one goes.
        save(grafana, f"{namespace}-b", f"{namespace} batch", [tag])
        delete(grafana, f"{namespace}-w")
        links_become(
            kubectl,
            "selected",
            namespace,
            [
                overview,
                link(grafana, f"{namespace}-a", f"{namespace} api"),
                link(grafana, f"{namespace}-b", f"{namespace} batch"),
            ],
        )

        # The plugin's other forms: a bare word is a tag; && and parentheses.
        kubectl.run(
            "annotate",
            "component/selected",
            "-n",
            namespace,
            "--overwrite",
            f"grafana/dashboard-selector=(tags @> '{tag}') && title == '{namespace} batch'",
        )
        links_become(
            kubectl,
            "selected",
            namespace,
            [overview, link(grafana, f"{namespace}-b", f"{namespace} batch")],
        )

        kubectl.run(
            "annotate",
            "component/selected",
            "-n",
            namespace,
            "--overwrite",
            f"grafana/dashboard-selector=tags @> '{tag}' and more",
        )
        links_become(kubectl, "selected", namespace, [overview])

        def reported() -> None:
            c = kubectl.condition("component", "selected", namespace, "LinksResolved")
            assert c["status"] == "False", c
            assert c["reason"] == "DashboardSelectorInvalid", c
            assert "annotation grafana/dashboard-selector" in c["message"], c
            assert "'and'" in c["message"], c

        eventually(reported, timeout=30)

        kubectl.run("delete", "component", "selected", "-n", namespace, "--timeout=30s")

"""status.links on the real API server: Backstage's techdocs-ref resolved against the
Component's repository, grafana/overview-dashboard as its dashboard, and both following
edits of the annotations."""

import json
from typing import Any

import pytest

from support.kubectl import Kubectl
from support.poll import eventually

pytestmark = pytest.mark.usefixtures("operator")


def test_docs_and_dashboard_links_follow_the_annotations(kubectl: Kubectl, namespace: str) -> None:
    component = {
        "apiVersion": "portico.dev/v1alpha1",
        "kind": "Component",
        "metadata": {
            "name": "docs-demo",
            "annotations": {
                "backstage.io/techdocs-ref": "dir:./docs",
                "grafana/overview-dashboard": "https://grafana.acme.example/d/docs-demo",
            },
        },
        "spec": {
            "type": "service",
            "lifecycle": "production",
            "owner": "group:team-a",
            "source": {"github": {"owner": "acme", "repo": "docs-demo"}},
        },
    }
    kubectl.apply(json.dumps(component), namespace)

    def links(expected: list[dict[str, str]] | None) -> Any:
        def check() -> None:
            got = kubectl.get("component", "docs-demo", namespace)
            assert got is not None
            assert got.get("status", {}).get("links") == expected

        return eventually(check, timeout=20)

    links(
        [
            {
                "type": "docs",
                "title": "Docs",
                "url": "https://github.com/acme/docs-demo/tree/HEAD/docs/",
            },
            {
                "type": "dashboard",
                "title": "Dashboard",
                "url": "https://grafana.acme.example/d/docs-demo",
            },
        ]
    )
    kubectl.run(
        "annotate",
        "component/docs-demo",
        "-n",
        namespace,
        "backstage.io/techdocs-ref-",
        "grafana/overview-dashboard-",
    )
    links(None)  # nothing left to link: the field goes

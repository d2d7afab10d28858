"""Deleting a Component that deploys, on real Argo CD (support/gitops.py):

- deletionPolicy Delete (the default, here from the Template's defaults): Argo CD prunes the
  workloads, then its Application goes, then the Component; nothing is left behind, and
  while it waits the Component says what for, naming the Application;
- deletionPolicy Orphan: the Component and its Application go at once, and the workloads
  keep running, untouched.

The order is read from watches: one etcd serves this control plane, so the resourceVersions
of the deletions order them across kinds.
"""

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from portico.domain.argocd import app_name
from portico.domain.refs import EntityKey
from support.gitops import (
    ARGOCD_NAMESPACE,
    GitOpsStack,
    Watch,
    columns,
    scaffolded_component,
    service_template,
)
from support.kubectl import Kubectl
from support.poll import eventually


def items(kubectl: Kubectl, kind: str, ns: str, selector: str) -> list[dict[str, Any]]:
    out = kubectl.run("get", kind, "-n", ns, "-l", selector, "-o", "json").stdout
    found: list[dict[str, Any]] = json.loads(out)["items"]
    return found


def synced_and_healthy(kubectl: Kubectl, ns: str, name: str) -> None:
    assert columns(kubectl, ns, name) == ["Healthy", "Synced"], kubectl.run(
        "get", "component", name, "-n", ns, "-o", "jsonpath={.status}"
    ).stdout[:2000]


@pytest.fixture(scope="module")
def tenant(gitops: GitOpsStack) -> Iterator[str]:
    """A namespace with two deployed Components, made at once so that they sync in parallel:
    `web` deploys by its Template's defaults (deletionPolicy Delete), `kept` says Orphan."""
    kubectl, ns = gitops.kubectl, f"t-{uuid.uuid4().hex[:8]}"
    kubectl.run("create", "namespace", ns)
    kubectl.apply(json.dumps(service_template()), ns)
    kubectl.apply(json.dumps(scaffolded_component("web", f"web-{ns[2:]}")), ns)
    kept = scaffolded_component("kept", f"kept-{ns[2:]}")
    kept["spec"]["deploy"] = {"argocd": {"deletionPolicy": "Orphan"}}
    kubectl.apply(json.dumps(kept), ns)
    for name in ("web", "kept"):
        eventually(lambda: synced_and_healthy(kubectl, ns, name), timeout=120)  # noqa: B023
    yield ns
    kubectl.run("delete", "namespace", ns, "--wait=false", check=False)


def test_delete_prunes_the_workloads_then_the_application_then_the_component(
    gitops: GitOpsStack, tenant: str
) -> None:
    kubectl, ns = gitops.kubectl, tenant
    repo, app = f"web-{ns[2:]}", app_name(EntityKey("component", ns, "web"))
    assert len(items(kubectl, "pods", ns, f"app={repo}")) == 2
    assert len(items(kubectl, "replicasets", ns, f"app={repo}")) == 1

    with (
        Watch(kubectl, "component", "web", "-n", ns) as component,
        Watch(kubectl, "application", app, "-n", ARGOCD_NAMESPACE) as application,
        Watch(kubectl, "deployment", repo, "-n", ns) as deployment,
    ):
        for watch in (component, application, deployment):
            watch.started()
        kubectl.run("delete", "component", "web", "-n", ns, "--wait=false")

        def all_gone() -> None:
            for what, watch in (
                ("Deployment", deployment),
                ("Application", application),
                ("Component", component),
            ):
                assert watch.deleted_at() is not None, f"the {what} is still there"

        eventually(all_gone, timeout=60)

    # Argo CD pruned the Deployment before it let its Application go, and Portico kept the
    # Component until the Application was gone.
    pruned, unapplied, released = (
        w.deleted_at() or 0 for w in (deployment, application, component)
    )
    assert pruned < unapplied < released, (pruned, unapplied, released)

    # Meanwhile the Component said what it waited for, in its Deployed condition...
    def deployed(obj: dict[str, Any]) -> dict[str, Any]:
        conditions = obj.get("status", {}).get("conditions", [])
        return next((c for c in conditions if c["type"] == "Deployed"), {})

    waiting = [
        deployed(obj)
        for obj in component.objects()
        if obj["metadata"].get("deletionTimestamp")
        and deployed(obj).get("reason") == "WaitingForArgoCD"
    ]
    assert waiting, [deployed(o) for o in component.objects()]
    assert waiting[0]["status"] == "False"
    assert f"{ARGOCD_NAMESPACE}/{app}" in waiting[0]["message"], waiting[0]

    # ... and in an Event, which outlives it.
    def announced() -> None:
        selector = "involvedObject.name=web,reason=WaitingForArgoCD"
        out = kubectl.run("get", "events", "-n", ns, "--field-selector", selector, "-o", "json")
        events = json.loads(out.stdout)["items"]
        assert [e for e in events if f"{ARGOCD_NAMESPACE}/{app}" in e["message"]], events

    eventually(announced, timeout=15)

    # Nothing is left behind: the ReplicaSet and the pods go too (garbage collection).
    def nothing_left() -> None:
        assert kubectl.get("application", app, ARGOCD_NAMESPACE) is None
        assert kubectl.get("component", "web", ns) is None
        assert kubectl.get("deployment", repo, ns) is None
        assert items(kubectl, "replicasets", ns, f"app={repo}") == []
        assert [p["metadata"]["name"] for p in items(kubectl, "pods", ns, f"app={repo}")] == []

    eventually(nothing_left, timeout=60)


def test_orphan_lets_the_component_and_application_go_and_the_workloads_run_on(
    gitops: GitOpsStack, tenant: str
) -> None:
    kubectl, ns = gitops.kubectl, tenant
    repo, app = f"kept-{ns[2:]}", app_name(EntityKey("component", ns, "kept"))
    before = kubectl.get("deployment", repo, ns)
    assert before is not None
    assert before["status"].get("readyReplicas") == 2
    pods = sorted(p["metadata"]["uid"] for p in items(kubectl, "pods", ns, f"app={repo}"))
    assert len(pods) == 2

    kubectl.run("delete", "component", "kept", "-n", ns, "--wait=false")

    def gone() -> None:
        assert kubectl.get("application", app, ARGOCD_NAMESPACE) is None, "Application remains"
        assert kubectl.get("component", "kept", ns) is None, "Component remains"

    eventually(gone, timeout=30)

    # With the Application gone nothing will prune it: the very same Deployment and pods run.
    after = kubectl.get("deployment", repo, ns)
    assert after is not None, "the orphaned Deployment was deleted"
    assert after["metadata"]["uid"] == before["metadata"]["uid"]
    assert "deletionTimestamp" not in after["metadata"]
    assert after["status"].get("readyReplicas") == 2, after["status"]
    running = items(kubectl, "pods", ns, f"app={repo}")
    assert sorted(p["metadata"]["uid"] for p in running) == pods
    assert {p["status"]["phase"] for p in running} == {"Running"}
    # Argo CD does not untrack what it orphans: the Deployment keeps its tracking-id, naming
    # the Application that is gone (an Application of that name would adopt it again).
    tracking = after["metadata"]["annotations"]["argocd.argoproj.io/tracking-id"]
    assert tracking.startswith(f"{app}:apps/Deployment:{ns}/{repo}"), tracking

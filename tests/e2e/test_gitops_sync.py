"""Sync on real Argo CD (support/gitops.py), seen from the Component: what git says is what
runs, and when it is not, the Component says so.

- drift: someone scales the deployed Deployment by hand; Argo CD's selfHeal puts back what
  git says, and the Component's SYNC goes OutOfSync and back to Synced on the way;
- a broken commit (a manifest that is not YAML): Argo CD cannot compare, the Component shows
  SYNC Unknown with Argo CD's own message naming the file, and a fixing commit heals it;
- a commit the API server rejects (a field of the wrong type): Argo CD's sync fails and it
  retries; the Component is Degraded and says why at once, not after the last retry.

Commits reach Argo CD through `argocd.argoproj.io/refresh`, as a push webhook would, not
through the 10 s resync.
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
    changes,
    columns,
    push,
    refresh,
    scaffolded_component,
    service_template,
)
from support.kubectl import Kubectl
from support.poll import eventually

WORKER = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: worker
  labels: {app: worker}
spec:
  replicas: 1
  selector: {matchLabels: {app: worker}}
  template:
    metadata: {labels: {app: worker}}
    spec:
      containers: [{name: app, image: ghcr.io/acme/worker:latest}]
"""
NOT_YAML = WORKER.replace("labels: {app: worker}\nspec", "labels: {app: worker\nspec", 1)
# Its own name: `web`'s repository deploys a `worker` into the same namespace.
WRONG_TYPE = WORKER.replace("replicas: 1", "replicas: two", 1).replace("worker", "batch")


def component(kubectl: Kubectl, ns: str, name: str) -> dict[str, Any]:
    obj = kubectl.get("component", name, ns)
    assert obj is not None, f"component {ns}/{name} is gone"
    return obj


def synced_and_healthy(kubectl: Kubectl, ns: str, name: str) -> None:
    status = component(kubectl, ns, name).get("status", {})
    assert columns(kubectl, ns, name) == ["Healthy", "Synced"], json.dumps(status)[:2000]


@pytest.fixture(scope="module")
def tenant(gitops: GitOpsStack) -> Iterator[str]:
    """A namespace with two Components scaffolded and deployed at once (so they sync in
    parallel): `web` for drift and the broken commit, `api` for the rejected commit, whose
    failed sync Argo CD retries until the fix arrives."""
    kubectl, ns = gitops.kubectl, f"t-{uuid.uuid4().hex[:8]}"
    kubectl.run("create", "namespace", ns)
    kubectl.apply(json.dumps(service_template()), ns)
    for name in ("web", "api"):
        kubectl.apply(json.dumps(scaffolded_component(name, f"{name}-{ns[2:]}")), ns)
    for name in ("web", "api"):
        eventually(lambda: synced_and_healthy(kubectl, ns, name), timeout=120)  # noqa: B023
    yield ns
    kubectl.run("delete", "namespace", ns, "--wait=false", check=False)


def test_drift_is_healed_by_argocd_and_shows_out_of_sync_meanwhile(
    gitops: GitOpsStack, tenant: str
) -> None:
    kubectl, ns = gitops.kubectl, tenant
    repo = f"web-{ns[2:]}"
    eventually(lambda: synced_and_healthy(kubectl, ns, "web"), timeout=60)

    # Argo CD heals within about a second (--self-heal-backoff-timeout-seconds 1), and
    # Portico mirrors each Application change within tens of milliseconds: OutOfSync is in
    # the Component's status for about that second. A poll every 100 ms could still miss it;
    # a watch on the Component records every status Portico writes.
    with Watch(kubectl, "component", "web", "-n", ns) as watch:
        watch.started()
        kubectl.run("scale", "deployment", repo, "-n", ns, "--replicas=5")

        def healed() -> list[str]:
            syncs = changes([o["status"]["argocd"]["sync"] for o in watch.objects()])
            assert syncs[0] == "Synced", syncs
            assert "OutOfSync" in syncs, syncs
            assert syncs[-1] == "Synced", syncs
            deployment = kubectl.get("deployment", repo, ns)
            assert deployment is not None
            assert deployment["spec"]["replicas"] == 2, "Argo CD has not restored replicas: 2"
            assert deployment["status"].get("readyReplicas") == 2, deployment["status"]
            pods = json.loads(
                kubectl.run("get", "pods", "-n", ns, "-l", f"app={repo}", "-o", "json").stdout
            )["items"]
            running = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
            assert len(running) == 2, [p["metadata"]["name"] for p in running]
            synced_and_healthy(kubectl, ns, "web")
            return syncs

        syncs = eventually(healed, timeout=60)
        healths = changes([o["status"]["health"]["status"] for o in watch.objects()])
    print(f"\nSYNC {' -> '.join(syncs)}; HEALTH {' -> '.join(healths)}")

    # It was Argo CD's automated sync (selfHeal) that restored it, not something else.
    app = kubectl.get("application", app_name(EntityKey("component", ns, "web")), ARGOCD_NAMESPACE)
    assert app is not None
    operation = app["status"]["operationState"]
    assert operation["operation"].get("initiatedBy", {}).get("automated") is True, operation
    assert operation["phase"] == "Succeeded", operation
    healed_resources = {
        r["name"]: r.get("message", "") for r in operation["syncResult"]["resources"]
    }
    assert "configured" in healed_resources.get(repo, ""), healed_resources


def test_broken_commit_shows_argocds_message_until_a_fix_is_pushed(
    gitops: GitOpsStack, tenant: str
) -> None:
    kubectl, ns = gitops.kubectl, tenant
    app = app_name(EntityKey("component", ns, "web"))
    eventually(lambda: synced_and_healthy(kubectl, ns, "web"), timeout=60)
    url = component(kubectl, ns, "web")["status"]["repository"]["url"]

    push(url, {"deploy/worker.yaml": NOT_YAML}, "Add a worker (the YAML is broken)")
    refresh(kubectl, app)

    def shows_argocds_error() -> dict[str, Any]:
        argocd = component(kubectl, ns, "web")["status"]["argocd"]
        assert argocd.get("sync") == "Unknown", argocd
        # Argo CD's repo-server's own words, naming the file that does not parse.
        message = argocd.get("message", "")
        assert message.startswith("ComparisonError:"), argocd
        assert 'Failed to unmarshal "worker.yaml"' in message, argocd
        assert "did not find expected ',' or '}'" in message, argocd
        return dict(argocd)

    argocd = eventually(shows_argocds_error, timeout=60)
    print(f"\nstatus.argocd.message: {argocd['message']}")
    # What runs is untouched (the last good commit): HEALTH stays Healthy, SYNC says Unknown.
    assert columns(kubectl, ns, "web") == ["Healthy", "Unknown"]
    assert kubectl.get("deployment", "worker", ns) is None

    fix = push(url, {"deploy/worker.yaml": WORKER}, "Fix the worker's YAML")
    refresh(kubectl, app)

    def fixed() -> None:
        synced_and_healthy(kubectl, ns, "web")
        argocd = component(kubectl, ns, "web")["status"]["argocd"]
        assert argocd.get("revision") == fix, argocd
        assert "message" not in argocd, argocd
        worker = kubectl.get("deployment", "worker", ns)
        assert worker is not None
        assert worker["status"].get("readyReplicas") == 1, worker["status"]

    eventually(fixed, timeout=60)


def test_commit_the_api_server_rejects_shows_the_failed_sync_while_argocd_retries(
    gitops: GitOpsStack, tenant: str
) -> None:
    kubectl, ns = gitops.kubectl, tenant
    app = app_name(EntityKey("component", ns, "api"))
    url = component(kubectl, ns, "api")["status"]["repository"]["url"]
    push(url, {"deploy/batch.yaml": WRONG_TYPE}, "Add a batch Deployment (replicas: two)")
    refresh(kubectl, app)
    rejected = "cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas"

    def attempt_failed() -> None:
        application = kubectl.get("application", app, ARGOCD_NAMESPACE)
        assert application is not None
        operation = application["status"].get("operationState", {})
        assert rejected in operation.get("message", ""), operation

    try:  # Argo CD's first attempt failed, and it says so (not what this test expects to fail)
        eventually(attempt_failed, timeout=60)
    except AssertionError as e:
        raise RuntimeError(f"Argo CD did not report the failed sync: {e}") from e

    def shows_failed_sync() -> None:
        status = component(kubectl, ns, "api")["status"]
        assert rejected in status["argocd"].get("message", ""), status["argocd"]
        assert columns(kubectl, ns, "api")[0] == "Degraded", status["health"]
        assert "sync failed" in status["health"]["message"], status["health"]

    eventually(shows_failed_sync, timeout=5)

    # The fix is pushed while Argo CD retries. Portico's Applications retry with the
    # branch's latest commit (syncPolicy.retry.refresh), so the next attempt deploys it; the
    # retries of the broken commit alone would take about 2.5 minutes to run out.
    fix = push(url, {"deploy/batch.yaml": WRONG_TYPE.replace("two", "1")}, "replicas: 1")
    refresh(kubectl, app)

    def fixed() -> None:
        synced_and_healthy(kubectl, ns, "api")
        argocd = component(kubectl, ns, "api")["status"]["argocd"]
        assert argocd.get("revision") == fix, argocd
        assert "message" not in argocd, argocd
        batch = kubectl.get("deployment", "batch", ns)
        assert batch is not None, "the fixed batch Deployment was not applied"

    eventually(fixed, timeout=60)

"""The catalog itself delivered by GitOps, on real Argo CD (support/gitops.py): an
Application syncs Portico's resources from a git repository. Portico's writes (status, its
finalizer, kopf's bookkeeping) and the API server's defaulting never make it OutOfSync, and
Argo CD's health of each entity, and of the Application, is Portico's verdict through the
shipped Lua checks (deploy/argocd/health.lua in argocd-cm), as Argo CD itself evaluates it.
"""

import json
import subprocess
from pathlib import Path
from typing import Any

import yaml

from support.gitops import ARGOCD_NAMESPACE, DEPLOYMENT, GitOpsStack
from support.kubectl import Kubectl
from support.poll import eventually

GIT = ["git", "-c", "user.name=platform", "-c", "user.email=platform@localhost"]


def catalog(namespace: str, *, system: str = "shop") -> list[dict[str, Any]]:
    """A System, an API, a Template and two Components (one observing a Deployment the
    same repository holds, one scaffolded, so Portico adds its finalizer)."""
    meta = {"namespace": namespace}
    component = {
        "type": "service",
        "lifecycle": "production",
        "owner": "group:shop-team",
        "system": system,
    }
    return [
        {
            "apiVersion": "portico.dev/v1alpha1",
            "kind": "System",
            "metadata": {"name": "shop", **meta},
            "spec": {"owner": "group:shop-team"},
        },
        {
            "apiVersion": "portico.dev/v1alpha1",
            "kind": "API",
            "metadata": {"name": "cart-api", **meta},
            "spec": {
                "type": "openapi",
                "lifecycle": "production",
                "owner": "group:shop-team",
                "system": "shop",
                "definition": "openapi: 3.0.0\ninfo: {title: cart, version: '1'}\npaths: {}\n",
            },
        },
        {
            "apiVersion": "portico.dev/v1alpha1",
            "kind": "Component",
            "metadata": {"name": "cart", **meta},
            "spec": {
                **component,
                "providesApis": ["cart-api"],
                "observe": {"kubernetes": {"selector": {"matchLabels": {"app": "cart"}}}},
            },
        },
        {
            "apiVersion": "portico.dev/v1alpha1",
            "kind": "Template",
            "metadata": {"name": "lib", **meta},
            "spec": {
                "owner": "group:platform",
                "parameters": {"type": "object", "properties": {}},
                "skeleton": {"files": [{"path": "README.md", "content": "# lib\n"}]},
                "publish": {"github": {"owner": "acme", "repoName": f"lib-{namespace}"}},
            },
        },
        {
            "apiVersion": "portico.dev/v1alpha1",
            "kind": "Component",
            "metadata": {"name": "lib", **meta},
            "spec": {
                **component,
                "type": "library",
                "scaffold": {"templateRef": {"name": "lib"}, "values": {}},
            },
        },
        {
            **yaml.safe_load(DEPLOYMENT.replace("{{ values.name }}", "cart")),
            "metadata": {"name": "cart", "namespace": namespace, "labels": {"app": "cart"}},
        },
    ]


def push(work: Path, docs: list[dict[str, Any]], message: str) -> str:
    (work / "catalog").mkdir(exist_ok=True)
    (work / "catalog" / "catalog.yaml").write_text(yaml.safe_dump_all(docs, sort_keys=False))
    subprocess.run([*GIT, "-C", str(work), "add", "-A"], check=True)
    subprocess.run([*GIT, "-C", str(work), "commit", "-q", "-m", message], check=True)
    subprocess.run(["git", "-C", str(work), "push", "-q", "origin", "main"], check=True)
    head = subprocess.run(
        ["git", "-C", str(work), "rev-parse", "HEAD"], check=True, capture_output=True, text=True
    )
    return head.stdout.strip()


def application(name: str, namespace: str, repo: Path) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": name, "namespace": ARGOCD_NAMESPACE},
        "spec": {
            "project": "default",
            "source": {"repoURL": repo.as_uri(), "path": "catalog", "targetRevision": "main"},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": namespace},
            "syncPolicy": {"automated": {"prune": True, "selfHeal": True}},
        },
    }


def app_status(kubectl: Kubectl, name: str) -> dict[str, Any]:
    app = kubectl.get("application", name, ARGOCD_NAMESPACE)
    assert app is not None
    return dict(app.get("status") or {})


def resource_health(status: dict[str, Any], kind: str, name: str) -> dict[str, Any]:
    for r in status.get("resources") or []:
        if r["kind"] == kind and r["name"] == name:
            return dict(r.get("health") or {})
    raise AssertionError(f"{kind}/{name} is not among the Application's resources")


def refresh(kubectl: Kubectl, name: str, after: str) -> str:
    """A hard refresh (what a webhook or the UI's button does); returns the new reconciledAt
    once Argo CD has compared again."""
    kubectl.run(
        "annotate",
        "application",
        name,
        "-n",
        ARGOCD_NAMESPACE,
        "argocd.argoproj.io/refresh=hard",
        "--overwrite",
    )

    def compared() -> str:
        status = app_status(kubectl, name)
        at = str(status.get("reconciledAt", ""))
        assert at > after, f"not compared again since {after}"
        return at

    return eventually(compared, timeout=60)


def test_a_catalog_synced_by_argo_cd_stays_synced_and_shows_portico_health(
    gitops: GitOpsStack, gitops_namespace: str, tmp_path: Path
) -> None:
    kubectl, ns = gitops.kubectl, gitops_namespace
    bare, work = tmp_path / "catalog.git", tmp_path / "work"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    subprocess.run(["git", "clone", "-q", str(bare), str(work)], check=True, capture_output=True)
    first = push(work, catalog(ns), "the shop's catalog")
    name = f"catalog-{ns}"
    kubectl.apply(json.dumps(application(name, ns, bare)))

    def synced_and_healthy() -> dict[str, Any]:
        status = app_status(kubectl, name)
        assert status.get("sync", {}).get("status") == "Synced", status.get("sync")
        assert status.get("sync", {}).get("revision") == first
        assert status.get("health", {}).get("status") == "Healthy", status.get("health")
        return status

    status = eventually(synced_and_healthy, timeout=120)
    # Portico reconciled everything Argo CD applied: its status, its finalizer on the
    # scaffolded Component, kopf's bookkeeping, and the CRDs' defaults are all in place ...
    lib = kubectl.get("component", "lib", ns)
    assert lib is not None
    assert "portico.dev/cleanup" in lib["metadata"].get("finalizers", [])
    assert lib["spec"]["scaffold"]["deletionPolicy"] == "Retain"  # the CRD's default
    assert lib["status"]["repository"]["url"].startswith("file://")
    cart = kubectl.get("component", "cart", ns)
    assert cart is not None
    assert cart["status"]["health"]["status"] == "Healthy"
    # ... and Argo CD, comparing again from scratch, still finds nothing to sync.
    at = str(status["reconciledAt"])
    for _ in range(2):
        at = refresh(kubectl, name, at)
        status = app_status(kubectl, name)
        assert status["sync"]["status"] == "Synced", status["sync"]
        out_of_sync = [r for r in status["resources"] if r.get("status") != "Synced"]
        assert out_of_sync == []
    # Each entity's health in Argo CD is Portico's, through the Lua check.
    for kind, entity in (("Component", "cart"), ("System", "shop"), ("API", "cart-api")):
        assert resource_health(status, kind, entity)["status"] == "Healthy", (kind, entity)

    # A commit that breaks a reference: Portico says Ready=False, so Argo CD's Lua says the
    # Component is Degraded, and so is the Application (every other resource is Healthy).
    broken = push(work, catalog(ns, system="no-such-system"), "cart joins a missing system")

    def degraded() -> dict[str, Any]:
        status = app_status(kubectl, name)
        assert status.get("health", {}).get("status") == "Degraded", status.get("health")
        assert status["sync"].get("revision") == broken
        not_synced = [r for r in status["resources"] if r.get("status") != "Synced"]
        assert status["sync"]["status"] == "Synced", not_synced
        return status

    status = eventually(degraded, timeout=120)
    health = resource_health(status, "Component", "cart")
    assert health["status"] == "Degraded"
    assert "no-such-system" in health.get("message", ""), health
    assert resource_health(status, "Deployment", "cart")["status"] == "Healthy"

    # Fixed in git: healthy again, in Portico and in Argo CD.
    fixed = push(work, catalog(ns), "back to the shop system")

    def recovered() -> None:
        current = app_status(kubectl, name)
        assert current["sync"].get("revision") == fixed
        assert current.get("health", {}).get("status") == "Healthy", current.get("health")

    eventually(recovered, timeout=120)
    kubectl.run("delete", "application", name, "-n", ARGOCD_NAMESPACE, "--wait=false")

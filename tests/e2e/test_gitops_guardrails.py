"""Guardrails on real Argo CD (support/gitops.py; docs/gitops-guardrails.md): two layers.

- Portico's tenancy rules, checked before any Application exists: a Component whose
  destination the rules refuse (kube-system, another tenant's namespace) never gets one.
- Argo CD's AppProject, enforced by Argo CD on every manifest it syncs: a repository Portico
  rightly allows (scaffolded for the Component) can still hold what the tenant may not
  deploy, which Portico never reads. Its Application goes into the namespace's own project
  portico-<namespace> (domain/delivery.py desired_project), and Argo CD refuses to sync a
  ClusterRoleBinding, an object in kube-system and a RoleBinding from it.
"""

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from portico.domain.argocd import ENTITY_LABEL, app_name, entity_label
from portico.domain.refs import EntityKey
from support.audit import events, flush_marker
from support.gitops import (
    ARGOCD_NAMESPACE,
    GitOpsStack,
    columns,
    scaffolded_component,
    service_template,
)
from support.kubectl import Kubectl
from support.poll import eventually

# What a tenant's repository might hold beside its Deployment: cluster-admin for everyone,
# an object planted in kube-system, and RBAC inside its own namespace.
SMUGGLED = """apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: {{ values.name }}-everyone-admin}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: "system:authenticated"}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: {{ values.name }}-planted, namespace: kube-system}
data: {planted: "yes"}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: {{ values.name }}-admin}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: admin}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: "system:authenticated"}]
"""


def smuggling_template() -> dict[str, Any]:
    template = service_template("smuggling-service")
    template["spec"]["skeleton"]["files"].append({"path": "deploy/extra.yaml", "content": SMUGGLED})
    return template


def deploying_to(name: str, repo: str, namespace: str) -> dict[str, Any]:
    component = scaffolded_component(name, repo)
    component["spec"]["deploy"] = {"argocd": {"destination": {"namespace": namespace}}}
    return component


@pytest.fixture(scope="module")
def tenant(gitops: GitOpsStack) -> Iterator[tuple[str, str]]:
    """A tenant namespace and its neighbour (another tenant). In the tenant, made at once:
    `far` deploys to kube-system, `nosy` to the neighbour, `smuggler` from a repository that
    holds more than its Deployment."""
    kubectl = gitops.kubectl
    ns, neighbour = (f"t-{uuid.uuid4().hex[:8]}" for _ in range(2))
    for name in (ns, neighbour):
        kubectl.run("create", "namespace", name)
    kubectl.apply(json.dumps(service_template()), ns)
    kubectl.apply(json.dumps(smuggling_template()), ns)
    kubectl.apply(json.dumps(deploying_to("far", f"far-{ns[2:]}", "kube-system")), ns)
    kubectl.apply(json.dumps(deploying_to("nosy", f"nosy-{ns[2:]}", neighbour)), ns)
    smuggler = scaffolded_component("smuggler", f"smuggler-{ns[2:]}", "smuggling-service")
    kubectl.apply(json.dumps(smuggler), ns)
    yield ns, neighbour
    for name in (ns, neighbour):
        kubectl.run("delete", "namespace", name, "--wait=false", check=False)


def deployed_as(kubectl: Kubectl, ns: str, name: str, reason: str) -> dict[str, Any]:
    """The Component's Deployed condition, once Portico has decided `reason`."""
    deployed = kubectl.condition("component", name, ns, "Deployed")
    assert deployed["reason"] == reason, deployed
    return deployed


def application(kubectl: Kubectl, ns: str, name: str) -> dict[str, Any] | None:
    return kubectl.get("application", app_name(EntityKey("component", ns, name)), ARGOCD_NAMESPACE)


def test_a_destination_the_rules_refuse_never_gets_an_application(
    gitops: GitOpsStack, tenant: tuple[str, str]
) -> None:
    kubectl, (ns, neighbour) = gitops.kubectl, tenant
    for name, destination in (("far", "kube-system"), ("nosy", neighbour)):
        # The positive signal: Portico has decided, after scaffolding (it refuses the
        # destination only once there is a repository to deploy).
        deployed = eventually(
            lambda: deployed_as(kubectl, ns, name, "DestinationNotAllowed"),  # noqa: B023
            timeout=60,
        )
        assert deployed["status"] == "False"
        assert f"namespace {destination!r}" in deployed["message"], deployed
        assert "argocd.destinations" in deployed["message"], deployed
        assert kubectl.condition("component", name, ns, "Ready")["status"] == "False"
        assert application(kubectl, ns, name) is None
        labelled = kubectl.run(
            "get", "applications", "-n", ARGOCD_NAMESPACE, "-o", "name",
            "-l", f"{ENTITY_LABEL}={entity_label(EntityKey('component', ns, name))}",
        ).stdout  # fmt: skip
        assert labelled == "", labelled

    # Not even for a moment: up to now, the API server saw no write to either Application.
    flush_marker(kubectl, gitops.cluster.audit_log, ns)  # the audit log is written in batches
    names = {app_name(EntityKey("component", ns, name)) for name in ("far", "nosy")}
    writes = [
        (e["verb"], e["objectRef"]["name"])
        for e in events(gitops.cluster.audit_log)
        if e.get("objectRef", {}).get("resource") == "applications"
        and e["objectRef"].get("name") in names
    ]
    assert writes == [], writes
    # Nor did anything of theirs reach the destinations by another way.
    for name, destination in (("far", "kube-system"), ("nosy", neighbour)):
        assert kubectl.get("deployment", f"{name}-{ns[2:]}", destination) is None


def _refusals(kubectl: Kubectl, ns: str) -> dict[str, str]:
    """What Argo CD's last sync attempt of `smuggler` said of each resource it refused."""
    app = application(kubectl, ns, "smuggler")
    assert app is not None, "no Application for smuggler yet"
    result = app.get("status", {}).get("operationState", {}).get("syncResult", {})
    refused = {
        f"{r['kind']}/{r['name']}": r.get("message", "")
        for r in result.get("resources", [])
        if r.get("status") == "SyncFailed"
    }
    assert len(refused) == 3, app.get("status", {}).get("operationState")
    return refused


def test_argocd_refuses_what_the_repository_smuggles_past_portico(
    gitops: GitOpsStack, tenant: tuple[str, str]
) -> None:
    kubectl, (ns, _) = gitops.kubectl, tenant
    repo, project = f"smuggler-{ns[2:]}", f"portico-{ns}"

    # Portico allows it: the source is the repository it scaffolded for this Component, the
    # destination is the Component's own namespace. It cannot see what the repository holds.
    deployed = eventually(
        lambda: deployed_as(kubectl, ns, "smuggler", "ApplicationApplied"), timeout=60
    )
    assert deployed["status"] == "True"
    app = application(kubectl, ns, "smuggler")
    assert app is not None
    assert app["spec"]["project"] == project
    appproject = kubectl.get("appproject", project, ARGOCD_NAMESPACE)
    assert appproject is not None
    spec = appproject["spec"]
    assert spec["destinations"] == [{"namespace": ns, "server": "https://kubernetes.default.svc"}]
    assert spec.get("clusterResourceWhitelist", []) == []
    assert {"group": "rbac.authorization.k8s.io", "kind": "RoleBinding"} in spec[
        "namespaceResourceBlacklist"
    ]

    # Argo CD refuses each smuggled object by the project's rules, in its own words.
    refused = eventually(lambda: _refusals(kubectl, ns), timeout=60)
    print(f"\nArgo CD refused: {json.dumps(refused, indent=1)}")
    crb, planted, rb = (
        f"ClusterRoleBinding/{repo}-everyone-admin",
        f"ConfigMap/{repo}-planted",
        f"RoleBinding/{repo}-admin",
    )
    assert refused[crb] == (
        f"resource rbac.authorization.k8s.io:ClusterRoleBinding is not permitted in project "
        f"{project}"
    ), refused
    assert refused[planted] == f"namespace kube-system is not permitted in project '{project}'"
    assert refused[rb] == (
        f"resource rbac.authorization.k8s.io:RoleBinding is not permitted in project {project}"
    ), refused

    # None of it exists; Argo CD refuses the whole commit, so the Deployment is not there
    # either. The Component shows a failed sync (Degraded) while Argo CD retries, and after.
    assert kubectl.get("clusterrolebinding", f"{repo}-everyone-admin", "default") is None
    assert kubectl.get("configmap", f"{repo}-planted", "kube-system") is None
    assert kubectl.get("rolebinding", f"{repo}-admin", ns) is None
    assert kubectl.get("deployment", repo, ns) is None
    eventually(lambda: _shows(kubectl, ns, ["Degraded", "OutOfSync"]), timeout=30)
    flush_marker(kubectl, gitops.cluster.audit_log, ns)
    planted_writes = [
        e["verb"]
        for e in events(gitops.cluster.audit_log)
        if e.get("objectRef", {}).get("namespace") == "kube-system"
        and e["objectRef"].get("name") == f"{repo}-planted"
    ]
    assert planted_writes == [], planted_writes


def _shows(kubectl: Kubectl, ns: str, expected: list[str]) -> None:
    assert columns(kubectl, ns, "smuggler") == expected


def test_the_component_says_why_argocd_refused(
    gitops: GitOpsStack, tenant: tuple[str, str]
) -> None:
    kubectl, (ns, _) = gitops.kubectl, tenant
    try:  # Argo CD refused (not what this test expects to fail)
        eventually(lambda: _refusals(kubectl, ns), timeout=60)
    except AssertionError as e:
        raise RuntimeError(f"Argo CD did not refuse the smuggled objects: {e}") from e

    def says_why() -> None:
        status = kubectl.get("component", "smuggler", ns)
        assert status is not None
        argocd, health = status["status"]["argocd"], status["status"]["health"]
        assert f"is not permitted in project portico-{ns}" in argocd.get("message", ""), argocd
        assert "ClusterRoleBinding" in health["message"], health

    eventually(says_why, timeout=5)

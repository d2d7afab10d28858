"""The golden path on real Argo CD (support/gitops.py): a Component scaffolded from a
Template whose defaults deploy through Argo CD gets a repository, Portico creates the
Application, Argo CD clones the scaffolded repository and syncs `deploy/` into the cluster,
KWOK runs the pods, and the Component shows SYNC Synced and HEALTH Healthy. The latency of
each hop is read from the API server's audit log."""

import json
from datetime import datetime
from typing import Any

from portico.domain.argocd import app_name
from portico.domain.refs import EntityKey
from support.audit import events
from support.gitops import (
    ARGOCD_NAMESPACE,
    GitOpsStack,
    columns,
    scaffolded_component,
    service_template,
)
from support.poll import eventually


def _at(event: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(event["stageTimestamp"].replace("Z", "+00:00"))


def first(audit: list[dict[str, Any]], **match: str) -> dict[str, Any]:
    def ok(e: dict[str, Any]) -> bool:
        ref = e.get("objectRef") or {}
        return all(
            (ref.get(k) if k in ("resource", "namespace", "name", "subresource") else e.get(k)) == v
            for k, v in match.items()
        )

    found = [e for e in audit if ok(e) and e.get("stage") == "ResponseComplete"]
    assert found, f"no audit event matching {match}"
    return found[0]


def test_template_to_repository_to_application_to_synced_and_healthy(
    gitops: GitOpsStack, gitops_namespace: str
) -> None:
    kubectl, ns = gitops.kubectl, gitops_namespace
    repo = f"web-{ns[2:]}"
    kubectl.apply(json.dumps(service_template()), ns)
    kubectl.apply(json.dumps(scaffolded_component("web", repo)), ns)
    app = app_name(EntityKey("component", ns, "web"))

    def synced_and_healthy() -> None:
        assert columns(kubectl, ns, "web") == ["Healthy", "Synced"], kubectl.run(
            "get", "component", "web", "-n", ns, "-o", "jsonpath={.status}"
        ).stdout

    eventually(synced_and_healthy, timeout=120)
    status = kubectl.get("component", "web", ns)
    assert status is not None
    scaffold_url = status["status"]["repository"]["url"]
    assert status["status"]["argocd"]["application"] == f"{ARGOCD_NAMESPACE}/{app}"
    assert status["status"]["argocd"]["sync"] == "Synced"
    # What Argo CD synced is what was scaffolded: the Deployment from the repository's
    # deploy/, in the Component's namespace, tracked by Argo CD (v3 tracks by annotation).
    application = kubectl.get("application", app, ARGOCD_NAMESPACE)
    assert application is not None
    assert application["spec"]["source"]["repoURL"] == scaffold_url
    assert application["status"]["sync"]["revision"] == status["status"]["repository"]["commit"]
    deployment = kubectl.get("deployment", repo, ns)
    assert deployment is not None
    tracking = deployment["metadata"]["annotations"]["argocd.argoproj.io/tracking-id"]
    assert tracking.startswith(f"{app}:apps/Deployment:{ns}/{repo}"), tracking
    assert deployment["status"].get("readyReplicas") == 2
    signals = {s["source"]: s["status"] for s in status["status"]["health"]["signals"]}
    assert signals == {"kubernetes": "Healthy", "argocd": "Healthy"}

    # Each hop's latency, from the API server's own clock (audit log).
    audit = events(gitops.cluster.audit_log)
    created = first(audit, verb="create", resource="components", namespace=ns, name="web")
    applied = first(audit, resource="applications", namespace=ARGOCD_NAMESPACE, name=app)
    deployed = first(audit, verb="create", resource="deployments", namespace=ns, name=repo)
    to_app = (_at(applied) - _at(created)).total_seconds()
    to_deployment = (_at(deployed) - _at(applied)).total_seconds()
    print(
        f"\nComponent created -> Application applied (scaffolding included) {to_app:.2f}s"
        f" -> Deployment created by {deployed.get('userAgent', '?').split('/')[0]}"
        f" {to_deployment:.2f}s"
    )

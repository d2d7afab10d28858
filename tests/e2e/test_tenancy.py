"""Tenant isolation on the real API server, tried as a hostile namespace editor would: a user
bound to Kubernetes' `edit` role in a namespace that no tenancy rule matches, who writes
Templates and Components there (as that user, through RBAC). Each attack that once worked is
refused with a condition naming the policy, and nothing happens: no file appears, no process
runs, no request reaches GitHub, no Application or AppProject is made, no other namespace's
workloads are read. The matrix: option-shaped and file:// git URLs, GitHub owners, Argo CD
projects, destinations and sources, observed namespaces, and what the editor may do directly.
A namespace's labels, which rules select namespaces by, are followed as they change.
"""

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fakes.github import FakeGitHub
from support.argocd import install_argo_crds
from support.config import changed_config, with_rule
from support.kubectl import Kubectl
from support.manifests import entity
from support.poll import eventually

pytestmark = pytest.mark.usefixtures("operator")
EDITOR = "mallory"


@pytest.fixture
def hostile(kubectl: Kubectl) -> Iterator[str]:
    """A namespace no tenancy rule matches, and an editor of it (the built-in `edit` role)."""
    name = f"evil-{uuid.uuid4().hex[:8]}"
    kubectl.run("create", "namespace", name)
    kubectl.run(
        "create", "rolebinding", "mallory-edits", "--clusterrole=edit", f"--user={EDITOR}",
        "-n", name,
    )  # fmt: skip
    yield name
    kubectl.run("delete", "namespace", name, "--wait=false", check=False)


def as_editor(kubectl: Kubectl, obj: dict[str, Any], namespace: str) -> None:
    kubectl.run("apply", f"--as={EDITOR}", "-n", namespace, "-f", "-", input=json.dumps(obj))


def template(name: str, publish: dict[str, Any], files: list[dict[str, str]] | None = None) -> Any:
    return entity(
        "Template",
        name,
        owner="group:evil",
        parameters={"type": "object", "properties": {"name": {"type": "string"}}},
        skeleton={"files": files or [{"path": "README.md", "content": "# {{ values.name }}\n"}]},
        publish=publish,
    )


def scaffolded_from(name: str, tmpl: str, **spec: Any) -> Any:
    return entity(
        "Component",
        name,
        type="service",
        lifecycle="experimental",
        scaffold={"templateRef": {"name": tmpl}, "values": {"name": name}},
        **spec,
    )


def refused(kubectl: Kubectl, kind: str, name: str, ns: str, type_: str) -> dict[str, Any]:
    def check() -> dict[str, Any]:
        c = kubectl.condition(kind, name, ns, type_)
        assert c["status"] == "False", c
        return c

    return eventually(check, timeout=30)


def test_an_option_shaped_git_url_runs_nothing(
    kubectl: Kubectl, hostile: str, namespace: str, tmp_path: Path
) -> None:
    marker = tmp_path / "portico-pwned"
    attacks = {
        "upload-pack": f"--upload-pack=touch {marker};",
        "padded": f"  --upload-pack=touch {marker};",
        "ext": f"ext::sh -c touch% {marker}",
        "config": f"-c core.sshCommand=touch {marker} ssh://x/y",
    }
    for label, url in attacks.items():
        as_editor(kubectl, template(f"t-{label}", {"git": {"url": url}}), hostile)
        as_editor(kubectl, scaffolded_from(f"c-{label}", f"t-{label}"), hostile)
    # The same URLs are refused in a namespace whose rule allows local repositories, too.
    kubectl.apply(json.dumps(template("t-up", {"git": {"url": attacks["upload-pack"]}})), namespace)
    kubectl.apply(json.dumps(scaffolded_from("c-up", "t-up")), namespace)
    for label in attacks:
        c = refused(kubectl, "component", f"c-{label}", hostile, "Scaffolded")
        assert c["reason"] == "URLNotAllowed", c
        assert "spec.publish.git.url" in c["message"]
        assert "portico-config tenancy" in c["message"]
    c = refused(kubectl, "component", "c-up", namespace, "Scaffolded")
    assert c["reason"] == "URLNotAllowed"
    assert "starts with '-'" in c["message"]
    assert not marker.exists(), "a tenant's git URL ran a command in the operator"


def test_file_urls_and_escapes_create_nothing_on_the_operators_disk(
    kubectl: Kubectl, hostile: str, namespace: str, tmp_path: Path
) -> None:
    target = tmp_path / "anywhere"
    url = f"file://{target}/evil-{{{{ values.name }}}}.git"
    as_editor(kubectl, template("files", {"git": {"url": url}}), hostile)
    as_editor(kubectl, scaffolded_from("grab", "files"), hostile)
    c = refused(kubectl, "component", "grab", hostile, "Scaffolded")
    assert c["reason"] == "URLNotAllowed"
    assert f"tenancy.default (no rule matches {hostile})" in c["message"]
    # A trusted namespace may use file:///tmp/*, but not climb out of it.
    climb = f"file://{tmp_path}/../../../etc/evil-{{{{ values.name }}}}.git"
    kubectl.apply(json.dumps(template("climb", {"git": {"url": climb}})), namespace)
    kubectl.apply(json.dumps(scaffolded_from("climber", "climb")), namespace)
    c = refused(kubectl, "component", "climber", namespace, "Scaffolded")
    assert c["reason"] == "URLNotAllowed"
    assert "'..'" in c["message"]
    assert not target.exists()
    assert not Path("/etc/evil-climber.git").exists()


def test_github_owners_outside_the_policy_get_no_request(
    kubectl: Kubectl, hostile: str, github: FakeGitHub
) -> None:
    name = f"stolen-{uuid.uuid4().hex[:6]}"
    publish = {"github": {"owner": "acme", "repoName": name}}
    as_editor(kubectl, template("org", publish), hostile)
    as_editor(kubectl, scaffolded_from("takeover", "org"), hostile)
    c = refused(kubectl, "component", "takeover", hostile, "Scaffolded")
    assert c["reason"] == "OwnerNotAllowed"
    assert "spec.publish.github.owner 'acme'" in c["message"]
    assert "publish.githubOwners: none" in c["message"]
    assert not [call for call in github.calls if name in call.path]


def test_argo_cd_never_gives_a_tenant_the_default_project_or_another_namespace(
    kubectl: Kubectl, hostile: str
) -> None:
    install_argo_crds(kubectl)
    repo = {"git": "https://github.com/acme/cluster-admin.git"}
    argocd: dict[str, Any] = {"path": "deploy"}
    cases = {
        "own": ({**argocd}, "SourceNotAllowed"),
        "default": ({**argocd, "project": "default"}, "ProjectNotAllowed"),
        "system": (
            {**argocd, "destination": {"namespace": "kube-system"}},
            "DestinationNotAllowed",
        ),
    }
    for name, (spec, _) in cases.items():
        comp = entity(
            "Component", name, type="service", lifecycle="production", source=repo,
            deploy={"argocd": spec},
        )  # fmt: skip
        as_editor(kubectl, comp, hostile)
    for name, (_, reason) in cases.items():
        c = refused(kubectl, "component", name, hostile, "Deployed")
        assert c["reason"] == reason, c
        assert "portico-config tenancy" in c["message"]
    apps = json.loads(kubectl.run("get", "applications", "-n", "argocd", "-o", "json").stdout)
    refs = [
        (a["metadata"].get("annotations") or {}).get("portico.dev/entity-ref", "")
        for a in apps["items"]
    ]
    assert not [r for r in refs if r.startswith(f"component:{hostile}/")], refs
    assert kubectl.get("appproject", f"portico-{hostile}", "argocd") is None


def test_other_namespaces_workloads_stay_unread(
    kubectl: Kubectl, hostile: str, namespace: str
) -> None:
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "secret-sauce", "labels": {"app": "sauce"}},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "sauce"}},
            "template": {
                "metadata": {"labels": {"app": "sauce"}},
                "spec": {"containers": [{"name": "c", "image": "x"}]},
            },
        },
    }
    kubectl.apply(json.dumps(deployment), namespace)
    spy = entity(
        "Component",
        "spy",
        type="service",
        lifecycle="production",
        observe={
            "kubernetes": {"namespace": namespace, "selector": {"matchLabels": {"app": "sauce"}}}
        },
    )
    as_editor(kubectl, spy, hostile)
    annotated = entity("Component", "annotated", type="service", lifecycle="production")
    annotated["metadata"]["annotations"] = {
        "backstage.io/kubernetes-namespace": namespace,
        "backstage.io/kubernetes-id": "sauce",
    }
    as_editor(kubectl, annotated, hostile)
    for name in ("spy", "annotated"):
        c = refused(kubectl, "component", name, hostile, "Observed")
        assert c["reason"] == "NamespaceNotAllowed"
        assert f"namespace {namespace} may not be observed" in c["message"]
        obj = kubectl.get("component", name, hostile)
        assert obj is not None
        assert obj["status"]["health"]["status"] == "Unknown"
        assert "secret-sauce" not in json.dumps(obj["status"])


def can(kubectl: Kubectl, *args: str) -> bool:
    """kubectl auth can-i as the editor: exit 0 and 'yes', or exit 1 and 'no'; else an error."""
    result = kubectl.run("auth", "can-i", *args, f"--as={EDITOR}", check=False)
    answer = result.stdout.strip()
    assert (result.returncode, answer) in ((0, "yes"), (1, "no")), result
    return answer == "yes"


def test_what_a_namespace_editor_may_and_may_not_do_directly(
    kubectl: Kubectl, hostile: str
) -> None:
    ns = ("-n", hostile)
    assert can(kubectl, "create", "components.portico.dev", *ns)
    assert can(kubectl, "create", "templates.portico.dev", *ns)
    assert can(kubectl, "create", "configmaps", *ns)  # skeleton ConfigMaps
    # ... but not Portico's own say: status, its configuration, its tokens, Argo CD.
    assert not can(kubectl, "patch", "components.portico.dev", "--subresource=status", *ns)
    assert not can(kubectl, "patch", "configmap/portico-config", "-n", "portico-system")
    assert not can(kubectl, "get", "secret/portico-github-token", "-n", "portico-system")
    assert not can(kubectl, "create", "applications.argoproj.io", "-n", "argocd")
    assert not can(kubectl, "create", "appprojects.argoproj.io", "-n", "argocd")
    assert not can(kubectl, "create", "components.portico.dev", "-n", "default")
    # Nor what Portico's tenant AppProject therefore forbids Argo CD to do for it.
    assert not can(kubectl, "create", "rolebindings", *ns)
    assert not can(kubectl, "create", "resourcequotas", *ns)
    assert not can(kubectl, "create", "clusterrolebindings")


def test_a_namespace_label_a_rule_selects_allows_and_its_removal_refuses_again(
    kubectl: Kubectl, hostile: str, namespace: str
) -> None:
    """Guardrails follow a namespace's labels (a rule's namespaceSelector) without anyone
    touching the Component: labelled, the rule allows observing another namespace; the label
    removed, the default policy refuses it again."""
    label = f"portico.test/team-{uuid.uuid4().hex[:6]}"
    rule = {
        "namespaceSelector": {"matchLabels": {label: "payments"}},
        "observe": {"namespaces": ["$self", namespace]},
    }
    with changed_config(kubectl, tenancy=with_rule(kubectl, rule)):
        watcher = entity(
            "Component", "watcher", type="service", lifecycle="production",
            observe={"kubernetes": {"namespace": namespace}},
        )  # fmt: skip
        as_editor(kubectl, watcher, hostile)
        c = refused(kubectl, "component", "watcher", hostile, "Observed")
        assert c["reason"] == "NamespaceNotAllowed"
        assert f"tenancy.default (no rule matches {hostile})" in c["message"]
        kubectl.run("label", "namespace", hostile, f"{label}=payments")

        def allowed() -> None:
            c = kubectl.condition("component", "watcher", hostile, "Observed")
            assert c["status"] == "True", c

        eventually(allowed, timeout=30)
        kubectl.run("label", "namespace", hostile, f"{label}-")
        c = refused(kubectl, "component", "watcher", hostile, "Observed")
        assert c["reason"] == "NamespaceNotAllowed"
        obj = kubectl.get("component", "watcher", hostile)
        assert obj is not None
        assert obj["metadata"]["generation"] == 1, "the Component itself was never touched"

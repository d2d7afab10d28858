"""Scaffolding on the real control plane against the GitHub contract fake (real bare git
repositories): one repository with the whole skeleton in one commit, exactly once even
across a SIGKILL; never touching a repository Portico did not make; bad input explained
with nothing published; GitHub faults and rate limits waited out; the git publisher."""

import json
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from fakes.github import FakeGitHub
from support.kubectl import Kubectl
from support.operator import OperatorProcess
from support.poll import eventually

pytestmark = pytest.mark.usefixtures("operator")

SCHEMA = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": {"type": "string", "pattern": "^[a-z][a-z0-9-]+$"},
        "port": {"type": "integer", "minimum": 1024, "default": 8080},
    },
}
FILES = [
    {"path": "README.md", "content": "# {{ values.name }}\n\nOwned by {{ component.owner }}.\n"},
    {"path": "app/{{ values.name | snake_case }}.py", "content": "PORT = {{ values.port }}\n"},
    {"path": "catalog-info.yaml", "content": "metadata:\n  name: {{ component.name }}\n"},
]


def template(
    name: str,
    *,
    files: list[dict[str, str]] | None = None,
    publish: dict[str, Any] | None = None,
    tests: list[dict[str, Any]] | None = None,
) -> str:
    return json.dumps(
        {
            "apiVersion": "portico.dev/v1alpha1",
            "kind": "Template",
            "metadata": {"name": name},
            "spec": {
                "owner": "group:platform",
                "parameters": SCHEMA,
                "skeleton": {"files": files if files is not None else FILES},
                "publish": publish
                or {
                    "github": {
                        "owner": "acme",
                        "topics": ["python"],
                        "repoName": "{{ values.name }}",
                    }
                },
                "tests": tests or [],
            },
        }
    )


def component(name: str, tmpl: str, values: dict[str, Any], **scaffold: Any) -> str:
    return json.dumps(
        {
            "apiVersion": "portico.dev/v1alpha1",
            "kind": "Component",
            "metadata": {"name": name},
            "spec": {
                "type": "service",
                "lifecycle": "experimental",
                "owner": "group:team",
                "scaffold": {"templateRef": {"name": tmpl}, "values": values, **scaffold},
            },
        }
    )


def scaffolded(
    kubectl: Kubectl, name: str, ns: str, status: str = "True", timeout: float = 30
) -> dict[str, Any]:
    def check() -> dict[str, Any]:
        c = kubectl.condition("component", name, ns, "Scaffolded")
        assert c["status"] == status, c
        return c

    return eventually(check, timeout=timeout)


def clone(url: str, into: Path) -> Path:
    subprocess.run(["git", "clone", "-q", url, str(into)], check=True)
    return into


def unique(namespace: str, name: str) -> str:
    return f"{name}-{namespace[2:]}"


def test_a_component_scaffolds_one_repository_with_one_commit(
    kubectl: Kubectl, namespace: str, github: FakeGitHub, tmp_path: Path
) -> None:
    repo = unique(namespace, "checkout")
    kubectl.apply(
        template(
            "py",
            tests=[
                {
                    "name": "minimal",
                    "values": {"name": "demo"},
                    "expect": [{"path": "app/demo.py", "content": "PORT = 8080\n"}],
                }
            ],
        ),
        namespace,
    )
    writes_before = len(github.write_calls())
    kubectl.apply(component("checkout", "py", {"name": repo}), namespace)
    scaffolded(kubectl, "checkout", namespace)
    status = kubectl.get("component", "checkout", namespace)
    assert status is not None
    repository = status["status"]["repository"]
    assert repository["url"] == f"https://github.com/acme/{repo}"
    assert repository["template"] == f"{namespace}/py"
    writes = len(github.write_calls()) - writes_before
    print(f"\nGitHub write calls for one scaffold: {writes}")
    assert writes <= 5

    checkout = clone(github.repo_path("acme", repo).as_uri(), tmp_path / "checkout")
    assert (checkout / "README.md").read_text() == f"# {repo}\n\nOwned by group:team.\n"
    assert (checkout / "app" / f"{repo.replace('-', '_')}.py").read_text() == "PORT = 8080\n"
    log = subprocess.run(
        ["git", "log", "--format=%H%n%B"], cwd=checkout, capture_output=True, text=True, check=True
    ).stdout
    assert github.commits("acme", repo) == [repository["commit"]]  # exactly one commit
    assert log.startswith(repository["commit"])
    assert f"Portico-Component: {status['metadata']['uid']}" in log

    def template_status() -> None:
        t = kubectl.get("template", "py", namespace)
        assert t is not None
        assert t["status"]["scaffolded"] == 1
        assert t["status"]["testSummary"] == "1/1 passed"

    eventually(template_status)
    kubectl.apply(component("checkout", "py", {"name": repo, "port": 9999}), namespace)
    time.sleep(1)  # a spec change after scaffolding must not publish again
    assert github.commits("acme", repo) == [repository["commit"]]


def test_sigkill_between_repository_and_commit_makes_nothing_twice(
    kubectl: Kubectl, namespace: str, github: FakeGitHub, operator: OperatorProcess
) -> None:
    repo = unique(namespace, "crashy")
    kubectl.apply(template("py"), namespace)
    github.fail_next("POST", rf"/repos/acme/{repo}/git/trees$", 500, times=1000)
    kubectl.apply(component("crashy", "py", {"name": repo}), namespace)

    def repository_created_commit_failing() -> None:
        assert f"acme/{repo}" in github.repos()
        assert any(c.path.endswith(f"{repo}/git/trees") and c.status == 500 for c in github.calls)

    eventually(repository_created_commit_failing)
    operator.stop(signal.SIGKILL)
    github.clear_faults()
    operator.start()
    scaffolded(kubectl, "crashy", namespace)
    assert [r for r in github.repos() if r == f"acme/{repo}"] == [f"acme/{repo}"]
    assert len(github.commits("acme", repo)) == 1


def test_a_repository_portico_did_not_make_is_left_untouched(
    kubectl: Kubectl, namespace: str, github: FakeGitHub
) -> None:
    repo = unique(namespace, "taken")
    response = httpx.post(
        f"{github.base_url}/orgs/acme/repos",
        headers={"Authorization": f"token {github.token}"},
        json={"name": repo, "description": "someone's work", "auto_init": True},
    )
    assert response.status_code == 201
    before = github.commits("acme", repo)
    kubectl.apply(template("py"), namespace)
    kubectl.apply(component("taken", "py", {"name": repo}), namespace)
    c = scaffolded(kubectl, "taken", namespace, status="False")
    assert c["reason"] == "RepositoryConflict"
    assert f"acme/{repo}" in c["message"]
    assert github.commits("acme", repo) == before
    info = httpx.get(
        f"{github.base_url}/repos/acme/{repo}", headers={"Authorization": f"token {github.token}"}
    ).json()
    assert info["description"] == "someone's work"


@pytest.mark.parametrize(
    ("case", "files", "values", "reason", "says"),
    [
        (
            "schema",
            None,
            {"name": "ok-name", "port": 80},
            "InvalidValues",
            "spec.scaffold.values/port: 80 is less than the minimum of 1024",
        ),
        (
            "sandbox",
            [{"path": "x.txt", "content": "{{ ''.__class__.__mro__ }}"}],
            {"name": "ok-name"},
            "RenderFailed",
            "skeleton.files[0] (x.txt) content",
        ),
        (
            "escape",
            [{"path": "../../etc/passwd", "content": "root"}],
            {"name": "ok-name"},
            "RenderFailed",
            "contains '..'",
        ),
        (
            "syntax",
            [{"path": "x.txt", "content": "{% if %}"}],
            {"name": "ok-name"},
            "TemplateInvalid",
            "syntax error",
        ),
    ],
)
def test_bad_input_is_explained_and_nothing_is_published(
    kubectl: Kubectl,
    namespace: str,
    github: FakeGitHub,
    case: str,
    files: list[dict[str, str]] | None,
    values: dict[str, Any],
    reason: str,
    says: str,
) -> None:
    repos_before = set(github.repos())
    kubectl.apply(template("bad", files=files), namespace)
    kubectl.apply(component("victim", "bad", values), namespace)
    c = scaffolded(kubectl, "victim", namespace, status="False")
    assert c["reason"] == reason
    assert says in c["message"]
    assert kubectl.condition("component", "victim", namespace, "Ready")["status"] == "False"
    assert set(github.repos()) == repos_before


def test_github_faults_and_rate_limits_are_waited_out_without_duplicates(
    kubectl: Kubectl, namespace: str, github: FakeGitHub
) -> None:
    repo = unique(namespace, "flaky")
    kubectl.apply(template("py"), namespace)
    calls_before = len(github.calls)
    github.fail_next("POST", r"/orgs/acme/repos$", 500, times=2)
    reset = int(time.time()) + 3
    github.fail_next(
        "POST",
        rf"/repos/acme/{repo}/git/commits$",
        403,
        times=1,
        headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)},
        body={"message": "API rate limit exceeded for user ID 1."},
    )
    kubectl.apply(component("flaky", "py", {"name": repo}), namespace)
    scaffolded(kubectl, "flaky", namespace, timeout=60)
    mine = [
        c for c in github.calls[calls_before:] if repo in c.path or c.path == "/orgs/acme/repos"
    ]
    assert time.time() >= reset - 1, f"did not wait for the reset: {mine}"
    assert [r for r in github.repos() if r == f"acme/{repo}"] == [f"acme/{repo}"]
    assert len(github.commits("acme", repo)) == 1
    statuses = [c.status for c in github.calls[calls_before:] if c.path == "/orgs/acme/repos"]
    assert statuses[:3] == [500, 500, 201]


def test_the_git_publisher_pushes_one_commit_to_any_url(
    kubectl: Kubectl, namespace: str, tmp_path: Path
) -> None:
    remote = tmp_path / "remotes"
    publish = {"git": {"url": f"file://{remote}/{{{{ values.name }}}}.git"}}
    kubectl.apply(template("gitpy", publish=publish), namespace)
    kubectl.apply(component("plain", "gitpy", {"name": "plain-svc"}), namespace)
    scaffolded(kubectl, "plain", namespace)
    checkout = clone(f"file://{remote}/plain-svc.git", tmp_path / "plain")
    assert (checkout / "README.md").read_text().startswith("# plain-svc")
    count = subprocess.run(
        ["git", "rev-list", "--count", "HEAD"],
        cwd=checkout,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert count == "1"


def test_archive_policy_archives_the_repository_on_delete(
    kubectl: Kubectl, namespace: str, github: FakeGitHub
) -> None:
    repo = unique(namespace, "old")
    kubectl.apply(template("py"), namespace)
    kubectl.apply(component("old", "py", {"name": repo}, deletionPolicy="Archive"), namespace)
    scaffolded(kubectl, "old", namespace)
    kubectl.run("delete", "component", "old", "-n", namespace, "--timeout=30s")
    info = httpx.get(
        f"{github.base_url}/repos/acme/{repo}", headers={"Authorization": f"token {github.token}"}
    ).json()
    assert info["archived"] is True

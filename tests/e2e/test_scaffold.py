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
        t_status = t.get("status") or {}  # not written yet: poll on (a KeyError would not)
        assert t_status.get("scaffolded") == 1
        assert t_status.get("testSummary") == "1/1 passed"

    eventually(template_status)
    # A spec change after scaffolding that is not a render input (values are: a change of
    # them proposes an update, test_upgrades.py) must not publish again. Wait for the
    # reconcile that saw the new spec (observedGeneration on Scaffolded): the scaffold step
    # runs before that status write, so a second publish would be in the fake by then.
    calls_before = len(github.calls)
    changed_spec = json.loads(component("checkout", "py", {"name": repo}))
    changed_spec["spec"]["description"] = "The checkout service"
    kubectl.apply(json.dumps(changed_spec), namespace)
    changed = kubectl.get("component", "checkout", namespace)
    assert changed is not None
    generation = changed["metadata"]["generation"]
    assert generation > status["metadata"]["generation"]

    c, waited = kubectl.condition_at("component", "checkout", namespace, "Scaffolded", generation)
    assert c["status"] == "True", c
    assert github.commits("acme", repo) == [repository["commit"]]
    again = [(x.method, x.path) for x in github.calls[calls_before:] if repo in x.path]
    print(f"generation {generation} reconciled {waited:.2f}s after the wait began: {again}")
    assert [call for call in again if call[0] != "GET"] == [], again
    after = kubectl.get("component", "checkout", namespace)
    assert after is not None
    assert after["status"]["repository"]["commit"] == repository["commit"]


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


def test_github_faults_are_waited_out_without_duplicates(
    kubectl: Kubectl, namespace: str, github: FakeGitHub
) -> None:
    repo = unique(namespace, "flaky")
    kubectl.apply(template("py"), namespace)
    calls_before = len(github.calls)
    github.fail_next("POST", r"/orgs/acme/repos$", 500, times=2)
    kubectl.apply(component("flaky", "py", {"name": repo}), namespace)
    scaffolded(kubectl, "flaky", namespace, timeout=60)
    assert [r for r in github.repos() if r == f"acme/{repo}"] == [f"acme/{repo}"]
    assert len(github.commits("acme", repo)) == 1
    statuses = [c.status for c in github.calls[calls_before:] if c.path == "/orgs/acme/repos"]
    assert statuses[:3] == [500, 500, 201]


# After an ordinary GitHub error Portico retries a scaffold 10 s later (PublishRetrying); a
# rate limit must be waited out until its reset instead. The reset is set further off than
# that back-off, so a retry on the ordinary back-off (or any sooner) fails the test. Its own
# test, with no other fault before it: two 500s first would use up 2 x 10 s of hold-off, and
# a reset set at the start would have passed before the rate limit was ever hit.
ORDINARY_BACKOFF = 10.0
RESET_IN = 20


def test_a_rate_limit_is_waited_out_until_its_reset(
    kubectl: Kubectl, namespace: str, github: FakeGitHub
) -> None:
    repo = unique(namespace, "limited")
    commits = f"/repos/acme/{repo}/git/commits"
    kubectl.apply(template("py"), namespace)
    reset = int(time.time()) + RESET_IN
    github.fail_next(
        "POST",
        rf"{commits}$",
        403,
        times=1,
        headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)},
        body={"message": "API rate limit exceeded for user ID 1."},
    )
    kubectl.apply(component("limited", "py", {"name": repo}), namespace)
    scaffolded(kubectl, "limited", namespace, timeout=RESET_IN + 40)
    calls = [c for c in list(github.calls) if c.method == "POST" and c.path == commits]
    assert [c.status for c in calls[:2]] == [403, 201], calls
    limited, retried = calls[0], calls[1]
    # The fake stamps calls with time.monotonic(); the reset is wall-clock (epoch) seconds.
    to_reset = reset - (limited.at + time.time() - time.monotonic())
    gap = retried.at - limited.at
    print(f"\nrate limited {to_reset:.1f}s before the reset; next commit call {gap:.1f}s later")
    assert to_reset > ORDINARY_BACKOFF, "the reset was too close: the test exercised nothing"
    assert gap >= to_reset, f"committed again {to_reset - gap:.1f}s before the reset"
    assert gap < to_reset + 10, "waited far longer than the reset"
    assert [r for r in github.repos() if r == f"acme/{repo}"] == [f"acme/{repo}"]
    assert len(github.commits("acme", repo)) == 1


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

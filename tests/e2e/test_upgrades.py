"""Template updates on the real control plane against the GitHub contract fake (real bare git
repositories): a Template change gives every repository scaffolded from it one pull request
with exactly the Template's diff; a repository whose owner changed the same lines gets a
conflicting one, and its Component says so; a SIGKILL mid-wave duplicates and loses
nothing; new values propose too; updatePolicy None proposes nothing; the git publisher
pushes an update branch."""

import json
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from test_scaffold import FILES, clone, component, scaffolded, template, unique

from fakes.github import FakeGitHub
from support.config import changed_config
from support.kubectl import Kubectl
from support.operator import OperatorProcess
from support.poll import eventually

pytestmark = pytest.mark.usefixtures("operator")

BRANCH = "portico/template"
# The Template's change: one line of README.md, and a new file.
CHANGED = [
    {
        "path": "README.md",
        "content": "# {{ values.name }}\n\nOwned by {{ component.owner }}, golden.\n",
    },
    *FILES[1:],
    {"path": ".editorconfig", "content": "root = true\n"},
]


@pytest.fixture(autouse=True)
def quick_rechecks(kubectl: Kubectl) -> Iterator[None]:
    """Open pull requests are read again every 10 s instead of 10 min (merges are seen)."""
    with changed_config(kubectl, scaffold={"updateRecheckSeconds": 10}):
        yield


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=owner", "-c", "user.email=owner@example.com", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def pulls(github: FakeGitHub, repo: str) -> list[dict[str, Any]]:
    response = httpx.get(
        f"{github.base_url}/repos/acme/{repo}/pulls",
        params={"state": "all"},
        headers={"Authorization": f"token {github.token}"},
    )
    response.raise_for_status()
    found: list[dict[str, Any]] = response.json()
    return found


def up_to_date(
    kubectl: Kubectl, name: str, ns: str, reason: str, timeout: float = 30
) -> dict[str, Any]:
    def check() -> dict[str, Any]:
        c = kubectl.condition("component", name, ns, "UpToDate")
        assert c["reason"] == reason, c
        return c

    return eventually(check, timeout=timeout)


def repository(kubectl: Kubectl, name: str, ns: str) -> dict[str, Any]:
    obj = kubectl.get("component", name, ns)
    assert obj is not None
    found: dict[str, Any] = obj["status"]["repository"]
    return found


def diff(github: FakeGitHub, repo: str, tmp_path: Path) -> list[str]:
    """What merging the update branch brings: `git diff main...portico/template`."""
    checkout = clone(github.repo_path("acme", repo).as_uri(), tmp_path / repo)
    git(checkout, "fetch", "-q", "origin", BRANCH)
    return git(checkout, "diff", "--name-status", "origin/main...FETCH_HEAD").split("\n")[:-1]


def test_a_template_change_opens_one_pull_request_per_repository(
    kubectl: Kubectl, namespace: str, github: FakeGitHub, tmp_path: Path
) -> None:
    repos = [unique(namespace, f"fleet{i}") for i in range(3)]
    kubectl.apply(template("py"), namespace)
    for i, repo in enumerate(repos):
        kubectl.apply(component(f"fleet{i}", "py", {"name": repo}), namespace)
    for i in range(3):
        scaffolded(kubectl, f"fleet{i}", namespace)
        up_to_date(kubectl, f"fleet{i}", namespace, "UpToDate")
    before = repository(kubectl, "fleet0", namespace)["templateVersion"]

    writes_before = len(github.write_calls())
    kubectl.apply(template("py", files=CHANGED), namespace)
    for i, repo in enumerate(repos):
        c = up_to_date(kubectl, f"fleet{i}", namespace, "UpdateProposed")
        [pr] = pulls(github, repo)  # exactly one
        assert (pr["head"]["ref"], pr["base"]["ref"], pr["state"]) == (BRANCH, "main", "open")
        assert pr["html_url"] in c["message"]
        update = repository(kubectl, f"fleet{i}", namespace)["update"]
        assert update["pullRequest"]["number"] == pr["number"]
        assert update["templateVersion"] != before
        # exactly the Template's diff: README.md changed, .editorconfig added
        assert sorted(diff(github, repo, tmp_path)) == ["A\t.editorconfig", "M\tREADME.md"]
    writes = len(github.write_calls()) - writes_before
    print(f"\nGitHub write calls per update: {writes / 3:.1f}")
    assert writes <= 4 * 3

    def template_counts() -> None:
        t = kubectl.get("template", "py", namespace)
        assert t is not None
        status = t.get("status") or {}
        assert status.get("updateSummary") == "0/3 up to date, 3 open", status
        assert status.get("versions") == [{"version": before, "components": 3}], status
        assert status.get("version") == update["templateVersion"]

    eventually(template_counts)

    # The owner merges one: the Component is then on the new version, and its Template says so.
    number = repository(kubectl, "fleet0", namespace)["update"]["pullRequest"]["number"]
    github.merge_pull("acme", repos[0], number)
    c = up_to_date(kubectl, "fleet0", namespace, "UpToDate", timeout=40)
    assert update["templateVersion"] in c["message"]
    merged = repository(kubectl, "fleet0", namespace)
    assert merged["templateVersion"] == update["templateVersion"]
    assert "update" not in merged

    def one_merged() -> None:
        t = kubectl.get("template", "py", namespace)
        assert t is not None
        assert (t.get("status") or {}).get("updateSummary") == "1/3 up to date, 2 open"

    eventually(one_merged)


def test_an_owner_s_change_to_the_same_lines_makes_the_pull_request_conflict(
    kubectl: Kubectl, namespace: str, github: FakeGitHub, tmp_path: Path
) -> None:
    repo = unique(namespace, "owned")
    kubectl.apply(template("py"), namespace)
    kubectl.apply(component("owned", "py", {"name": repo}), namespace)
    scaffolded(kubectl, "owned", namespace)
    checkout = clone(github.repo_path("acme", repo).as_uri(), tmp_path / "owned")
    (checkout / "README.md").write_text(f"# {repo}\n\nOwned by the payments team, really.\n")
    git(checkout, "commit", "-qam", "Our README")
    git(checkout, "push", "-q", "origin", "main")

    kubectl.apply(template("py", files=CHANGED), namespace)
    c = up_to_date(kubectl, "owned", namespace, "UpdateConflicts", timeout=40)
    assert "conflicts with the default branch" in c["message"], c
    [pr] = pulls(github, repo)
    assert pr["html_url"] in c["message"]
    assert repository(kubectl, "owned", namespace)["update"]["pullRequest"]["mergeable"] is False


def test_sigkill_in_an_update_wave_neither_duplicates_nor_loses_a_pull_request(
    kubectl: Kubectl, namespace: str, github: FakeGitHub, operator: OperatorProcess
) -> None:
    repos = [unique(namespace, f"wave{i}") for i in range(4)]
    kubectl.apply(template("py"), namespace)
    for i, repo in enumerate(repos):
        kubectl.apply(component(f"wave{i}", "py", {"name": repo}), namespace)
    for i in range(4):
        up_to_date(kubectl, f"wave{i}", namespace, "UpToDate")
    # The first repository's pull request is created but its answer is lost; the others'
    # creations fail until the operator is killed.
    github.fail_next("POST", rf"/repos/acme/{repos[0]}/pulls$", 502, apply=True)
    for repo in repos[1:]:
        github.fail_next("POST", rf"/repos/acme/{repo}/pulls$", 500, times=1000)
    kubectl.apply(template("py", files=CHANGED), namespace)

    def mid_wave() -> None:
        assert len(pulls(github, repos[0])) == 1
        for repo in repos[1:]:
            assert any(
                c.method == "POST" and c.path.endswith(f"{repo}/pulls") and c.status == 500
                for c in github.calls
            ), repo

    eventually(mid_wave, timeout=40)
    operator.stop(signal.SIGKILL)
    github.clear_faults()
    operator.start()
    for i, repo in enumerate(repos):
        up_to_date(kubectl, f"wave{i}", namespace, "UpdateProposed", timeout=60)
        assert len(pulls(github, repo)) == 1, repo
        # one render on top of the scaffold, whatever was retried
        assert len(github.commits("acme", repo, BRANCH)) == 2, repo


def test_new_values_propose_a_pull_request(
    kubectl: Kubectl, namespace: str, github: FakeGitHub, tmp_path: Path
) -> None:
    repo = unique(namespace, "valued")
    kubectl.apply(template("py"), namespace)
    kubectl.apply(component("valued", "py", {"name": repo}), namespace)
    up_to_date(kubectl, "valued", namespace, "UpToDate")
    kubectl.apply(component("valued", "py", {"name": repo, "port": 9090}), namespace)
    up_to_date(kubectl, "valued", namespace, "UpdateProposed")
    [pr] = pulls(github, repo)
    assert "new values" in pr["title"]
    module = f"app/{repo.replace('-', '_')}.py"
    assert diff(github, repo, tmp_path) == [f"M\t{module}"]
    assert repository(kubectl, "valued", namespace)["update"]["values"] == {
        "name": repo,
        "port": 9090,
    }


def test_update_policy_none_proposes_nothing(
    kubectl: Kubectl, namespace: str, github: FakeGitHub
) -> None:
    repo = unique(namespace, "frozen")
    kubectl.apply(template("py"), namespace)
    kubectl.apply(component("frozen", "py", {"name": repo}, updatePolicy="None"), namespace)
    up_to_date(kubectl, "frozen", namespace, "UpToDate")
    calls_before = len(github.calls)
    kubectl.apply(template("py", files=CHANGED), namespace)
    c = up_to_date(kubectl, "frozen", namespace, "UpdatesDisabled")
    assert "updatePolicy None" in c["message"]
    writes = [
        (x.method, x.path)
        for x in github.calls[calls_before:]
        if repo in x.path and x.method != "GET"
    ]
    assert writes == []
    assert pulls(github, repo) == []
    assert github.commits("acme", repo, BRANCH) == []


def test_the_git_publisher_pushes_an_update_branch_to_merge(
    kubectl: Kubectl, namespace: str, tmp_path: Path
) -> None:
    remote = tmp_path / "remotes"
    publish = {"git": {"url": f"file://{remote}/{{{{ values.name }}}}.git"}}
    kubectl.apply(template("gitpy", publish=publish), namespace)
    kubectl.apply(component("plain", "gitpy", {"name": "plain-up"}), namespace)
    up_to_date(kubectl, "plain", namespace, "UpToDate")
    kubectl.apply(template("gitpy", publish=publish, files=CHANGED), namespace)
    c = up_to_date(kubectl, "plain", namespace, "UpdateBranchPushed")
    assert f"branch {BRANCH}" in c["message"]
    checkout = clone(f"file://{remote}/plain-up.git", tmp_path / "plain")
    git(checkout, "fetch", "-q", "origin", BRANCH)
    assert git(checkout, "diff", "--name-status", "main...FETCH_HEAD").split("\n")[:-1] == [
        "A\t.editorconfig",
        "M\tREADME.md",
    ]
    # The owner merges the branch: the Component is then up to date.
    git(checkout, "merge", "-q", "--no-edit", "FETCH_HEAD")
    git(checkout, "push", "-q", "origin", "main")
    up_to_date(kubectl, "plain", namespace, "UpToDate", timeout=40)


def test_a_template_edit_that_does_not_change_the_render_proposes_nothing(
    kubectl: Kubectl, namespace: str, github: FakeGitHub
) -> None:
    repo = unique(namespace, "steady")
    kubectl.apply(template("py"), namespace)
    kubectl.apply(component("steady", "py", {"name": repo}), namespace)
    up_to_date(kubectl, "steady", namespace, "UpToDate")
    version = repository(kubectl, "steady", namespace)["templateVersion"]
    # A new optional parameter no file uses: a new version, the same render. The
    # repository is moved to the new version with reads only.
    calls_before = len(github.calls)
    body = json.loads(template("py"))
    body["spec"]["parameters"]["properties"]["team"] = {"type": "string"}
    kubectl.apply(json.dumps(body), namespace)

    def moved() -> None:
        assert repository(kubectl, "steady", namespace)["templateVersion"] != version

    eventually(moved, timeout=30)
    writes = [x for x in github.calls[calls_before:] if repo in x.path and x.method != "GET"]
    assert writes == []
    assert pulls(github, repo) == []

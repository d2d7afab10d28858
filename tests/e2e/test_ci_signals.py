"""CI runs and stale repositories as signals, on the real API server with the GitHub fake: a
Component named by Backstage's github.com/project-slug annotation turns Degraded with a `ci`
signal when the latest run on main fails, Healthy when a new run passes; its repository
archived gives RepositoryArchived=True, deleted RepositoryMissing=True (and no CI any more),
neither gating Ready. Between changes, the polls are 304s. With `github.ci.affectsHealth:
false` a red CI is in status.ci only. The suite's t-* namespaces may name acme's
repositories (their tenancy rule publishes there, and observe.githubOwners defaults to
that); a namespace no rule matches may not: CIRead=False (RepositoryNotAllowed), nothing of
the repository in its status, not gating Ready, and no request for it reaches GitHub. Polls
run every second here (`github.poll`)."""

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from fakes.github import FakeGitHub
from support.config import changed_config, read_config
from support.kubectl import Kubectl
from support.poll import eventually

pytestmark = pytest.mark.usefixtures("operator")

CI = ".github/workflows/ci.yml"


def github_settings(kubectl: Kubectl, **ci: Any) -> dict[str, Any]:
    """The session's github section, polling every second. requestsPerHour is the fake's
    whole hour: the suite's other GitHub calls must not leave these polls waiting for the
    fake's reset (Portico keeps hour's limit minus requestsPerHour for scaffolding)."""
    section = dict(read_config(kubectl).get("github") or {})
    section["poll"] = {"intervalSeconds": 1, "requestsPerHour": 5000}
    if ci:
        section["ci"] = ci
    return section


@pytest.fixture
def fast_polls(kubectl: Kubectl) -> Iterator[None]:
    with changed_config(kubectl, github=github_settings(kubectl)):
        yield


@pytest.fixture
def http(github: FakeGitHub) -> Iterator[httpx.Client]:
    """The test's hands on the fake: create, archive and delete repositories."""
    headers = {"Authorization": f"Bearer {github.token}"}
    with httpx.Client(base_url=github.base_url, headers=headers, timeout=10) as client:
        yield client


def repository(github: FakeGitHub, http: httpx.Client, namespace: str) -> str:
    name = f"ci-{namespace[2:]}-{uuid.uuid4().hex[:4]}"
    http.post("/orgs/acme/repos", json={"name": name, "auto_init": True}).raise_for_status()
    github.add_workflow("acme", name, CI, "CI")
    return name


def component(name: str, repo: str) -> str:
    return json.dumps(
        {
            "apiVersion": "portico.dev/v1alpha1",
            "kind": "Component",
            "metadata": {"name": name, "annotations": {"github.com/project-slug": f"acme/{repo}"}},
            "spec": {"type": "service", "lifecycle": "production", "owner": "group:team-a"},
        }
    )


def status_of(kubectl: Kubectl, name: str, namespace: str) -> dict[str, Any]:
    obj = kubectl.get("component", name, namespace)
    assert obj is not None
    return dict(obj.get("status") or {})


def conditions(status: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["type"]: c for c in status.get("conditions") or []}


def test_ci_runs_and_a_stale_repository_reach_the_component(
    kubectl: Kubectl, namespace: str, github: FakeGitHub, http: httpx.Client, fast_polls: None
) -> None:
    repo = repository(github, http, namespace)
    red = github.add_run("acme", repo, CI, branch="main", status="completed", conclusion="failure")
    kubectl.apply(component("checkout", repo), namespace)

    def degraded() -> dict[str, Any]:
        status = status_of(kubectl, "checkout", namespace)
        health = status.get("health") or {}
        assert health.get("status") == "Degraded", status
        return status

    status = eventually(degraded, timeout=30)
    assert status["health"]["reason"] == "CIDegraded"
    assert [s["source"] for s in status["health"]["signals"]] == ["ci"]
    assert f"/actions/runs/{red}" in status["health"]["message"]
    ci = status["ci"]
    assert (ci["repository"], ci["branch"], ci["runId"]) == (f"acme/{repo}", "main", red)
    assert (ci["status"], ci["conclusion"], ci["path"]) == ("completed", "failure", CI)
    found = conditions(status)
    assert (found["RepositoryMissing"]["status"], found["RepositoryArchived"]["status"]) == (
        "False",
        "False",
    )

    green = github.add_run(
        "acme", repo, CI, branch="main", status="completed", conclusion="success"
    )

    def healthy() -> dict[str, Any]:
        status = status_of(kubectl, "checkout", namespace)
        assert (status.get("health") or {}).get("status") == "Healthy", status
        assert status["ci"]["runId"] == green
        return status

    eventually(healthy, timeout=30)

    # Nothing changes now: the polls of this repository are answered 304.
    seen = len(github.calls)
    runs = f"/repos/acme/{repo}/actions/runs"

    def polled_twice() -> list[int]:
        statuses = [c.status for c in github.calls[seen:] if c.path == runs]
        assert len(statuses) >= 2, statuses
        return statuses

    assert set(eventually(polled_twice, timeout=20)) == {304}

    http.patch(f"/repos/acme/{repo}", json={"archived": True}).raise_for_status()

    def archived() -> dict[str, Any]:
        c = conditions(status_of(kubectl, "checkout", namespace)).get("RepositoryArchived")
        assert c is not None
        assert c["status"] == "True", c
        return c

    c = eventually(archived, timeout=30)
    assert c["reason"] == "RepositoryArchived"
    assert f"acme/{repo} is archived" in c["message"]
    ready = conditions(status_of(kubectl, "checkout", namespace))["Ready"]
    assert ready["status"] == "True", ready  # a stale repository does not gate Ready

    http.delete(f"/repos/acme/{repo}").raise_for_status()

    def missing() -> dict[str, Any]:
        status = status_of(kubectl, "checkout", namespace)
        c = conditions(status).get("RepositoryMissing")
        assert c is not None
        assert c["status"] == "True", c
        return status

    status = eventually(missing, timeout=30)
    assert conditions(status)["RepositoryMissing"]["reason"] == "RepositoryMissing"
    assert "ci" not in status  # a deleted repository has no CI
    assert "health" not in status  # and the Component has no other source
    assert conditions(status)["Ready"]["status"] == "True"


def test_ci_that_does_not_affect_health_is_reported_only(
    kubectl: Kubectl, namespace: str, github: FakeGitHub, http: httpx.Client
) -> None:
    repo = repository(github, http, namespace)
    github.add_run("acme", repo, CI, branch="main", status="completed", conclusion="failure")
    settings = github_settings(kubectl, affectsHealth=False, workflows=["ci.yml"])
    with changed_config(kubectl, github=settings):
        kubectl.apply(component("ledger", repo), namespace)

        def reported_only() -> None:
            status = status_of(kubectl, "ledger", namespace)
            assert (status.get("ci") or {}).get("conclusion") == "failure", status
            assert "health" not in status, status  # no ci signal, and no other source

        eventually(reported_only, timeout=30)


@pytest.fixture
def outsider(kubectl: Kubectl) -> Iterator[str]:
    """A namespace no tenancy rule matches (deny by default)."""
    name = f"outsider-{uuid.uuid4().hex[:8]}"
    kubectl.run("create", "namespace", name)
    yield name
    kubectl.run("delete", "namespace", name, "--wait=false", check=False)


def test_a_namespace_may_not_read_another_teams_repository(
    kubectl: Kubectl, outsider: str, github: FakeGitHub, http: httpx.Client, fast_polls: None
) -> None:
    repo = repository(github, http, outsider)
    github.add_run("acme", repo, CI, branch="main", status="completed", conclusion="failure")
    seen = len(github.calls)
    kubectl.apply(component("spy", repo), outsider)

    def refused() -> dict[str, Any]:
        status = status_of(kubectl, "spy", outsider)
        c = conditions(status).get("CIRead")
        assert c is not None, status
        assert c["status"] == "False", c
        return status

    status = eventually(refused, timeout=30)
    c = conditions(status)["CIRead"]
    assert c["reason"] == "RepositoryNotAllowed"
    assert f"namespace {outsider}" in c["message"]
    assert "observe.githubOwners" in c["message"]
    assert conditions(status)["Ready"]["status"] == "True"  # CIRead does not gate Ready
    time.sleep(3)  # a few rounds of polls (every second)
    status = status_of(kubectl, "spy", outsider)
    assert "ci" not in status
    assert "RepositoryMissing" not in conditions(status)
    asked = [c.path for c in github.calls[seen:] if f"/repos/acme/{repo}" in c.path]
    assert asked == [], asked  # GitHub was never asked about it

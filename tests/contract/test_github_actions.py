"""Contract test: the GitHub fake's Actions API and conditional requests against GitHub's REST
docs (https://docs.github.com/rest/actions/workflow-runs, https://docs.github.com/rest/actions/
workflows, and "Use conditional requests if appropriate" in https://docs.github.com/rest/using-
the-rest-api/best-practices-for-using-the-rest-api), as PyGithub (``get_workflow_runs``,
``get_workflows``, ``Workflow.get_runs``) and a raw HTTP client with ``If-None-Match`` drive
them. It checks the fake, not Portico: issue 17's health signal from workflow runs will trust
the fake because of these.

The matrix: runs listed newest first with the documented fields, filtered by branch, status (a
status or a conclusion), event and head sha, paged; a run's update and re-run seen in the list;
workflows by id and by file name, and a workflow's own runs; a run's open pull requests and
``exclude_pull_requests``; the ETag round trip (a 304 without a body that leaves
``X-RateLimit-Remaining`` alone, a changed run giving a new ETag and a 200); a deleted repository
answering 404 for itself and for its runs; the 404 and 422 GitHub answers.
"""

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from github import Auth, Github, GithubException, UnknownObjectException
from github.Repository import Repository

from fakes.github import Call, FakeGitHub

RUNS = "/repos/acme/svc/actions/runs"
CI = ".github/workflows/ci.yaml"
RELEASE = ".github/workflows/release.yml"


@pytest.fixture
def gh(fake: FakeGitHub) -> Iterator[Github]:
    client = Github(
        auth=Auth.Token(fake.token),
        base_url=fake.base_url,
        retry=None,
        seconds_between_requests=None,
        seconds_between_writes=None,
    )
    yield client
    client.close()


@pytest.fixture
def repo(client: httpx.Client, gh: Github) -> Repository:
    """acme/svc (created by the shared ``client`` fixture), as PyGithub sees it."""
    return gh.get_repo("acme/svc")


def _remaining(response: httpx.Response) -> int:
    return int(response.headers["X-RateLimit-Remaining"])


def _ids(runs: Any) -> list[int]:
    return [run.id for run in runs]


def test_runs_are_listed_newest_first_with_the_documented_fields(
    fake: FakeGitHub, repo: Repository
) -> None:
    ci = fake.add_workflow("acme", "svc", CI, "CI")
    head = fake.commits("acme", "svc")[0]
    first = fake.add_run("acme", "svc", CI, branch="main", status="completed", conclusion="success")
    second = fake.add_run("acme", "svc", CI, branch="main", status="in_progress")

    runs = repo.get_workflow_runs()
    assert runs.totalCount == 2
    assert _ids(runs) == [second, first]
    run = repo.get_workflow_run(first)
    assert (run.id, run.name, run.path, run.workflow_id) == (first, "CI", CI, ci)
    assert (run.head_branch, run.head_sha, run.event) == ("main", head, "push")
    assert (run.status, run.conclusion, run.run_number, run.run_attempt) == (
        "completed",
        "success",
        1,
        1,
    )
    assert run.html_url == f"https://github.com/acme/svc/actions/runs/{first}"
    assert run.created_at <= run.updated_at
    assert run.run_started_at == run.created_at
    assert (run.head_commit.sha, run.display_title) == (head, "Initial commit")
    assert repo.get_workflow_run(second).run_number == 2


def test_runs_are_filtered_and_paged(
    fake: FakeGitHub, repo: Repository, client: httpx.Client
) -> None:
    fake.add_workflow("acme", "svc", CI, "CI")
    main = fake.commits("acme", "svc")[0]
    repo.create_git_ref("refs/heads/feature", main)
    ok = fake.add_run("acme", "svc", CI, branch="main", status="completed", conclusion="success")
    bad = fake.add_run(
        "acme", "svc", CI, branch="feature", status="completed", conclusion="failure"
    )
    queued = fake.add_run("acme", "svc", CI, branch="main", status="queued", event="schedule")

    assert _ids(repo.get_workflow_runs(branch="main")) == [queued, ok]
    assert _ids(repo.get_workflow_runs(branch="feature")) == [bad]
    assert _ids(repo.get_workflow_runs(branch="gone")) == []
    assert _ids(repo.get_workflow_runs(status="success")) == [ok]  # a conclusion
    assert _ids(repo.get_workflow_runs(status="completed")) == [bad, ok]  # a status
    assert _ids(repo.get_workflow_runs(status="queued", branch="main")) == [queued]
    assert _ids(repo.get_workflow_runs(event="schedule")) == [queued]
    assert _ids(repo.get_workflow_runs(head_sha=main)) == [queued, bad, ok]
    assert _ids(repo.get_workflow_runs(head_sha="0" * 40)) == []

    page = client.get(RUNS, params={"per_page": 2, "page": 2})
    assert page.status_code == 200
    assert page.json()["total_count"] == 3
    assert [r["id"] for r in page.json()["workflow_runs"]] == [ok]
    assert 'rel="prev"' in page.headers["Link"]

    invalid = client.get(RUNS, params={"status": "green"})
    assert invalid.status_code == 422
    assert invalid.json()["errors"][0]["field"] == "status"


def test_an_updated_run_changes_the_list(fake: FakeGitHub, repo: Repository) -> None:
    fake.add_workflow("acme", "svc", CI, "CI")
    run_id = fake.add_run("acme", "svc", CI, branch="main", status="queued")
    assert _ids(repo.get_workflow_runs(status="in_progress")) == []

    fake.update_run("acme", "svc", run_id, status="in_progress")
    assert _ids(repo.get_workflow_runs(status="in_progress")) == [run_id]

    fake.update_run("acme", "svc", run_id, status="completed", conclusion="failure")
    [run] = repo.get_workflow_runs(branch="main")
    assert (run.status, run.conclusion, run.run_attempt) == ("completed", "failure", 1)
    assert _ids(repo.get_workflow_runs(status="in_progress")) == []

    fake.rerun_run("acme", "svc", run_id)
    [run] = repo.get_workflow_runs(branch="main")
    assert (run.id, run.status, run.conclusion, run.run_attempt) == (run_id, "queued", None, 2)
    assert run.previous_attempt_url.endswith(f"/actions/runs/{run_id}/attempts/1")

    with pytest.raises(ValueError, match="conclusion"):
        fake.update_run("acme", "svc", run_id, status="completed")
    with pytest.raises(ValueError, match="only a completed run"):
        fake.update_run("acme", "svc", run_id, status="queued", conclusion="success")
    with pytest.raises(ValueError, match="no workflow"):
        fake.add_run("acme", "svc", ".github/workflows/other.yml", branch="main", status="queued")


def test_workflows_by_id_and_file_name_and_their_runs(fake: FakeGitHub, repo: Repository) -> None:
    ci = fake.add_workflow("acme", "svc", CI, "CI")
    release = fake.add_workflow("acme", "svc", RELEASE)  # no name: GitHub shows the path
    built = fake.add_run("acme", "svc", CI, branch="main", status="completed", conclusion="success")
    fake.add_run("acme", "svc", RELEASE, branch="main", status="queued")

    listed = {w.id: (w.name, w.path, w.state) for w in repo.get_workflows()}
    assert listed == {ci: ("CI", CI, "active"), release: (RELEASE, RELEASE, "active")}
    by_file = repo.get_workflow("ci.yaml")
    assert (by_file.id, by_file.name) == (ci, "CI")
    assert repo.get_workflow(ci).path == CI
    assert _ids(by_file.get_runs(branch="main")) == [built]
    assert _ids(by_file.get_runs(status="queued")) == []

    with pytest.raises(UnknownObjectException):
        repo.get_workflow("deploy.yml").name  # noqa: B018 (PyGithub loads lazily)


def test_a_runs_pull_requests_unless_excluded(
    fake: FakeGitHub, repo: Repository, client: httpx.Client
) -> None:
    fake.add_workflow("acme", "svc", CI, "CI")
    repo.create_git_ref("refs/heads/feature", fake.commits("acme", "svc")[0])
    repo.create_file("app.py", "Add the app", "PORT = 8080\n", branch="feature")
    pull = repo.create_pull(base="main", head="feature", title="Add the app")
    on_feature = fake.add_run("acme", "svc", CI, branch="feature", status="queued")
    on_main = fake.add_run("acme", "svc", CI, branch="main", status="queued")

    runs = {r["id"]: r for r in client.get(RUNS).json()["workflow_runs"]}
    assert [p["number"] for p in runs[on_feature]["pull_requests"]] == [pull.number]
    assert runs[on_feature]["display_title"] == "Add the app"
    assert runs[on_main]["pull_requests"] == []
    excluded = client.get(RUNS, params={"exclude_pull_requests": "true"}).json()
    assert all(r["pull_requests"] == [] for r in excluded["workflow_runs"])
    assert [p.number for p in repo.get_workflow_run(on_feature).pull_requests] == [pull.number]


def test_etag_round_trip_spares_the_rate_limit(fake: FakeGitHub, client: httpx.Client) -> None:
    fake.add_workflow("acme", "svc", CI, "CI")
    run_id = fake.add_run("acme", "svc", CI, branch="main", status="in_progress")

    first = client.get(RUNS, params={"branch": "main"})
    assert first.status_code == 200
    etag = first.headers["ETag"]
    assert etag[0] == etag[-1] == '"'  # quoted, and strong (no W/)

    again = client.get(RUNS, params={"branch": "main"}, headers={"If-None-Match": etag})
    assert (again.status_code, again.content, again.headers["ETag"]) == (304, b"", etag)
    assert _remaining(again) == _remaining(first)  # a 304 is free
    assert "X-RateLimit-Reset" in again.headers
    weak_in_a_list = f'"other", W/{etag}'
    listed = client.get(RUNS, params={"branch": "main"}, headers={"If-None-Match": weak_in_a_list})
    assert (listed.status_code, _remaining(listed)) == (304, _remaining(first))
    unconditional = client.get(RUNS, params={"branch": "main"})
    assert (unconditional.status_code, unconditional.headers["ETag"]) == (200, etag)
    assert _remaining(unconditional) == _remaining(first) - 1

    fake.update_run("acme", "svc", run_id, status="completed", conclusion="success")
    changed = client.get(RUNS, params={"branch": "main"}, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    assert changed.json()["workflow_runs"][0]["conclusion"] == "success"
    assert _remaining(changed) == _remaining(unconditional) - 1

    other = client.get("/repos/acme/svc", headers={"If-None-Match": etag})
    assert other.status_code == 200
    assert other.headers["ETag"] not in (etag, changed.headers["ETag"])  # one per body
    assert Call("GET", RUNS, 304) in fake.calls


def test_conditional_requests_at_the_edge_of_the_rate_limit(
    fake: FakeGitHub, client: httpx.Client
) -> None:
    etag = client.get(RUNS).headers["ETag"]
    reset = int(client.get("/rate_limit").json()["resources"]["core"]["reset"])
    fake.rate_limit(remaining=1, reset_at=reset)
    for _ in range(3):  # free however often it is asked
        cached = client.get(RUNS, headers={"If-None-Match": etag})
        assert (cached.status_code, _remaining(cached)) == (304, 1)
    assert client.get(RUNS).status_code == 200  # the last request of the budget
    refused = client.get(RUNS, headers={"If-None-Match": etag})
    assert (refused.status_code, _remaining(refused)) == (403, 0)


def test_a_deleted_repository_gives_404(
    fake: FakeGitHub, repo: Repository, client: httpx.Client
) -> None:
    fake.add_workflow("acme", "svc", CI, "CI")
    fake.add_run("acme", "svc", CI, branch="main", status="queued")
    etag = client.get(RUNS).headers["ETag"]

    repo.delete()
    assert fake.repos() == []
    for path in ("/repos/acme/svc", RUNS, "/repos/acme/svc/actions/workflows"):
        assert client.get(path).status_code == 404
    assert client.get(RUNS, headers={"If-None-Match": etag}).status_code == 404
    assert client.delete("/repos/acme/svc").status_code == 404
    with pytest.raises(UnknownObjectException):
        repo.get_workflow_runs().totalCount  # noqa: B018 (the request happens here)
    with pytest.raises(ValueError, match="no repository"):
        fake.add_run("acme", "svc", CI, branch="main", status="queued")


def test_missing_runs_and_workflows_give_404(fake: FakeGitHub, repo: Repository) -> None:
    with pytest.raises(UnknownObjectException):
        repo.get_workflow_run(1)
    assert repo.get_workflow_runs().totalCount == 0
    assert repo.get_workflows().totalCount == 0
    with pytest.raises(GithubException) as missing:
        repo.get_workflow(7000001).name  # noqa: B018 (PyGithub loads lazily)
    assert missing.value.status == 404

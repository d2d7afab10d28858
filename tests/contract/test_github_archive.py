"""Contract test: archiving and deleting a repository in the GitHub fake, as GitHub's REST docs
describe them ("Update a repository": ``PATCH /repos/{owner}/{repo}`` with ``archived``; "Get
a repository": the ``archived`` field; "Delete a repository": 204, then 404), seen the way
Portico's polls see them: through conditional GETs.

The matrix: ``archived`` false on a new repository; ``{"archived": true}`` archives it (200,
the repository in the answer), a GET shows it with a new ETag (so the poll's old ETag gets a
200, not a 304); an archived repository still lists its workflow runs, refuses writes with
GitHub's 403 "Repository was archived so is read-only." and unarchives with
``{"archived": false}``; a non-boolean ``archived`` is 422; a deleted repository answers 404 to
a GET, with or without an ETag, and so do its runs.
"""

import httpx

from fakes.github import FakeGitHub

REPO = "/repos/acme/svc"
CI = ".github/workflows/ci.yml"


def test_archiving_changes_the_repository_and_its_etag(
    fake: FakeGitHub, client: httpx.Client
) -> None:
    first = client.get(REPO)
    assert first.status_code == 200
    assert first.json()["archived"] is False
    tag = first.headers["ETag"]
    assert client.get(REPO, headers={"If-None-Match": tag}).status_code == 304

    archived = client.patch(REPO, json={"archived": True})
    assert archived.status_code == 200
    assert archived.json()["archived"] is True
    after = client.get(REPO, headers={"If-None-Match": tag})
    assert after.status_code == 200  # the old ETag no longer matches
    assert after.json()["archived"] is True
    assert after.headers["ETag"] != tag
    assert client.get(REPO, headers={"If-None-Match": after.headers["ETag"]}).status_code == 304


def test_an_archived_repository_is_read_only_but_readable(
    fake: FakeGitHub, client: httpx.Client
) -> None:
    fake.add_workflow("acme", "svc", CI, "CI")
    run = fake.add_run("acme", "svc", CI, branch="main", status="completed", conclusion="failure")
    client.patch(REPO, json={"archived": True}).raise_for_status()

    runs = client.get(f"{REPO}/actions/runs", params={"branch": "main"})
    assert runs.status_code == 200
    assert [r["id"] for r in runs.json()["workflow_runs"]] == [run]
    refused = client.patch(REPO, json={"description": "late"})
    assert refused.status_code == 403
    assert refused.json()["message"] == "Repository was archived so is read-only."

    assert client.patch(REPO, json={"archived": "yes"}).status_code == 403  # read-only first
    unarchived = client.patch(REPO, json={"archived": False})
    assert unarchived.status_code == 200
    assert unarchived.json()["archived"] is False
    assert client.patch(REPO, json={"archived": "yes"}).status_code == 422


def test_a_deleted_repository_is_404_with_or_without_an_etag(
    fake: FakeGitHub, client: httpx.Client
) -> None:
    fake.add_workflow("acme", "svc", CI, "CI")
    fake.add_run("acme", "svc", CI, branch="main", status="completed", conclusion="success")
    tag = client.get(REPO).headers["ETag"]
    runs_tag = client.get(f"{REPO}/actions/runs").headers["ETag"]

    assert client.delete(REPO).status_code == 204
    gone = client.get(REPO, headers={"If-None-Match": tag})
    assert gone.status_code == 404
    assert gone.json()["message"] == "Not Found"
    assert client.get(REPO).status_code == 404
    runs = client.get(f"{REPO}/actions/runs", headers={"If-None-Match": runs_tag})
    assert runs.status_code == 404
    assert "svc" not in [r.split("/")[1] for r in fake.repos()]

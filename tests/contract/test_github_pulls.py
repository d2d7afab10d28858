"""Contract test: the GitHub fake's Pulls API against GitHub's REST docs
(https://docs.github.com/en/rest/pulls/pulls), as a client drives it over HTTP. It checks the
fake, not Portico: template upgrades will trust the fake because of these.

The matrix: creating a pull request from a branch (201, ``Location``, numbers from the issue
sequence, ``mergeable`` still null), the 422s GitHub answers (a duplicate open pull request, a
missing head or base branch, no commits between them), listing by state, head and base with
GitHub's paging, ``mergeable`` computed by a real ``git merge-tree`` for a clean merge and for a
conflict (which clears once the head is rebased), updating by PATCH (close, edit, reopen), a
deleted head branch closing its pull request, and PyGithub reading all of it. Every commit is
made through the fake's Git Data API.
"""

from typing import Any

import httpx
from github import Auth, Github

from fakes.github import FakeGitHub

REPO = "/repos/acme/svc"
CREATE_DOCS = "https://docs.github.com/rest/pulls/pulls#create-a-pull-request"


def _ok(response: httpx.Response) -> Any:
    assert response.is_success, (response.status_code, response.text)
    return response.json() if response.content else None


def _head(client: httpx.Client, branch: str) -> str:
    sha: str = _ok(client.get(f"{REPO}/git/ref/heads/{branch}"))["object"]["sha"]
    return sha


def _new_commit(client: httpx.Client, parent: str, files: dict[str, str]) -> str:
    """A commit on top of ``parent`` that writes ``files`` (path -> text), on no branch yet."""
    base_tree = _ok(client.get(f"{REPO}/git/commits/{parent}"))["tree"]["sha"]
    items = [{"path": p, "mode": "100644", "type": "blob", "content": c} for p, c in files.items()]
    tree = _ok(client.post(f"{REPO}/git/trees", json={"base_tree": base_tree, "tree": items}))
    message = f"Change {', '.join(files)}"
    body = {"message": message, "tree": tree["sha"], "parents": [parent]}
    sha: str = _ok(client.post(f"{REPO}/git/commits", json=body))["sha"]
    return sha


def _commit(client: httpx.Client, branch: str, files: dict[str, str], start: str = "main") -> str:
    """Commit ``files`` on ``branch`` (created from ``start`` if it does not exist yet)."""
    exists = client.get(f"{REPO}/git/ref/heads/{branch}").status_code == 200
    sha = _new_commit(client, _head(client, branch if exists else start), files)
    if exists:
        _ok(client.patch(f"{REPO}/git/refs/heads/{branch}", json={"sha": sha}))
    else:
        _ok(client.post(f"{REPO}/git/refs", json={"ref": f"refs/heads/{branch}", "sha": sha}))
    return sha


def _open(client: httpx.Client, head: str, base: str = "main", **extra: Any) -> httpx.Response:
    body = {"title": f"Upgrade from {head}", "head": head, "base": base, **extra}
    return client.post(f"{REPO}/pulls", json=body)


def _numbers(client: httpx.Client, **params: Any) -> list[int]:
    return [pr["number"] for pr in _ok(client.get(f"{REPO}/pulls", params=params))]


def test_a_pull_request_from_a_branch_is_created_and_read_back(
    fake: FakeGitHub, client: httpx.Client
) -> None:
    main = _head(client, "main")
    feature = _commit(client, "template-upgrade", {"app.py": "print('v2')\n"})

    created = _open(client, "template-upgrade", body="Upgrades python-service to v2.")
    assert created.status_code == 201
    pr = created.json()
    assert created.headers["Location"] == pr["url"] == f"{fake.base_url}{REPO}/pulls/1"
    assert pr["number"] == 1
    assert pr["html_url"] == "https://github.com/acme/svc/pull/1"
    assert (pr["state"], pr["title"], pr["body"]) == (
        "open",
        "Upgrade from template-upgrade",
        "Upgrades python-service to v2.",
    )
    assert (pr["draft"], pr["merged"], pr["closed_at"]) == (False, False, None)
    assert {k: pr["head"][k] for k in ("ref", "sha", "label")} == {
        "ref": "template-upgrade",
        "sha": feature,
        "label": "acme:template-upgrade",
    }
    assert {k: pr["base"][k] for k in ("ref", "sha", "label")} == {
        "ref": "main",
        "sha": main,
        "label": "acme:main",
    }
    # GitHub answers a create before its background job has checked mergeability
    assert (pr["mergeable"], pr["mergeable_state"]) == (None, "unknown")
    assert (pr["commits"], pr["additions"], pr["deletions"], pr["changed_files"]) == (1, 1, 0, 1)

    got = _ok(client.get(pr["url"]))
    for key in ("number", "title", "body", "head", "base", "created_at", "draft"):
        assert got[key] == pr[key], key
    assert _head(client, "main") == main  # opening a pull request moves no branch

    _commit(client, "second", {"b.txt": "b\n"})
    second = _ok(_open(client, "second", draft=True))
    assert (second["number"], second["draft"]) == (2, True)
    assert client.get(f"{REPO}/pulls/3").status_code == 404


def test_a_second_open_pull_request_for_the_same_branches_is_422(client: httpx.Client) -> None:
    _commit(client, "template-upgrade", {"app.py": "v2\n"})
    first = _ok(_open(client, "template-upgrade"))

    for head in ("template-upgrade", "acme:template-upgrade"):
        duplicate = _open(client, head)
        assert duplicate.status_code == 422
        assert duplicate.json()["message"] == "Validation Failed"
        assert duplicate.json()["documentation_url"] == CREATE_DOCS
        assert duplicate.json()["errors"] == [
            {
                "resource": "PullRequest",
                "code": "custom",
                "message": "A pull request already exists for acme:template-upgrade.",
            }
        ]
    assert _numbers(client, state="all") == [1]

    _ok(client.patch(first["url"], json={"state": "closed"}))
    again = _ok(_open(client, "template-upgrade"))
    assert again["number"] == 2
    reopen = client.patch(first["url"], json={"state": "open"})
    assert reopen.status_code == 422
    assert reopen.json()["errors"][0]["message"] == (
        "A pull request already exists for acme:template-upgrade."
    )


def test_creating_without_a_branch_or_without_commits_is_422(client: httpx.Client) -> None:
    _commit(client, "template-upgrade", {"app.py": "v2\n"})
    _ok(
        client.post(
            f"{REPO}/git/refs", json={"ref": "refs/heads/same", "sha": _head(client, "main")}
        )
    )

    def errors(head: str, base: str = "main") -> list[dict[str, str]]:
        response = _open(client, head, base)
        assert response.status_code == 422, response.text
        assert response.json()["message"] == "Validation Failed"
        found: list[dict[str, str]] = response.json()["errors"]
        return found

    def invalid(field: str) -> dict[str, str]:
        return {"resource": "PullRequest", "field": field, "code": "invalid"}

    def custom(message: str) -> dict[str, str]:
        return {"resource": "PullRequest", "code": "custom", "message": message}

    assert errors("missing") == [invalid("head")]
    assert errors("someone-else:template-upgrade") == [invalid("head")]  # forks: not modelled
    assert errors("template-upgrade", base="missing") == [invalid("base")]
    assert errors("main") == [custom("No commits between main and main")]
    assert errors("same") == [custom("No commits between main and same")]
    untitled = client.post(f"{REPO}/pulls", json={"head": "template-upgrade", "base": "main"})
    assert untitled.status_code == 422
    assert untitled.json()["errors"][0]["field"] == "title"
    assert _numbers(client, state="all") == []


def test_the_list_filters_by_state_head_and_base_and_pages(client: httpx.Client) -> None:
    for branch in ("one", "two", "three"):
        _commit(client, branch, {f"{branch}.txt": f"{branch}\n"})
        _ok(_open(client, branch))
    _commit(client, "develop", {"develop.txt": "d\n"})
    _commit(client, "four", {"four.txt": "4\n"}, start="develop")
    _ok(_open(client, "four", base="develop"))
    _ok(client.patch(f"{REPO}/pulls/2", json={"state": "closed"}))

    assert _numbers(client) == [4, 3, 1]  # open ones, newest first
    assert _numbers(client, state="closed") == [2]
    assert _numbers(client, state="all", direction="asc") == [1, 2, 3, 4]
    assert _numbers(client, head="acme:three") == [3]
    assert _numbers(client, head="acme:two") == []
    assert _numbers(client, head="acme:two", state="all") == [2]
    assert _numbers(client, head="someone-else:three") == []
    assert _numbers(client, head="three") == [4, 3, 1]  # GitHub ignores a head without "owner:"
    assert _numbers(client, base="develop") == [4]
    assert _numbers(client, base="main", state="all") == [3, 2, 1]

    page = client.get(f"{REPO}/pulls", params={"state": "all", "per_page": 1, "page": 2})
    assert [pr["number"] for pr in page.json()] == [3]
    pages = {rel: httpx.URL(link["url"]).params for rel, link in page.links.items()}
    assert {rel: params["page"] for rel, params in pages.items()} == {
        "prev": "1",
        "next": "3",
        "last": "4",
        "first": "1",
    }
    assert pages["next"]["state"] == "all"
    following = _ok(client.get(page.links["next"]["url"]))
    assert [pr["number"] for pr in following] == [2]
    assert "link" not in client.get(f"{REPO}/pulls").headers  # everything fits on one page

    item = page.json()[0]  # "pull-request-simple": no merge state in lists
    assert item["head"]["ref"] == "three"
    assert not {"mergeable", "mergeable_state", "merged"} & item.keys()
    assert client.get(f"{REPO}/pulls", params={"state": "merged"}).status_code == 422


def test_mergeable_when_the_head_merges_cleanly(fake: FakeGitHub, client: httpx.Client) -> None:
    feature = _commit(client, "template-upgrade", {"app.py": "v2\n"})
    main = _commit(client, "main", {"docs.md": "written meanwhile\n"})
    pr = _ok(_open(client, "template-upgrade"))

    got = _ok(client.get(pr["url"]))
    assert (got["mergeable"], got["mergeable_state"]) == (True, "clean")
    merge = _ok(client.get(f"{REPO}/git/commits/{got['merge_commit_sha']}"))
    assert [parent["sha"] for parent in merge["parents"]] == [main, feature]
    tree = _ok(client.get(f"{REPO}/git/trees/{merge['tree']['sha']}"))
    assert sorted(entry["path"] for entry in tree["tree"]) == ["README.md", "app.py", "docs.md"]
    assert fake.commits("acme", "svc", "main")[0] == main  # the test merge is on no branch
    assert _ok(client.get(pr["url"]))["merge_commit_sha"] == got["merge_commit_sha"]
    # an update answers what the last check found while the branches stay put
    edited = _ok(client.patch(pr["url"], json={"title": "Upgrade python-service to v2"}))
    assert (edited["mergeable"], edited["title"]) == (True, "Upgrade python-service to v2")


def test_mergeable_is_false_on_a_conflict_until_the_head_is_rebased(
    client: httpx.Client,
) -> None:
    _commit(client, "template-upgrade", {"README.md": "# svc, as the template renders it\n"})
    main = _commit(client, "main", {"README.md": "# svc, as a person edited it\n"})
    pr = _ok(_open(client, "template-upgrade"))

    got = _ok(client.get(pr["url"]))
    assert (got["mergeable"], got["mergeable_state"]) == (False, "dirty")
    assert got["merge_commit_sha"] is None

    rebased = _new_commit(client, main, {"README.md": "# svc, edited, then upgraded\n"})
    forced = {"sha": rebased, "force": True}
    _ok(client.patch(f"{REPO}/git/refs/heads/template-upgrade", json=forced))
    got = _ok(client.get(pr["url"]))
    assert got["head"]["sha"] == rebased
    assert (got["mergeable"], got["mergeable_state"]) == (True, "clean")


def test_a_pull_request_is_closed_edited_and_reopened_by_patch(client: httpx.Client) -> None:
    _commit(client, "template-upgrade", {"app.py": "v2\n"})
    pr = _ok(_open(client, "template-upgrade", body="first"))

    closed = client.patch(pr["url"], json={"state": "closed"})
    assert closed.status_code == 200
    assert closed.json()["state"] == "closed"
    assert closed.json()["closed_at"] is not None
    assert _ok(client.get(pr["url"]))["state"] == "closed"
    assert _numbers(client) == []
    assert _numbers(client, state="closed") == [1]

    edited = _ok(client.patch(pr["url"], json={"title": "Renamed", "body": None}))
    assert (edited["title"], edited["body"], edited["state"]) == ("Renamed", None, "closed")
    reopened = _ok(client.patch(pr["url"], json={"state": "open"}))
    assert (reopened["state"], reopened["closed_at"]) == ("open", None)
    assert _numbers(client) == [1]

    for body, field in (({"state": "merged"}, "state"), ({"base": "missing"}, "base")):
        rejected = client.patch(pr["url"], json=body)
        assert rejected.status_code == 422
        assert rejected.json()["errors"] == [
            {"resource": "PullRequest", "field": field, "code": "invalid"}
        ]
    assert client.patch(f"{REPO}/pulls/9", json={"state": "closed"}).status_code == 404


def test_deleting_the_head_branch_closes_the_pull_request(client: httpx.Client) -> None:
    _commit(client, "template-upgrade", {"app.py": "v2\n"})
    pr = _ok(_open(client, "template-upgrade"))
    assert client.delete(f"{REPO}/git/refs/heads/template-upgrade").status_code == 204

    assert _ok(client.get(pr["url"]))["state"] == "closed"
    reopen = client.patch(pr["url"], json={"state": "open"})
    assert reopen.status_code == 422
    assert reopen.json()["errors"][0]["message"] == (
        "state cannot be changed. The template-upgrade branch has been deleted."
    )


def test_pygithub_drives_the_pulls_api(fake: FakeGitHub, client: httpx.Client) -> None:
    _commit(client, "template-upgrade", {"app.py": "v2\n"})
    gh = Github(auth=Auth.Token(fake.token), base_url=fake.base_url, retry=None)
    try:
        repo = gh.get_repo("acme/svc")
        created = repo.create_pull(base="main", head="template-upgrade", title="Upgrade", body="b")
        assert created.number == 1
        listed = repo.get_pulls(state="open", head="acme:template-upgrade", base="main")
        assert [pr.number for pr in listed] == [1]
        pr = repo.get_pull(1)
        assert (pr.mergeable, pr.mergeable_state, pr.head.ref) == (
            True,
            "clean",
            "template-upgrade",
        )
        pr.edit(state="closed")
        assert repo.get_pull(1).state == "closed"
    finally:
        gh.close()

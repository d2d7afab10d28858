"""Contract test: merging in the GitHub fake against GitHub's REST docs
(https://docs.github.com/en/rest/pulls/pulls#merge-a-pull-request and #check-if-a-pull-request-
has-been-merged), as a client drives it over HTTP. It checks the fake, not Portico.

The matrix: ``PUT .../pulls/{n}/merge`` with each merge method, its result read back by cloning
the bare repository with real git (a merge commit with two parents, a squash commit with one,
rebased copies of the head's commits) and by reading the pull request (closed, ``merged``,
``merged_at``, ``merged_by``, ``merge_commit_sha``); GitHub's refusals (405 on a conflict, a
closed pull request, a draft, a disallowed method; 409 when ``sha`` is not the head; 404; 422
for an unknown method); ``GET .../merge`` (204 merged, 404 not); a pull request marked merged
because its head was pushed to the base with the git CLI (and not when something else was);
:meth:`FakeGitHub.merge_pull`; PyGithub merging.
"""

import os
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from github import Auth, Github
from test_github_pulls import _head, _ok

from fakes.github import ApiError, FakeGitHub

REPO = "/repos/acme/svc"
MERGE_DOCS = "https://docs.github.com/rest/pulls/pulls#merge-a-pull-request"
_GIT_ENV = {
    **{k: v for k, v in os.environ.items() if not k.startswith("GIT_")},
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "LC_ALL": "C",
}


def _commit(
    client: httpx.Client, branch: str, files: dict[str, str], start: str = "main", message: str = ""
) -> str:
    """Commit ``files`` (path -> text) on ``branch``, created from ``start`` if it is new."""
    exists = client.get(f"{REPO}/git/ref/heads/{branch}").status_code == 200
    parent = _head(client, branch if exists else start)
    base_tree = _ok(client.get(f"{REPO}/git/commits/{parent}"))["tree"]["sha"]
    items = [{"path": p, "mode": "100644", "type": "blob", "content": c} for p, c in files.items()]
    tree = _ok(client.post(f"{REPO}/git/trees", json={"base_tree": base_tree, "tree": items}))
    body = {"message": message or f"Change {', '.join(files)}", "tree": tree["sha"]}
    sha: str = _ok(client.post(f"{REPO}/git/commits", json={**body, "parents": [parent]}))["sha"]
    if exists:
        _ok(client.patch(f"{REPO}/git/refs/heads/{branch}", json={"sha": sha}))
    else:
        _ok(client.post(f"{REPO}/git/refs", json={"ref": f"refs/heads/{branch}", "sha": sha}))
    return sha


def _open(client: httpx.Client, head: str, **extra: Any) -> Any:
    body = {"title": f"Upgrade from {head}", "head": head, "base": "main", **extra}
    return _ok(client.post(f"{REPO}/pulls", json=body))


def _merge(client: httpx.Client, number: int, **body: Any) -> httpx.Response:
    return client.put(f"{REPO}/pulls/{number}/merge", json=body)


def _git(*args: str) -> str:
    done = subprocess.run(["git", *args], check=True, capture_output=True, text=True, env=_GIT_ENV)
    return done.stdout


def _clone(fake: FakeGitHub, tmp_path: Path) -> Path:
    clone = tmp_path / "svc"
    _git("clone", "--quiet", fake.repo_path("acme", "svc").as_uri(), str(clone))
    return clone


def _show(clone: Path, rev: str, fmt: str) -> str:
    return _git("-C", str(clone), "show", "-s", f"--format={fmt}", rev).strip()


def _files(clone: Path, rev: str = "HEAD") -> dict[str, str]:
    names = _git("-C", str(clone), "ls-tree", "-r", "--name-only", rev).split()
    return {name: _git("-C", str(clone), "show", f"{rev}:{name}") for name in names}


def test_merge_writes_a_merge_commit_and_closes_the_pull_request_as_merged(
    fake: FakeGitHub, client: httpx.Client, tmp_path: Path
) -> None:
    feature = _commit(client, "template-upgrade", {"app.py": "v2\n"})
    main = _commit(client, "main", {"docs.md": "written meanwhile\n"})
    pr = _open(client, "template-upgrade")

    merged = _merge(client, 1)
    assert merged.status_code == 200
    sha = merged.json()["sha"]
    assert merged.json() == {
        "sha": sha,
        "merged": True,
        "message": "Pull Request successfully merged",
    }
    assert _head(client, "main") == sha
    clone = _clone(fake, tmp_path)
    assert _show(clone, "HEAD", "%H %P") == f"{sha} {main} {feature}"
    assert _files(clone) == {
        "README.md": "# svc\n",
        "app.py": "v2\n",
        "docs.md": "written meanwhile\n",
    }
    assert _show(clone, "HEAD", "%B") == (
        "Merge pull request #1 from acme/template-upgrade\n\nUpgrade from template-upgrade"
    )
    assert _show(clone, "HEAD", "%an <%ae> | %cn <%ce>") == (
        "portico-bot <1+portico-bot@users.noreply.github.com> | GitHub <noreply@github.com>"
    )

    got = _ok(client.get(pr["url"]))
    assert (got["state"], got["merged"], got["merge_commit_sha"]) == ("closed", True, sha)
    assert got["merged_at"] is not None
    assert got["closed_at"] == got["merged_at"]
    assert got["merged_by"]["login"] == "portico-bot"
    assert (got["mergeable"], got["mergeable_state"]) == (None, "unknown")
    assert (got["head"]["sha"], got["base"]["sha"]) == (feature, main)  # the base merged into
    listed = _ok(client.get(f"{REPO}/pulls", params={"state": "closed"}))
    assert [(p["number"], p["merged_at"], p["merge_commit_sha"]) for p in listed] == [
        (1, got["merged_at"], sha)
    ]

    again = _merge(client, 1)
    assert again.status_code == 405
    assert again.json()["message"] == "Pull Request is not mergeable"
    assert again.json()["documentation_url"] == MERGE_DOCS
    reopen = client.patch(pr["url"], json={"state": "open"})
    assert reopen.status_code == 422
    assert reopen.json()["errors"][0]["message"] == (
        "state cannot be changed. The pull request cannot be reopened."
    )
    assert _head(client, "main") == sha


def test_squash_writes_one_commit_on_the_base(
    fake: FakeGitHub, client: httpx.Client, tmp_path: Path
) -> None:
    _commit(client, "template-upgrade", {"app.py": "v2\n"}, message="Render app.py")
    _commit(client, "template-upgrade", {"ci.yaml": "on: push\n"}, message="Render CI")
    main = _commit(client, "main", {"docs.md": "d\n"})
    _open(client, "template-upgrade")
    _commit(client, "second", {"b.txt": "b\n"}, message="Add b\n\nBecause b.")
    _open(client, "second")

    sha = _ok(_merge(client, 1, merge_method="squash"))["sha"]
    clone = _clone(fake, tmp_path)
    assert _show(clone, "HEAD", "%H %P") == f"{sha} {main}"
    assert _files(clone) == {
        "README.md": "# svc\n",
        "app.py": "v2\n",
        "ci.yaml": "on: push\n",
        "docs.md": "d\n",
    }
    assert _show(clone, "HEAD", "%B") == (
        "Upgrade from template-upgrade (#1)\n\n* Render app.py\n\n* Render CI"
    )
    assert _ok(client.get(f"{REPO}/pulls/1"))["merge_commit_sha"] == sha

    given = {"commit_title": "Add b, squashed", "commit_message": "Details."}
    second = _ok(_merge(client, 2, merge_method="squash", **given))["sha"]
    _git("-C", str(clone), "pull", "--quiet", "--ff-only")
    assert _show(clone, "HEAD", "%H %P") == f"{second} {sha}"
    assert _show(clone, "HEAD", "%B") == "Add b, squashed\n\nDetails."
    assert _files(clone)["b.txt"] == "b\n"


def test_rebase_replays_the_head_commits_onto_the_base(
    fake: FakeGitHub, client: httpx.Client, tmp_path: Path
) -> None:
    first = _commit(client, "template-upgrade", {"app.py": "v2\n"}, message="Render app.py")
    second = _commit(client, "template-upgrade", {"app.py": "v3\n"}, message="Render v3")
    main = _commit(client, "main", {"docs.md": "d\n"})
    _open(client, "template-upgrade")

    sha = _ok(_merge(client, 1, merge_method="rebase"))["sha"]
    clone = _clone(fake, tmp_path)
    log = _git("-C", str(clone), "log", "--format=%H %P|%s|%an|%cn", f"{main}..HEAD").splitlines()
    assert [line.split("|", 1)[1] for line in log] == [
        "Render v3|portico-bot|GitHub",
        "Render app.py|portico-bot|GitHub",
    ]
    shas = [line.split()[0] for line in log]
    assert shas[0] == sha
    assert not {first, second} & set(shas)  # new commits, as GitHub's rebase always makes
    assert _show(clone, sha, "%P") == shas[1]
    assert _show(clone, shas[1], "%P") == main
    assert _files(clone) == {"README.md": "# svc\n", "app.py": "v3\n", "docs.md": "d\n"}
    got = _ok(client.get(f"{REPO}/pulls/1"))
    assert (got["merged"], got["merge_commit_sha"]) == (True, sha)


def test_a_conflict_is_405_and_moves_nothing(client: httpx.Client) -> None:
    _commit(client, "template-upgrade", {"README.md": "# svc, as the template renders it\n"})
    main = _commit(client, "main", {"README.md": "# svc, as a person edited it\n"})
    _open(client, "template-upgrade")

    for method, message in (
        ("merge", "Pull Request is not mergeable"),
        ("squash", "Pull Request is not mergeable"),
        ("rebase", "This branch can't be rebased"),
    ):
        refused = _merge(client, 1, merge_method=method)
        assert refused.status_code == 405, method
        assert refused.json()["message"] == message
    assert _head(client, "main") == main
    got = _ok(client.get(f"{REPO}/pulls/1"))
    assert (got["state"], got["merged"], got["mergeable"]) == ("open", False, False)
    assert client.get(f"{REPO}/pulls/1/merge").status_code == 404


def test_a_sha_that_is_not_the_head_is_409(client: httpx.Client) -> None:
    old = _commit(client, "template-upgrade", {"app.py": "v2\n"})
    _open(client, "template-upgrade")
    new = _commit(client, "template-upgrade", {"app.py": "v3\n"})
    main = _head(client, "main")

    stale = _merge(client, 1, sha=old)
    assert stale.status_code == 409
    assert stale.json()["message"] == "Head branch was modified. Review and try the merge again."
    assert _head(client, "main") == main
    assert _ok(client.get(f"{REPO}/pulls/1"))["merged"] is False

    sha = _ok(_merge(client, 1, sha=new))["sha"]
    assert _head(client, "main") == sha


def test_the_other_refusals(client: httpx.Client) -> None:
    _commit(client, "template-upgrade", {"app.py": "v2\n"})
    pr = _open(client, "template-upgrade")
    _commit(client, "draft", {"d.txt": "d\n"})
    _open(client, "draft", draft=True)
    main = _head(client, "main")

    assert _merge(client, 9).status_code == 404
    assert client.get(f"{REPO}/pulls/9/merge").status_code == 404
    unknown = _merge(client, 1, merge_method="fast-forward")
    assert unknown.status_code == 422
    assert unknown.json()["message"] == (
        "Invalid request.\n\nFor 'properties/merge_method', \"fast-forward\" is not one of "
        '["merge", "squash", "rebase"].'
    )
    assert _merge(client, 1, commit_title=7).status_code == 422
    draft = _merge(client, 2)
    assert (draft.status_code, draft.json()["message"]) == (405, "Pull Request is still a draft")

    _ok(client.patch(REPO, json={"allow_squash_merge": False}))
    squash = _merge(client, 1, merge_method="squash")
    assert squash.status_code == 405
    assert squash.json()["message"] == "Squash merges are not allowed on this repository."

    _ok(client.patch(pr["url"], json={"state": "closed"}))
    closed = _merge(client, 1)
    assert (closed.status_code, closed.json()["message"]) == (405, "Pull Request is not mergeable")
    assert _head(client, "main") == main


def test_the_check_endpoint_answers_204_only_once_merged(client: httpx.Client) -> None:
    _commit(client, "template-upgrade", {"app.py": "v2\n"})
    pr = _open(client, "template-upgrade")

    check = client.get(f"{REPO}/pulls/1/merge")
    assert check.status_code == 404
    assert check.json()["message"] == "Not Found"
    _ok(client.patch(pr["url"], json={"state": "closed"}))
    assert client.get(f"{REPO}/pulls/1/merge").status_code == 404
    _ok(client.patch(pr["url"], json={"state": "open"}))
    _ok(_merge(client, 1))
    merged = client.get(f"{REPO}/pulls/1/merge")
    assert (merged.status_code, merged.content) == (204, b"")


def test_a_head_pushed_to_the_base_with_git_marks_the_pull_request_merged(
    fake: FakeGitHub, client: httpx.Client, tmp_path: Path
) -> None:
    feature = _commit(client, "template-upgrade", {"app.py": "v2\n"})
    _commit(client, "main", {"docs.md": "d\n"})
    pr = _open(client, "template-upgrade")
    _commit(client, "other", {"o.txt": "o\n"})
    _open(client, "other")

    clone = _clone(fake, tmp_path)
    identity = ["-c", "user.name=Person", "-c", "user.email=person@example.com"]
    _git("-C", str(clone), *identity, "merge", "--quiet", "--no-ff", "origin/template-upgrade")
    _git("-C", str(clone), *identity, "commit", "--quiet", "--allow-empty", "-m", "Unrelated")
    _git("-C", str(clone), "push", "--quiet", "origin", "HEAD:main")
    pushed = _show(clone, "HEAD", "%H")
    assert client.get(f"{REPO}/pulls/1/merge").status_code == 204

    got = _ok(client.get(pr["url"]))
    assert (got["state"], got["merged"], got["merge_commit_sha"]) == ("closed", True, pushed)
    assert got["merged_at"] is not None
    assert got["merged_by"]["login"] == "portico-bot"
    assert got["head"]["sha"] == feature
    other = _ok(client.get(f"{REPO}/pulls/2"))  # a push that does not contain its head
    assert (other["state"], other["merged"]) == ("open", False)
    assert client.get(f"{REPO}/pulls/2/merge").status_code == 404

    # merged by a fast-forward push, then its branch deleted before anyone looked
    gone = _commit(client, "gone", {"g.txt": "g\n"})
    _open(client, "gone")
    _git("-C", str(clone), "fetch", "--quiet", "origin")
    _git("-C", str(clone), "push", "--quiet", "origin", "origin/gone:main")  # fast-forward
    assert client.delete(f"{REPO}/git/refs/heads/gone").status_code == 204
    got = _ok(client.get(f"{REPO}/pulls/3"))
    assert (got["state"], got["merged"], got["merge_commit_sha"]) == ("closed", True, gone)
    assert [p["number"] for p in _ok(client.get(f"{REPO}/pulls"))] == [2]


def test_merge_pull_helper_and_delete_branch_on_merge(
    fake: FakeGitHub, client: httpx.Client
) -> None:
    head = _commit(client, "template-upgrade", {"app.py": "v2\n"})
    _open(client, "template-upgrade")
    _commit(client, "second", {"b.txt": "b\n"})
    _open(client, "second")
    _ok(client.patch(REPO, json={"delete_branch_on_merge": True}))

    with pytest.raises(ApiError) as stale:
        fake.merge_pull("acme", "svc", 1, sha="0" * 40)
    assert stale.value.status == 409
    sha = fake.merge_pull("acme", "svc", 1, method="squash", sha=head)
    assert fake.commits("acme", "svc")[0] == sha
    assert _ok(client.get(f"{REPO}/pulls/1"))["merged"] is True
    assert client.get(f"{REPO}/git/ref/heads/template-upgrade").status_code == 404
    with pytest.raises(ApiError) as again:
        fake.merge_pull("acme", "svc", 1)
    assert again.value.status == 405
    assert ("PUT", f"{REPO}/pulls/1/merge") not in fake.write_calls()  # no HTTP


def test_pygithub_merges_and_checks(fake: FakeGitHub, client: httpx.Client) -> None:
    _commit(client, "template-upgrade", {"app.py": "v2\n"})
    _open(client, "template-upgrade")
    gh = Github(auth=Auth.Token(fake.token), base_url=fake.base_url, retry=None)
    try:
        pr = gh.get_repo("acme/svc").get_pull(1)
        assert pr.is_merged() is False
        status = pr.merge(merge_method="squash", commit_title="Upgrade", sha=pr.head.sha)
        assert (status.merged, status.message) == (True, "Pull Request successfully merged")
        assert pr.is_merged() is True
        again = gh.get_repo("acme/svc").get_pull(1)
        assert (again.merged, again.state, again.merge_commit_sha) == (True, "closed", status.sha)
        assert again.merged_by.login == "portico-bot"
    finally:
        gh.close()

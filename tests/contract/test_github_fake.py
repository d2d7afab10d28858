"""Contract test: the GitHub fake against GitHub's documented REST API, as PyGithub relies on it.
It checks the fake, not Portico: the e2e tests trust the fake because of these.

PyGithub itself is the client: repositories are created, scaffolded through the Git Data API and
cloned with real git; errors (401, 403, 404, 409, 422) come back as PyGithub's exceptions; faults
and rate limits are injected and seen by both PyGithub and a raw HTTP client.
"""

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from github import (
    Auth,
    BadCredentialsException,
    Github,
    GithubException,
    InputGitTreeElement,
    RateLimitExceededException,
    UnknownObjectException,
)
from github.Repository import Repository

from fakes.github import Call, FakeGitHub


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with FakeGitHub(orgs=["acme"], user="portico-bot") as server:
        yield server
    assert not server.root.exists()
    server.assert_no_internal_errors()


@pytest.fixture
def gh(fake: FakeGitHub) -> Iterator[Github]:
    client = _client(fake, fake.token)
    yield client
    client.close()


def _client(fake: FakeGitHub, token: str) -> Github:
    return Github(
        auth=Auth.Token(token),
        base_url=fake.base_url,
        retry=None,
        seconds_between_requests=None,
        seconds_between_writes=None,
    )


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], check=True, capture_output=True, text=True).stdout


def _scaffolded(gh: Github, name: str = "svc") -> Repository:
    return gh.get_organization("acme").create_repo(name, description="a service", auto_init=True)


def test_git_data_api_scaffold_is_clonable(fake: FakeGitHub, gh: Github, tmp_path: Path) -> None:
    repo = _scaffolded(gh)
    assert repo.full_name == "acme/svc"
    assert repo.owner.login == "acme"
    assert repo.default_branch == "main"
    assert repo.clone_url.startswith("file://")

    main = repo.get_git_ref("heads/main")
    initial = repo.get_git_commit(main.object.sha)
    assert initial.message == "Initial commit"
    blob = repo.create_git_blob("deep\n", "utf-8")
    tree = repo.create_git_tree(
        [
            InputGitTreeElement("a/b/c.txt", "100644", "blob", sha=blob.sha),
            InputGitTreeElement("bin/run", "100755", "blob", content="#!/bin/sh\n"),
        ],
        base_tree=initial.tree,
    )
    assert sorted(e.path for e in tree.tree) == ["README.md", "a", "bin"]
    commit = repo.create_git_commit("Scaffold svc", tree, [initial])
    assert [p.sha for p in commit.parents] == [initial.sha]
    main.edit(commit.sha)
    assert main.object.sha == commit.sha
    assert repo.get_branch("main").commit.sha == commit.sha
    assert repo.get_contents("a/b/c.txt").decoded_content == b"deep\n"  # type: ignore[union-attr]

    clone = tmp_path / "svc"
    _git("clone", "--quiet", repo.clone_url, str(clone))
    assert (clone / "README.md").read_text() == "# svc\n"
    assert (clone / "a" / "b" / "c.txt").read_text() == "deep\n"
    assert (clone / "bin" / "run").stat().st_mode & 0o100
    assert _git("-C", str(clone), "log", "--format=%s").splitlines() == [
        "Scaffold svc",
        "Initial commit",
    ]
    assert fake.commits("acme", "svc") == [commit.sha, initial.sha]
    assert fake.repos() == ["acme/svc"]
    assert fake.repo_path("acme", "svc") == fake.root / "acme" / "svc.git"


def test_git_data_api_answers_409_on_an_empty_repository(gh: Github) -> None:
    repo = gh.get_organization("acme").create_repo("empty")
    with pytest.raises(GithubException) as blob:
        repo.create_git_blob("x", "utf-8")
    assert blob.value.status == 409
    assert blob.value.data["message"] == "Git Repository is empty."
    with pytest.raises(GithubException) as ref:
        repo.get_git_ref("heads/main")
    assert ref.value.status == 409


def test_creating_a_repository_twice_is_422(fake: FakeGitHub, gh: Github) -> None:
    org = gh.get_organization("acme")
    org.create_repo("svc")
    for name in ("svc", "SVC"):
        with pytest.raises(GithubException) as err:
            org.create_repo(name)
        assert err.value.status == 422
        assert err.value.data["errors"][0]["message"] == "name already exists on this account"
        assert err.value.data["errors"][0]["field"] == "name"
    assert fake.repos() == ["acme/svc"]


def test_unauthenticated_and_unknown_owner(fake: FakeGitHub, gh: Github) -> None:
    anonymous = httpx.get(f"{fake.base_url}/user")
    assert anonymous.status_code == 401
    assert anonymous.json()["documentation_url"].startswith("https://docs.github.com/")
    assert "X-RateLimit-Remaining" in anonymous.headers
    wrong = _client(fake, "not-the-token")
    with pytest.raises(BadCredentialsException):
        wrong.get_user().login  # noqa: B018 - the attribute access makes the request
    wrong.close()

    with pytest.raises(UnknownObjectException) as err:
        gh.get_organization("nope")
    assert err.value.status == 404
    with pytest.raises(UnknownObjectException):
        gh.get_repo("acme/missing")
    assert gh.get_user().login == "portico-bot"
    assert [c.status for c in fake.calls[:2]] == [401, 401]


def test_fail_next_fails_the_next_matching_calls_then_recovers(
    fake: FakeGitHub, gh: Github
) -> None:
    repo = _scaffolded(gh)
    head = repo.get_git_commit(repo.get_branch("main").commit.sha)
    fake.fail_next("POST", r"/git/commits$", 500, times=2)
    for _ in range(2):
        with pytest.raises(GithubException) as err:
            repo.create_git_commit("again", head.tree, [head])
        assert err.value.status == 500
    assert repo.create_git_commit("again", head.tree, [head]).message == "again"
    commits = [c for c in fake.calls if c.path == "/repos/acme/svc/git/commits"]
    assert [c.status for c in commits] == [500, 500, 201]
    assert fake.write_calls().count(("POST", "/repos/acme/svc/git/commits")) == 3


def test_fail_next_with_apply_carries_out_the_request_and_loses_the_reply(
    fake: FakeGitHub, gh: Github
) -> None:
    fake.fail_next("POST", r"^/orgs/acme/repos$", 502, apply=True)
    with pytest.raises(GithubException) as lost:
        _scaffolded(gh)
    assert lost.value.status == 502
    assert fake.repos() == ["acme/svc"]
    with pytest.raises(GithubException) as retry:
        _scaffolded(gh)
    assert retry.value.status == 422


def test_rate_limit_faults_and_budget(fake: FakeGitHub, gh: Github) -> None:
    headers = {"Authorization": f"Bearer {fake.token}"}
    reset = int(time.time()) + 60
    message = "API rate limit exceeded for user ID 1."
    limit_headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)}
    fake.fail_next("GET", r"^/user$", 403, headers=limit_headers, body={"message": message})
    limited = httpx.get(f"{fake.base_url}/user", headers=headers)
    assert limited.status_code == 403
    assert limited.headers["X-RateLimit-Remaining"] == "0"
    assert limited.headers["X-RateLimit-Reset"] == str(reset)
    assert limited.headers["X-RateLimit-Resource"] == "core"
    assert limited.json() == {"message": message}

    fake.fail_next("GET", r"^/user$", 429, headers={"Retry-After": "1"})
    secondary = httpx.get(f"{fake.base_url}/user", headers=headers)
    assert secondary.status_code == 429
    assert secondary.headers["Retry-After"] == "1"
    assert "secondary rate limit" in secondary.json()["message"]

    fake.rate_limit(remaining=1, reset_at=reset)
    ok = httpx.get(f"{fake.base_url}/user", headers=headers)
    assert (ok.status_code, ok.headers["X-RateLimit-Remaining"]) == (200, "0")
    assert ok.headers["X-RateLimit-Reset"] == str(reset)
    with pytest.raises(RateLimitExceededException) as err:
        gh.get_organization("acme")
    assert err.value.status == 403
    assert err.value.headers is not None
    assert err.value.headers["x-ratelimit-reset"] == str(reset)

    fake.rate_limit(remaining=10, reset_at=reset)
    assert gh.get_organization("acme").login == "acme"


def test_topics_round_trip_and_archived_repository_is_read_only(gh: Github) -> None:
    repo = _scaffolded(gh)
    repo.replace_topics(["portico", "python-3"])
    assert repo.get_topics() == ["portico", "python-3"]
    assert gh.get_repo("acme/svc").topics == ["portico", "python-3"]
    for bad in ("Portico", "has space", "x" * 51, "-lead"):
        with pytest.raises(GithubException) as err:
            repo.replace_topics([bad])
        assert err.value.status == 422
        assert err.value.data["errors"][0]["field"] == "topics"

    repo.edit(archived=True)
    assert repo.archived
    for write in (
        lambda: repo.create_git_blob("x", "utf-8"),
        lambda: repo.replace_topics(["late"]),
        lambda: repo.edit(description="late"),
    ):
        with pytest.raises(GithubException) as err:
            write()
        assert err.value.status == 403
        assert err.value.data["message"] == "Repository was archived so is read-only."
    repo.edit(archived=False)
    assert repo.create_git_blob("x", "utf-8").sha


def test_refs_follow_githubs_rules(fake: FakeGitHub, gh: Github) -> None:
    repo = _scaffolded(gh)
    initial = repo.get_git_commit(repo.get_git_ref("heads/main").object.sha)
    other = repo.create_git_commit("unrelated", initial.tree, [])
    with pytest.raises(GithubException) as exists:
        repo.create_git_ref("refs/heads/main", other.sha)
    assert (exists.value.status, exists.value.data["message"]) == (422, "Reference already exists")
    with pytest.raises(UnknownObjectException):
        repo.get_git_ref("heads/nope")

    main = repo.get_git_ref("heads/main")
    with pytest.raises(GithubException) as not_ff:
        main.edit(other.sha)
    assert not_ff.value.status == 422
    assert not_ff.value.data["message"] == "Update is not a fast forward"
    main.edit(other.sha, force=True)
    assert fake.commits("acme", "svc") == [other.sha]

    feature = repo.create_git_ref("refs/heads/feature/x", initial.sha)
    assert feature.ref == "refs/heads/feature/x"
    assert repo.get_branch("feature/x").commit.sha == initial.sha
    feature.delete()
    assert fake.commits("acme", "svc", "feature/x") == []


def test_branch_protection_contents_and_user_repositories(fake: FakeGitHub, gh: Github) -> None:
    repo = gh.get_user().create_repo("tool", auto_init=True, private=True)
    assert (repo.full_name, repo.private, repo.visibility) == ("portico-bot/tool", True, "private")
    main = repo.get_branch("main")
    assert not main.protected
    with pytest.raises(GithubException) as unprotected:
        main.get_protection()
    assert unprotected.value.status == 404
    assert unprotected.value.data["message"] == "Branch not protected"
    protection = main.edit_protection(strict=True, contexts=["ci"], enforce_admins=True)
    assert protection.required_status_checks.contexts == ["ci"]
    assert protection.enforce_admins
    assert repo.get_branch("main").protected
    with pytest.raises(GithubException) as err:
        main.edit_protection(user_push_restrictions=["someone"])
    assert err.value.status == 422  # restrictions are for organisation repositories only

    created = repo.create_file("docs/index.md", "add docs", "# Docs\n")
    assert repo.get_git_commit(created["commit"].sha).message == "add docs"
    listing = repo.get_contents("docs")
    assert isinstance(listing, list)
    assert [(c.path, c.type) for c in listing] == [("docs/index.md", "file")]
    with pytest.raises(UnknownObjectException):
        repo.get_contents("missing.txt")
    assert len(fake.commits("portico-bot", "tool")) == 2
    assert Call("PUT", "/repos/portico-bot/tool/contents/docs/index.md", 201) in fake.calls

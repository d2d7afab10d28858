"""Template updates for the git publisher: the "pure renders" branch `portico/template`
grows from the scaffold commit, one commit per new render, so its merge base with the
default branch is the previous render and a merge brings exactly the Template's changes.
Idempotent, never forced, and as defensive as the scaffold publisher: hostile URLs, branch
names, file paths and commit ids are refused before git runs."""

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from test_git_client import plain_git

from portico.clients import git, git_update
from portico.clients.git import publish_git
from portico.clients.git_update import (
    UPDATE_BRANCH,
    Proposal,
    UpdateRequest,
    propose,
    propose_git,
    update_trailers,
)
from portico.clients.publishing import RepoRequest
from portico.errors import Conflict, ExternalError, RejectedError, TransientError

UID = "6f1c2a8e-0d7b-4e52-9a43-1f0c5b7d9e21"
FILES = {"README.md": "# svc\n", "src/svc/app.py": "print('hello')\n"}
DATE = "2001-02-03T04:05:06+00:00"
PWNED = "portico-pwned"
_REAL_RUN = subprocess.run

Call = tuple[list[str], dict[str, str]]


def head(url: str, branch: str = "main") -> str:
    out = plain_git("ls-remote", "--", url, f"refs/heads/{branch}")
    return out.split("\t")[0]


def in_remote(url: str, *args: str) -> str:
    """A git command run in the bare remote itself."""
    return plain_git(f"--git-dir={url.removeprefix('file://')}", *args)


def changes(url: str, old: str, new: str) -> set[str]:
    out = in_remote(url, "diff", "--no-renames", "--name-status", old, new)
    return {" ".join(line.split("\t")) for line in out.splitlines()}


def parents(url: str, commit: str) -> list[str]:
    return in_remote(url, "rev-list", "--parents", "-n1", commit).split()[1:]


def request(base: str, version: str = "a1b2c3d", **overrides: Any) -> UpdateRequest:
    fields: dict[str, Any] = {
        "owner": "",
        "name": "svc",
        "uid": UID,
        "base_commit": base,
        "default_branch": "main",
        "version": version,
        "title": "Update the template",
        "body": "",
        "message": f"Template version {version}",
        "author_date": DATE,
    }
    return UpdateRequest(**{**fields, **overrides})


def push_to_main(url: str, work: Path, edit: dict[str, str], message: str) -> str:
    """A team member's commit on main, made with plain git in a clone."""
    if not work.exists():
        plain_git("clone", "-q", "--", url, str(work))
    plain_git("pull", "-q", "--no-rebase", cwd=work)
    for path, content in edit.items():
        (work / path).write_text(content)
    plain_git("commit", "-q", "-am", message, cwd=work)
    plain_git("push", "-q", "--", url, "HEAD:refs/heads/main", cwd=work)
    return head(url)


@pytest.fixture
def scaffold(tmp_path: Path) -> tuple[str, str]:
    """A file:// repository holding the scaffold commit on main: (url, commit)."""
    url = f"file://{tmp_path}/remote/svc.git"
    published = publish_git(url, RepoRequest(owner="", name="svc", uid=UID), FILES, allow_file=True)
    return url, published.commit


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[Call]:
    """Every process the client starts (argv and environment); they still run."""
    seen: list[Call] = []

    def spy(argv: list[str], *args: Any, **kwargs: Any) -> Any:
        seen.append((list(argv), dict(kwargs.get("env") or os.environ)))
        return _REAL_RUN(argv, *args, **kwargs)

    monkeypatch.setattr(subprocess, "run", spy)
    return seen


def test_the_trailers_and_the_defaults() -> None:
    assert update_trailers(UID, "a1b2c3d") == (
        f"Portico-Component: {UID}\nPortico-Template-Version: a1b2c3d"
    )
    assert request("0" * 40).branch == UPDATE_BRANCH == "portico/template"
    proposal = Proposal(commit=None, branch=UPDATE_BRANCH, merged=False)
    assert (proposal.created, proposal.pull_number, proposal.mergeable) == (False, None, None)


def test_the_first_update_grows_from_the_scaffold_with_exactly_the_template_change(
    scaffold: tuple[str, str],
) -> None:
    url, base = scaffold
    files = {"README.md": "# svc v2\n", "docs/index.md": "docs\n"}  # app.py is gone
    proposal = propose_git(url, request(base), files, allow_file=True)

    assert proposal.created
    assert not proposal.merged
    assert proposal.branch == UPDATE_BRANCH
    assert proposal.commit == head(url, UPDATE_BRANCH)
    assert parents(url, proposal.commit) == [base]
    assert changes(url, base, proposal.commit) == {
        "M README.md",
        "A docs/index.md",
        "D src/svc/app.py",
    }
    assert in_remote(url, "show", f"{proposal.commit}:README.md") == "# svc v2\n"
    log = in_remote(url, "log", "-1", "--format=%an <%ae>%n%aI%n%cI%n%B", proposal.commit)
    assert log.startswith(f"Portico <portico@localhost>\n{DATE}\n{DATE}\n")
    assert f"Template version a1b2c3d\n\n{update_trailers(UID, 'a1b2c3d')}\n" in log
    assert in_remote(url, "ls-tree", "-r", "--format=%(objectmode)", proposal.commit).split() == [
        "100644",
        "100644",
    ]
    assert head(url) == base  # main is only read


def test_a_second_update_stacks_on_the_first(scaffold: tuple[str, str]) -> None:
    url, base = scaffold
    first = propose_git(url, request(base), {**FILES, "a.txt": "a\n"}, allow_file=True)
    assert first.commit is not None
    files = {**FILES, "a.txt": "a2\n", "b.txt": "b\n"}
    second = propose_git(url, request(base, "e4f5a6b"), files, allow_file=True)

    assert second.created
    assert second.commit is not None
    assert second.commit == head(url, UPDATE_BRANCH) != first.commit
    assert parents(url, second.commit) == [first.commit]
    assert changes(url, first.commit, second.commit) == {"M a.txt", "A b.txt"}
    assert "Portico-Template-Version: e4f5a6b" in in_remote(url, "log", "-1", second.commit)


def test_a_render_equal_to_the_scaffold_proposes_nothing(
    scaffold: tuple[str, str], calls: list[Call]
) -> None:
    url, base = scaffold
    proposal = propose_git(url, request(base), dict(FILES), allow_file=True)
    assert proposal == Proposal(commit=None, branch=UPDATE_BRANCH, merged=True, created=False)
    assert head(url, UPDATE_BRANCH) == ""
    assert calls  # git did run
    assert not any("push" in argv or "commit-tree" in argv for argv, _ in calls)


def test_the_same_render_twice_makes_one_commit(scaffold: tuple[str, str]) -> None:
    url, base = scaffold
    files = {**FILES, "README.md": "# new\n"}
    first = propose_git(url, request(base), files, allow_file=True)
    retry = propose_git(url, request(base), files, allow_file=True)  # e.g. after a crash
    assert first.created
    assert not retry.created
    assert retry.commit == first.commit == head(url, UPDATE_BRANCH)
    assert in_remote(url, "rev-list", "--count", UPDATE_BRANCH).strip() == "2"


def test_merged_once_the_branch_is_in_main_and_the_next_update_diffs_from_it(
    scaffold: tuple[str, str], tmp_path: Path
) -> None:
    url, base = scaffold
    files = {**FILES, "README.md": "# v2\n"}
    first = propose_git(url, request(base), files, allow_file=True)
    assert first.commit is not None
    assert not first.merged

    work = tmp_path / "team"
    plain_git("clone", "-q", "--", url, str(work))
    plain_git("fetch", "-q", "origin", cwd=work)
    plain_git("merge", "-q", "--no-ff", "-m", "merge", f"origin/{UPDATE_BRANCH}", cwd=work)
    plain_git("push", "-q", "--", url, "HEAD:refs/heads/main", cwd=work)

    again = propose_git(url, request(base), files, allow_file=True)
    assert (again.commit, again.created, again.merged) == (first.commit, False, True)

    later = propose_git(url, request(base, "b0b0b0b"), {**files, "c.txt": "c\n"}, allow_file=True)
    assert later.created
    assert not later.merged
    assert later.commit is not None
    assert in_remote(url, "merge-base", later.commit, "main").strip() == first.commit


def test_the_teams_own_change_to_main_does_not_affect_the_branch(
    scaffold: tuple[str, str], tmp_path: Path
) -> None:
    url, base = scaffold
    theirs = push_to_main(url, tmp_path / "team", {"README.md": "# ours\n"}, "ours")
    proposal = propose_git(url, request(base), {**FILES, "README.md": "# v2\n"}, allow_file=True)
    assert proposal.created
    assert proposal.commit is not None
    assert parents(url, proposal.commit) == [base]
    assert changes(url, base, proposal.commit) == {"M README.md"}
    assert head(url) == theirs
    assert in_remote(url, "merge-base", proposal.commit, "main").strip() == base


def test_a_branch_moved_during_the_push_is_a_transient_error(
    scaffold: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, base = scaffold
    first = propose_git(url, request(base), {**FILES, "a.txt": "1\n"}, allow_file=True)
    racer = tmp_path / "racer"
    plain_git("clone", "-q", "-b", UPDATE_BRANCH, "--", url, str(racer))
    (racer / "a.txt").write_text("someone\n")
    plain_git("commit", "-q", "-am", "someone", cwd=racer)
    real_tree = git_update._tree

    def tree_then_race(*args: Any) -> str:
        plain_git("push", "-q", "--", url, f"HEAD:refs/heads/{UPDATE_BRANCH}", cwd=racer)
        return real_tree(*args)

    monkeypatch.setattr(git_update, "_tree", tree_then_race)
    with pytest.raises(TransientError, match="moved while Portico pushed"):
        propose_git(url, request(base, "2222222"), {**FILES, "a.txt": "2\n"}, allow_file=True)
    moved = head(url, UPDATE_BRANCH)
    assert parents(url, moved) == [first.commit]  # theirs, not overwritten

    monkeypatch.setattr(git_update, "_tree", real_tree)
    retry = propose_git(url, request(base, "2222222"), {**FILES, "a.txt": "2\n"}, allow_file=True)
    assert retry.commit is not None
    assert parents(url, retry.commit) == [moved]


def test_an_unreachable_scaffold_commit_is_named(scaffold: tuple[str, str]) -> None:
    url, _ = scaffold
    missing = "0123456789abcdef0123456789abcdef01234567"
    with pytest.raises(ExternalError, match=f"scaffold commit {missing} is on neither"):
        propose_git(url, request(missing), {"x": "y\n"}, allow_file=True)
    assert head(url, UPDATE_BRANCH) == ""


def test_a_branch_that_does_not_grow_from_the_scaffold_is_left_alone(
    scaffold: tuple[str, str], tmp_path: Path
) -> None:
    url, base = scaffold
    work = tmp_path / "foreign"
    plain_git("init", "-q", "--", str(work))
    (work / "x").write_text("x\n")
    plain_git("add", "x", cwd=work)
    plain_git("commit", "-q", "-m", "foreign", cwd=work)
    plain_git("push", "-q", "--", url, f"HEAD:refs/heads/{UPDATE_BRANCH}", cwd=work)
    foreign = head(url, UPDATE_BRANCH)
    with pytest.raises(Conflict, match="does not grow from the scaffold commit"):
        propose_git(url, request(base), {"x": "y\n"}, allow_file=True)
    assert head(url, UPDATE_BRANCH) == foreign


HOSTILE = [
    ("--upload-pack=touch portico-pwned;", {}, {}, "refusing git URL"),
    ("ext::sh -c touch% portico-pwned", {}, {}, "refusing git URL"),
    ("{url}", {"branch": "-x"}, {}, "branch name"),
    ("{url}", {"branch": "--force"}, {}, "branch name"),
    ("{url}", {"default_branch": "-x"}, {}, "branch name"),
    ("{url}", {"branch": "main"}, {}, "on the default branch"),
    ("{url}", {}, {"../x": "x"}, "scaffold file's path"),
    ("{url}", {}, {".git/config": "x"}, "scaffold file's path"),
    ("{url}", {"base_commit": "HEAD"}, {}, "base commit"),
    ("{url}", {"base_commit": "--all"}, {}, "base commit"),
    ("{url}", {"base_commit": "g" * 40}, {}, "base commit"),
    ("{url}", {"base_commit": "a" * 39}, {}, "base commit"),
    ("{url}", {"version": "1\nPortico-Component: other"}, {}, "template version"),
    ("{url}", {"uid": ""}, {}, "component uid"),
]


@pytest.mark.parametrize(("url", "overrides", "extra", "why"), HOSTILE)
def test_hostile_inputs_are_refused_before_git_runs(
    url: str,
    overrides: dict[str, str],
    extra: dict[str, str],
    why: str,
    scaffold: tuple[str, str],
    calls: list[Call],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    remote, base = scaffold
    monkeypatch.chdir(tmp_path)
    req = request(base, **overrides)
    with pytest.raises(RejectedError, match=why):
        propose_git(url.format(url=remote), req, {**FILES, **extra}, allow_file=True)
    assert calls == []
    assert not (tmp_path / PWNED).exists()
    assert head(remote, UPDATE_BRANCH) == ""


def test_git_runs_hardened_with_separated_urls_and_never_forces(
    scaffold: tuple[str, str], calls: list[Call], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_must_not_leak")
    url, base = scaffold
    propose_git(url, request(base), {**FILES, "README.md": "# v2\n"}, allow_file=True)
    commands = []
    for argv, env in calls:
        assert argv[0] == "git"
        settings = [argv[i + 1] for i, a in enumerate(argv) if a == "-c"]
        args = argv[1 + 2 * len(settings) :]
        commands.append(args[0])
        assert {"core.hooksPath=/dev/null", "credential.helper=", "protocol.allow=never"} <= set(
            settings
        )
        assert env["GIT_CONFIG_GLOBAL"] == os.devnull
        assert "GITHUB_TOKEN" not in env
        assert not any(a.startswith(("--force", "+")) or a == "-f" for a in args), args
        if args[0] in ("ls-remote", "fetch", "push"):
            assert url in args[args.index("--") + 1 :]
            assert url not in args[: args.index("--")]
        if args[0] == "push":
            assert "--no-verify" in args
            assert f"--receive-pack={git._LOCAL_RECEIVE_PACK}" in args
    assert commands[:3] == ["init", "ls-remote", "fetch"]
    assert {"add", "write-tree", "commit-tree", "push", "merge-base"} <= set(commands)
    assert "checkout" not in commands


async def test_the_async_propose_runs_the_same(scaffold: tuple[str, str]) -> None:
    url, base = scaffold
    proposal = await propose(url, request(base), {"only.txt": "x\n"}, allow_file=True)
    assert proposal.created
    assert proposal.commit == head(url, UPDATE_BRANCH)
    with pytest.raises(RejectedError, match="file URLs are not allowed"):
        await propose(url, request(base), {"only.txt": "y\n"})

"""Propose a Template's new render to a git repository: the "pure renders" branch.

The branch `portico/template` holds only pure renders of the Template. Its root is the
scaffold commit (the first pure render); an update commits the new render on top of the
branch, so the merge base of the branch and the default branch is the previous render and
merging the branch brings exactly the Template's changes (a three-way merge keeps the
team's own). Nothing is ever force-pushed, and the default branch is only read.

Idempotent: the same render twice makes one commit (a retry after a crash finds the
branch's tree equal to the render and returns `created=False`). A branch moved by someone
else meanwhile rejects the push as non-fast-forward: a TransientError, so the caller retries
on top of the new head. The hardening is git.py's: `check_url`, `--` before every URL and
refspec, the `_Git` runner's environment and `-c` settings; the render's tree is built in a
scratch bare repository from an empty directory, never in a checkout of the team's files.
"""

import asyncio
import re
import tempfile
from pathlib import Path

from portico.clients.git import (
    _LOCAL_RECEIVE_PACK,
    SYSTEM,
    _check_branch,
    _check_file_path,
    _clean,
    _Git,
    check_url,
)
from portico.clients.publishing import UPDATE_BRANCH as UPDATE_BRANCH
from portico.clients.publishing import Proposal, UpdateRequest, update_trailers
from portico.errors import Conflict, ExternalError, RejectedError, TransientError

_SHA = re.compile(r"[0-9a-f]{40}")
_DEFAULT = "refs/remotes/portico/default"  # where the default branch is fetched to
_UPDATE = "refs/remotes/portico/update"  # where the update branch is fetched to


def _check_sha(sha: str) -> str:
    if not isinstance(sha, str) or not _SHA.fullmatch(sha.lower()):
        raise RejectedError(
            SYSTEM, f"refusing base commit {str(sha)[:100]!r}: expected 40 hexadecimal digits"
        )
    return sha.lower()


def _check_value(what: str, value: str) -> None:
    """A trailer's value: one printable word, so it cannot add lines to the message."""
    if not value or any(c.isspace() or not c.isprintable() for c in value):
        raise RejectedError(
            SYSTEM, f"refusing {what} {value[:100]!r}: expected no whitespace or control chars"
        )


def _commit(git: _Git, repo: Path, rev: str) -> str | None:
    """The commit `rev` names in the scratch repository, None if it has no such commit."""
    found = git("rev-parse", "-q", "--verify", f"{rev}^{{commit}}", cwd=repo, ok_codes=(0, 1))
    return found.strip() or None


def _is_ancestor(git: _Git, repo: Path, ancestor: str, descendant: str) -> bool:
    done = git.run("merge-base", "--is-ancestor", ancestor, descendant, cwd=repo, ok_codes=(0, 1))
    return done.returncode == 0


def _tree(git: _Git, scratch: Path, repo: Path, files: dict[tuple[str, ...], str]) -> str:
    """The render's tree, written from an empty directory through a throwaway index.

    `add -A` as in `publish_git`, so a render's tree compares equal to the scaffold's."""
    render, index = scratch / "render", scratch / "render.index"
    render.mkdir()
    for segments, content in files.items():
        target = render.joinpath(*segments)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
    env = {"GIT_DIR": str(repo), "GIT_WORK_TREE": str(render), "GIT_INDEX_FILE": str(index)}
    git("add", "-A", cwd=render, env=env)
    return git("write-tree", cwd=render, env=env).strip()


def _push(git: _Git, repo: Path, url: str, commit: str, ref: str) -> None:
    receive = (f"--receive-pack={_LOCAL_RECEIVE_PACK}",) if url.startswith("file://") else ()
    args = ("push", "-q", "--porcelain", "--no-verify", *receive, "--", url, f"{commit}:{ref}")
    done = git.run(*args, cwd=repo, ok_codes=(0, 1))
    if done.returncode == 0:
        return
    status = [line for line in done.stdout.splitlines() if line.startswith("!\t")]
    if any("\t[rejected]" in line for line in status):  # non-fast-forward, fetch first
        raise TransientError(
            SYSTEM, f"{ref} of {url} moved while Portico pushed to it: {_clean(' '.join(status))}"
        )
    raise ExternalError(SYSTEM, f"git push failed: {_clean(done.stderr + ' ' + done.stdout)}")


def propose_git(
    url: str, req: UpdateRequest, files: dict[str, str], *, allow_file: bool = False
) -> Proposal:
    url = check_url(url, allow_file=allow_file)
    _check_branch(req.branch)
    _check_branch(req.default_branch)
    if req.branch == req.default_branch:
        raise RejectedError(
            SYSTEM, f"refusing to propose updates on the default branch {req.branch!r}"
        )
    base = _check_sha(req.base_commit)
    _check_value("component uid", req.uid)
    _check_value("template version", req.version)
    render = {_check_file_path(path): content for path, content in files.items()}
    default_ref, update_ref = f"refs/heads/{req.default_branch}", f"refs/heads/{req.branch}"
    with tempfile.TemporaryDirectory(prefix="portico-git-") as tmp:
        scratch = Path(tmp)
        git = _Git(scratch, allow_file=allow_file)
        repo = scratch / "repo.git"
        git("init", "--bare", "-q", "--template=", "--", str(repo))
        listing = git("ls-remote", "--", url, default_ref, update_ref)
        found = {line.partition("\t")[2] for line in listing.splitlines()}
        wanted = ((default_ref, _DEFAULT), (update_ref, _UPDATE))
        refspecs = [f"{remote}:{local}" for remote, local in wanted if remote in found]
        if refspecs:
            git("fetch", "-q", "--no-tags", "--", url, *refspecs, cwd=repo)
        head = _commit(git, repo, _UPDATE) if update_ref in found else None
        if _commit(git, repo, base) is None:
            raise ExternalError(
                SYSTEM,
                f"the scaffold commit {base} is on neither {req.default_branch} nor "
                f"{req.branch} of {url}: Portico cannot propose template updates from it",
            )
        if head is not None and not _is_ancestor(git, repo, base, head):
            raise Conflict(
                SYSTEM,
                f"branch {req.branch} of {url} does not grow from the scaffold commit {base}; "
                "Portico did not make it and leaves it untouched",
                status=409,
            )
        parent = head or base
        tree = _tree(git, scratch, repo, render)
        commit, created = head, False
        if tree != git("rev-parse", "--verify", f"{parent}^{{tree}}", cwd=repo).strip():
            message = f"{req.message}\n\n{update_trailers(req.uid, req.version)}"
            dates = {"GIT_AUTHOR_DATE": req.author_date, "GIT_COMMITTER_DATE": req.author_date}
            made = git("commit-tree", "-p", parent, "-m", message, tree, cwd=repo, env=dates)
            commit, created = made.strip(), True
            _push(git, repo, url, commit, update_ref)
        merged = default_ref in found and _is_ancestor(git, repo, commit or base, _DEFAULT)
    return Proposal(commit=commit, branch=req.branch, merged=merged, created=created)


async def propose(
    url: str, req: UpdateRequest, files: dict[str, str], *, allow_file: bool = False
) -> Proposal:
    return await asyncio.to_thread(propose_git, url, req, files, allow_file=allow_file)

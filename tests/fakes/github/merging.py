"""Merging pull requests, as https://docs.github.com/en/rest/pulls/pulls documents it:
``PUT /repos/{o}/{r}/pulls/{number}/merge`` ("Merge a pull request": ``commit_title``,
``commit_message``, ``sha``, ``merge_method``) and ``GET .../pulls/{number}/merge`` ("Check if a
pull request has been merged": 204 if it was, 404 if not).

The three merge methods are written with git's plumbing on the bare repository, then the base
branch is moved by a compare-and-swap ``update-ref``:

* ``merge`` (the default): a merge commit of head into base, parents (base, head), its tree from
  ``git merge-tree --write-tree``, titled "Merge pull request #{number} from {owner}/{head}"
  with the pull request's title as its body;
* ``squash``: one commit with the same tree and base as its only parent, titled
  "{pull request title} (#{number})" with "* {message}" of every squashed commit as its body
  (a single commit gives its own title and body instead, GitHub's default);
* ``rebase``: each commit of ``base..head``, oldest first, replayed onto base (a cherry-pick:
  ``merge-tree`` of the new base and the commit with the commit's parent as merge base), its
  author kept; the base moves to the last one. ``commit_title`` and ``commit_message`` are
  ignored, as GitHub ignores them.

``commit_title`` and ``commit_message`` replace the default title and body. The author is the
token's user and the committer ``GitHub <noreply@github.com>``, as for GitHub's web merges.

Mirrored from GitHub: 200 ``{"sha", "merged": true, "message": "Pull Request successfully
merged"}``, after which the pull request is closed with ``merged: true``, ``merged_at``,
``merged_by`` and ``merge_commit_sha`` (the merge, squash or last rebased commit) while
``base.sha`` keeps the base it was merged into; 404 for an unknown number; 405 "Pull Request is
not mergeable" when it is closed (merged ones too) or its head conflicts with its base, "Pull
Request is still a draft", "This branch can't be rebased" for a rebase that conflicts or would
replay a merge commit, and "Merge commits are not allowed on this repository." (or "Squash
merges", "Rebase merges") when the repository's ``allow_merge_commit``, ``allow_squash_merge``
or ``allow_rebase_merge`` is off; 409 "Head branch was modified. Review and try the merge
again." when ``sha`` is not the head; 422 "Invalid request." for a ``merge_method`` other than
the three, or a field that is not a string; 403 on an archived repository; the head branch is
deleted after the merge when ``delete_branch_on_merge`` is on.

A pull request merged by a push (its head reachable from its base) is detected by
:func:`fakes.github.pulls.sync`. Not modelled: branch protection (required reviews, checks,
linear history: stored, not enforced), merge queues, auto-merge, the repository's commit
message settings (``squash_merge_commit_title`` and the like: the defaults above apply), the
retargeting of pull requests based on a deleted head branch.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING

from fakes.github.errors import ApiError, Json, not_found
from fakes.github.git import Git
from fakes.github.pulls import find_pull, sync
from fakes.github.routing import REPO, Request, Response, Routes
from fakes.github.signature import Signature
from fakes.github.state import PullRequest, Repo
from fakes.github.values import iso, now

if TYPE_CHECKING:
    from fakes.github.api import GitHubApi

_DOCS = "https://docs.github.com/rest/pulls/pulls#merge-a-pull-request"
METHODS = ("merge", "squash", "rebase")
_ALLOWED = {
    "merge": ("allow_merge_commit", "Merge commits"),
    "squash": ("allow_squash_merge", "Squash merges"),
    "rebase": ("allow_rebase_merge", "Rebase merges"),
}

routes = Routes()


@routes("PUT", REPO + r"/pulls/(?P<number>\d+)/merge")
def merge_pull(api: GitHubApi, req: Request) -> Response:
    repo, body = api.writable_repo(req), req.body
    title, message, sha = (
        _optional_str(body, key) for key in ("commit_title", "commit_message", "sha")
    )
    method = body.get("merge_method", "merge")
    if method not in METHODS:
        allowed = ", ".join(f'"{m}"' for m in METHODS)
        raise _bad_request(
            f"For 'properties/merge_method', {json.dumps(method)} is not one of [{allowed}]."
        )
    git = api.git(repo)
    sync(api, repo, git)
    pr = find_pull(repo, req)
    setting, name = _ALLOWED[method]
    if not repo.settings.get(setting, True):
        raise _not_allowed(f"{name} are not allowed on this repository.")
    if pr.state != "open":
        raise _not_allowed("Pull Request is not mergeable")
    if pr.draft:
        raise _not_allowed("Pull Request is still a draft")
    if sha is not None and sha != pr.head_sha:
        raise ApiError(
            409, "Head branch was modified. Review and try the merge again.", None, _DOCS
        )
    when = now()
    if method == "rebase":
        commit = _rebase(git, pr, when)
    else:
        commit = _merge_or_squash(api, repo, git, pr, method, (title, message), when)
    if not git.update_ref(f"refs/heads/{pr.base}", commit, pr.base_sha):
        raise ApiError(
            409, "Base branch was modified. Review and try the merge again.", None, _DOCS
        )
    pr.mark_merged(commit, api.user, iso(when))
    repo.pushed_at = iso(when)
    if repo.settings.get("delete_branch_on_merge"):
        git.delete_ref(f"refs/heads/{pr.head}", pr.head_sha)
    return Response(
        200, {"sha": commit, "merged": True, "message": "Pull Request successfully merged"}
    )


@routes("GET", REPO + r"/pulls/(?P<number>\d+)/merge")
def check_merged(api: GitHubApi, req: Request) -> Response:
    repo = api.repo(req)
    sync(api, repo, api.git(repo))
    if find_pull(repo, req).merged_at is None:
        raise not_found()
    return Response(204)


def _merge_or_squash(
    api: GitHubApi,
    repo: Repo,
    git: Git,
    pr: PullRequest,
    method: str,
    given: tuple[str | None, str | None],
    when: datetime,
) -> str:
    related = git.merge_base(pr.base_sha, pr.head_sha) is not None  # a force-push may unrelate
    tree = git.merge_tree(pr.base_sha, pr.head_sha) if related else None
    if tree is None:
        raise _not_allowed("Pull Request is not mergeable")
    if method == "merge":
        parents = [pr.base_sha, pr.head_sha]
        default = (f"Merge pull request #{pr.number} from {repo.owner.login}/{pr.head}", pr.title)
    else:
        parents = [pr.base_sha]
        default = _squash_message(git, pr)
    title, message = given
    text = _message(title or default[0], default[1] if message is None else message)
    return git.commit_tree(tree, parents, text, api.user_signature(), _web_flow(when))


def _squash_message(git: Git, pr: PullRequest) -> tuple[str, str]:
    messages = [git.read_commit(c).message for c in _commits(git, pr)]
    if len(messages) == 1:
        subject, _, rest = messages[0].strip().partition("\n")
        return f"{subject} (#{pr.number})", rest.strip()
    return f"{pr.title} (#{pr.number})", "\n\n".join(f"* {m.strip()}" for m in messages)


def _rebase(git: Git, pr: PullRequest, when: datetime) -> str:
    """Replay ``base..head`` onto base, one commit at a time. git 2.39's ``merge-tree`` takes
    no ``--merge-base``, so each cherry-pick merges the commit with a stand-in commit (the new
    base's tree, the original parent as its parent), whose merge base is that parent."""
    onto = pr.base_sha
    for sha in _commits(git, pr):
        commit = git.read_commit(sha)
        if len(commit.parents) != 1:
            raise _not_allowed("This branch can't be rebased")
        parent = commit.parents[0]
        stand_in = git.commit_tree(
            git.read_commit(onto).tree, [parent], "rebase\n", commit.author, commit.author
        )
        tree = git.merge_tree(stand_in, sha)
        if tree is None:
            raise _not_allowed("This branch can't be rebased")
        onto = git.commit_tree(tree, [onto], commit.message, commit.author, _web_flow(when))
    return onto


def _commits(git: Git, pr: PullRequest) -> list[str]:
    """The commits the pull request adds to its base, oldest first."""
    revs = f"{pr.base_sha}..{pr.head_sha}"
    return git.run("rev-list", "--reverse", "--topo-order", revs).split()


def _message(title: str, body: str) -> str:
    return f"{title}\n\n{body}\n" if body.strip() else f"{title}\n"


def _web_flow(when: datetime) -> Signature:
    return Signature("GitHub", "noreply@github.com", when)


def _optional_str(body: Json, key: str) -> str | None:
    value = body.get(key)
    if value is None or isinstance(value, str):
        return value
    raise _bad_request(f"For 'properties/{key}', {json.dumps(value)} is not a string.")


def _bad_request(detail: str) -> ApiError:
    return ApiError(422, f"Invalid request.\n\n{detail}", None, _DOCS)


def _not_allowed(message: str) -> ApiError:
    return ApiError(405, message, None, _DOCS)

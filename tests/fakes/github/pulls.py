"""Pull requests between branches of one repository, as https://docs.github.com/en/rest/pulls/pulls
documents them: ``POST /repos/{o}/{r}/pulls``, ``GET .../pulls`` (``state``, ``head``, ``base``,
``sort``, ``direction``, ``per_page``, ``page``), ``GET .../pulls/{number}`` and
``PATCH .../pulls/{number}`` (``title``, ``body``, ``state``, ``base``).

Mirrored from GitHub:

* numbers come from the repository's issue sequence; a create answers 201 with ``Location``;
* 422 "Validation Failed" with GitHub's ``errors``: ``{"field": "head" or "base", "code":
  "invalid"}`` when a branch does not exist, "No commits between {base} and {head}" when head
  adds nothing to base (head == base too), "The {head} branch has no history in common with
  {base}", and "A pull request already exists for {owner}:{head}." when an open pull request
  has the same head and base (on create, on reopening, on a change of base);
* mergeability is GitHub's background job: a create or an update answers ``mergeable: null``
  and ``mergeable_state: "unknown"`` until a ``GET`` of the pull request has checked it with
  ``git merge-tree --write-tree`` on the real repository: ``true``, ``"clean"`` and
  ``merge_commit_sha`` (a test merge commit of head into base, on no ref) when it merges,
  ``false`` and ``"dirty"`` when it conflicts. A check holds until either branch moves;
* the list answers "pull-request-simple" items (no ``mergeable``, ``merged``, ``commits``...),
  newest first by default, paged like every GitHub list (:mod:`fakes.github.paging`), and
  ignores a ``head`` filter without its ``owner:`` prefix, as GitHub silently does;
* the head and base shas follow the branches while the pull request is open, and deleting
  either branch closes it;
* an open pull request whose head commit becomes reachable from its base branch (someone
  pushed it there, e.g. merged it with the git CLI) is closed as merged on the next request
  that reads pull requests, with ``merge_commit_sha`` the base branch's head and ``merged_by``
  the token's user (who pushed is not known); a merged one cannot be reopened (422 "state
  cannot be changed. The pull request cannot be reopened."). Merging through the API lives in
  :mod:`fakes.github.merging`.

Not modelled: reviews, comments, the commits and files listings, forks (``head`` is a branch
of the same repository), the ``draft``, ``blocked``, ``behind`` and ``unstable`` merge states,
``rebaseable`` (always null), ``refs/pull/{number}/head|merge``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from fakes.github.errors import ApiError, Json, missing, not_found
from fakes.github.git import Git
from fakes.github.paging import paginate
from fakes.github.routing import REPO, Request, Response, Routes
from fakes.github.shapes import owner_json, pull_json
from fakes.github.state import PullRequest, Repo
from fakes.github.values import iso, now, optional_str

if TYPE_CHECKING:
    from fakes.github.api import GitHubApi

_DOCS = "https://docs.github.com/rest/pulls/pulls"
_CREATE_DOCS = f"{_DOCS}#create-a-pull-request"
_LIST_DOCS = f"{_DOCS}#list-pull-requests"
_UPDATE_DOCS = f"{_DOCS}#update-a-pull-request"
_SORTS = ("created", "updated", "popularity", "long-running")

routes = Routes()


@routes("POST", REPO + r"/pulls")
def create_pull(api: GitHubApi, req: Request) -> Response:
    repo, body = api.writable_repo(req), req.body
    git = api.git(repo)
    title, head, base = (_required(body, key) for key in ("title", "head", "base"))
    text = optional_str(body, "body", "PullRequest")
    draft = body.get("draft", False)
    if not isinstance(draft, bool):
        raise _invalid(_CREATE_DOCS, "draft")
    branches = sync(api, repo, git)
    branch = _head_branch(repo, head)
    unknown = [f for f, name in (("head", branch), ("base", base)) if name not in branches]
    if unknown or branch is None:
        raise _invalid(_CREATE_DOCS, *unknown)
    head_sha, base_sha = branches[branch], branches[base]
    if git.merge_base(base_sha, head_sha) is None:
        raise _custom(_CREATE_DOCS, f"The {branch} branch has no history in common with {base}")
    if git.is_ancestor(head_sha, base_sha):
        raise _custom(_CREATE_DOCS, f"No commits between {base} and {branch}")
    _check_unique(repo, branch, base, _CREATE_DOCS)
    created = iso(now())
    pr = PullRequest(
        id=api.next_pull_id,
        number=repo.next_number,
        title=title,
        body=text,
        head=branch,
        base=base,
        head_sha=head_sha,
        base_sha=base_sha,
        draft=draft,
        created_at=created,
        updated_at=created,
    )
    api.next_pull_id += 1
    repo.next_number += 1
    repo.pulls[pr.number] = pr
    payload = full_json(api, repo, git, pr, check=False)
    return Response(201, payload, {"Location": payload["url"]})


@routes("GET", REPO + r"/pulls")
def list_pulls(api: GitHubApi, req: Request) -> Response:
    repo, query = api.repo(req), req.query
    sync(api, repo, api.git(repo))
    state = query.get("state", "open")
    sort = query.get("sort", "created")
    direction = query.get("direction", "desc" if sort == "created" else "asc")
    for name, value, allowed in (
        ("state", state, ("open", "closed", "all")),
        ("sort", sort, _SORTS),
        ("direction", direction, ("asc", "desc")),
    ):
        if value not in allowed:
            raise _invalid(_LIST_DOCS, name)
    pulls = [pr for pr in repo.pulls.values() if state in ("all", pr.state)]
    owner, namespaced, branch = query.get("head", "").partition(":")
    if namespaced:  # GitHub ignores a head filter without "owner:"
        ours = owner.lower() == repo.owner.login.lower()
        pulls = [pr for pr in pulls if ours and pr.head == branch]
    if query.get("base"):
        pulls = [pr for pr in pulls if pr.base == query["base"]]
    if sort == "updated":
        pulls.sort(key=lambda pr: (pr.updated_at, pr.number))
    else:  # creation order; no comments, so popularity and long-running sort the same way
        pulls.sort(key=lambda pr: pr.number)
    if direction == "desc":
        pulls.reverse()
    page, headers = paginate(pulls, query, api.api_url(repo, "/pulls"))
    return Response(200, [pull_json(api, repo, pr) for pr in page], headers)


@routes("GET", REPO + r"/pulls/(?P<number>\d+)")
def get_pull(api: GitHubApi, req: Request) -> Response:
    repo = api.repo(req)
    git = api.git(repo)
    sync(api, repo, git)
    pr = find_pull(repo, req)
    return Response(200, full_json(api, repo, git, pr, check=True))


@routes("PATCH", REPO + r"/pulls/(?P<number>\d+)")
def update_pull(api: GitHubApi, req: Request) -> Response:
    repo, body = api.writable_repo(req), req.body
    git = api.git(repo)
    branches = sync(api, repo, git)
    pr = find_pull(repo, req)
    title = body.get("title", pr.title)
    if not isinstance(title, str) or not title.strip():
        raise _invalid(_UPDATE_DOCS, "title")
    text = optional_str(body, "body", "PullRequest", pr.body)
    state, base = body.get("state", pr.state), body.get("base", pr.base)
    if state not in ("open", "closed"):
        raise _invalid(_UPDATE_DOCS, "state")
    if not isinstance(base, str) or (base != pr.base and base not in branches):
        raise _invalid(_UPDATE_DOCS, "base")
    if state == "open":
        if pr.merged_at is not None:
            message = "state cannot be changed. The pull request cannot be reopened."
            raise _custom(_UPDATE_DOCS, message, field="state")
        if pr.head not in branches:
            message = f"state cannot be changed. The {pr.head} branch has been deleted."
            raise _custom(_UPDATE_DOCS, message, field="state")
        if base not in branches:
            raise _invalid(_UPDATE_DOCS, "base")
        if pr.state == "closed" or base != pr.base:
            _check_unique(repo, pr.head, base, _UPDATE_DOCS, current=pr)
    if (title, text, state, base) != (pr.title, pr.body, pr.state, pr.base):
        pr.updated_at = iso(now())
    if state != pr.state:
        pr.closed_at = pr.updated_at if state == "closed" else None
    if base != pr.base or state == "open":
        pr.base_sha = branches[base]
    if state == "open":
        pr.head_sha = branches[pr.head]
    pr.title, pr.body, pr.state, pr.base = title, text, state, base
    return Response(200, full_json(api, repo, git, pr, check=False))


def sync(api: GitHubApi, repo: Repo, git: Git) -> dict[str, str]:
    """The repository's branches (name -> sha), once its open pull requests have followed
    them: their shas move with the branches, one whose head commit the base branch now
    contains is merged, and one whose head or base branch is gone is closed, as GitHub does."""
    branches = {name.removeprefix("refs/heads/"): sha for name, sha in git.refs("refs/heads/")}
    for pr in repo.pulls.values():
        if pr.state != "open":
            continue
        head = branches.get(pr.head, pr.head_sha)
        if pr.base in branches and git.is_ancestor(head, branches[pr.base]):
            pr.head_sha = head  # base_sha keeps the base the head was merged into
            pr.mark_merged(branches[pr.base], api.user, iso(now()))
            continue
        if pr.head not in branches or pr.base not in branches:
            pr.state, pr.updated_at = "closed", iso(now())
            pr.closed_at = pr.updated_at
            continue
        if branches[pr.head] != pr.head_sha:  # a push to the head updates the pull request
            pr.updated_at = iso(now())
        pr.head_sha, pr.base_sha = branches[pr.head], branches[pr.base]
    return branches


def find_pull(repo: Repo, req: Request) -> PullRequest:
    found = repo.pulls.get(int(req.args["number"]))
    if found is None:
        raise not_found()
    return found


def _head_branch(repo: Repo, head: str) -> str | None:
    """The branch ``head`` names, as ``branch`` or ``owner:branch``; None for another owner's
    branch (that would be a fork)."""
    owner, namespaced, branch = head.rpartition(":")
    if namespaced and owner.lower() != repo.owner.login.lower():
        return None
    return branch


def _check_unique(
    repo: Repo, head: str, base: str, docs: str, current: PullRequest | None = None
) -> None:
    if any(
        other is not current and other.state == "open" and (other.head, other.base) == (head, base)
        for other in repo.pulls.values()
    ):
        raise _custom(docs, f"A pull request already exists for {repo.owner.login}:{head}.")


def full_json(api: GitHubApi, repo: Repo, git: Git, pr: PullRequest, check: bool) -> Json:
    """The single pull request: the list's fields, its merge state (checked now if ``check``
    and not yet checked at the current shas; a merged one answers ``mergeable: null``, as
    GitHub does) and its size."""
    checked = pr.checked if pr.checked and pr.checked[:2] == (pr.base_sha, pr.head_sha) else None
    if pr.merged_at is not None:
        checked = None
    elif checked is None and check:
        checked = pr.checked = (pr.base_sha, pr.head_sha, _test_merge(api, git, pr))
    mergeable = None if checked is None else checked[2] is not None
    fork_point = git.merge_base(pr.base_sha, pr.head_sha) or pr.base_sha
    additions, deletions, changed_files = git.diff_stat(fork_point, pr.head_sha)
    return {
        **pull_json(api, repo, pr),
        "merged": pr.merged_at is not None,
        "mergeable": mergeable,
        "rebaseable": None,
        "mergeable_state": {None: "unknown", True: "clean", False: "dirty"}[mergeable],
        "merge_commit_sha": pr.merge_commit_sha or (checked[2] if checked else None),
        "merged_by": owner_json(api, pr.merged_by) if pr.merged_by else None,
        "comments": 0,
        "review_comments": 0,
        "maintainer_can_modify": False,
        "commits": git.count(f"{pr.base_sha}..{pr.head_sha}"),
        "additions": additions,
        "deletions": deletions,
        "changed_files": changed_files,
    }


def _test_merge(api: GitHubApi, git: Git, pr: PullRequest) -> str | None:
    """GitHub's test merge commit of head into base (parents: base, head), or None when they
    conflict or share no history. Dated at the pull request's creation, so one check at the
    same shas always gives the same commit."""
    if git.merge_base(pr.base_sha, pr.head_sha) is None:
        return None
    tree = git.merge_tree(pr.base_sha, pr.head_sha)
    if tree is None:
        return None
    signature = replace(api.user_signature(), when=datetime.fromisoformat(pr.created_at))
    message = f"Merge {pr.head_sha} into {pr.base_sha}\n"
    return git.commit_tree(tree, [pr.base_sha, pr.head_sha], message, signature, signature)


def _required(body: Json, key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value.strip():
        raise missing("PullRequest", key)
    return value


def _invalid(docs: str, *fields: str) -> ApiError:
    errors = [{"resource": "PullRequest", "field": f, "code": "invalid"} for f in fields]
    return ApiError(422, "Validation Failed", errors, docs)


def _custom(docs: str, message: str, field: str | None = None) -> ApiError:
    error: Json = {"resource": "PullRequest", "code": "custom", "message": message}
    if field is not None:
        error["field"] = field
    return ApiError(422, "Validation Failed", [error], docs)

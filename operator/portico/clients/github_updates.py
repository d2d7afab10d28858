"""Template updates on GitHub: the new render committed on the update branch, and one pull
request from it into the default branch (called through GitHubClient, in its thread).

An update makes at most four writes: the tree, the commit, the branch (created or moved
forward, never forced) and the pull request (created, or its title and body edited when it
already proposes an older version: a pull request follows its head branch, so the new commit
is already in it). Before writing, it looks at what is there, so a crash at any point and a
retry make nothing twice:

- the render's tree id is computed locally (domain/gittree.py): a branch whose head already
  has this tree is not committed to again, and a render identical to the scaffold proposes
  nothing at all;
- the pull request whose head is the branch's head is this update's, whatever its state: an
  open one is kept (and retitled), a merged one means done, a closed one means the owner
  declined this render, and it is not opened again.
"""

from typing import TYPE_CHECKING, Any

from github import InputGitAuthor, InputGitTreeElement

from portico.clients.publishing import Proposal, UpdateRequest, marker, update_trailers
from portico.domain.gittree import tree_id
from portico.errors import Conflict, ExternalError, NotFound

if TYPE_CHECKING:
    from portico.clients.github import GitHubClient

SYSTEM = "github"
AUTHOR = ("Portico", "portico@users.noreply.github.com")


def _repo(client: "GitHubClient", owner: str, name: str, uid: str) -> Any:
    full = f"{owner}/{name}"
    repo = client.call(f"look up {full}", client.gh.get_repo, full)
    if marker(uid) not in (repo.description or ""):
        raise Conflict(
            SYSTEM,
            f"repository {full} does not carry this Component's marker; it is left untouched",
            status=409,
        )
    return repo


def _state(pr: Any) -> str:
    """open | merged | closed, from a pull request's simple shape (no extra request)."""
    if pr.state == "open":
        return "open"
    return "merged" if pr.merged_at is not None else "closed"


def _commit_render(
    client: "GitHubClient", repo: Any, req: UpdateRequest, files: dict[str, str]
) -> tuple[str | None, bool]:
    """The update branch's head after committing the render there (if it is new), and
    whether a commit was made. None: no branch, and the render is the scaffold's."""
    try:
        ref = client.call("read the update branch", repo.get_git_ref, f"heads/{req.branch}")
        parent_sha = ref.object.sha
    except NotFound:
        ref, parent_sha = None, req.base_commit
    parent = client.call("read the last render", repo.get_git_commit, parent_sha)
    if parent.tree.sha == tree_id(files):
        return (parent.sha if ref is not None else None), False
    elements = [
        InputGitTreeElement(path, "100644", "blob", content=content)
        for path, content in sorted(files.items())
    ]
    client.writes += 1
    tree = client.call("create the render's tree", repo.create_git_tree, elements)
    author = InputGitAuthor(*AUTHOR, req.author_date)
    client.writes += 1
    commit = client.call(
        "commit the render",
        repo.create_git_commit,
        f"{req.message}\n\n{update_trailers(req.uid, req.version)}\n",
        tree,
        [parent],
        author=author,
        committer=author,
    )
    client.writes += 1
    if ref is None:
        client.call(
            f"create branch {req.branch}",
            repo.create_git_ref,
            f"refs/heads/{req.branch}",
            commit.sha,
        )
    else:  # a fast-forward: someone else's push to the branch makes this fail, not vanish
        client.call(f"move branch {req.branch}", ref.edit, commit.sha, force=False)
    return commit.sha, True


def propose_update(client: "GitHubClient", req: UpdateRequest, files: dict[str, str]) -> Proposal:
    repo = _repo(client, req.owner, req.name, req.uid)
    head, created = _commit_render(client, repo, req, files)
    if head is None:
        return Proposal(None, req.branch, merged=True)
    pulls = client.call(
        "list the update's pull requests",
        lambda: repo.get_pulls(
            state="all", head=f"{req.owner}:{req.branch}", base=req.default_branch
        ).get_page(0),
    )
    pr = next((p for p in pulls if p.head.sha == head), None)
    if pr is None:
        pr = next((p for p in pulls if p.state == "open"), None)
    if pr is not None and pr.state == "open":
        if pr.title != req.title or (pr.body or "") != req.body:
            client.writes += 1
            client.call("retitle the pull request", pr.edit, title=req.title, body=req.body)
    elif pr is None:
        try:
            client.writes += 1
            pr = client.call(
                "open the pull request",
                repo.create_pull,
                base=req.default_branch,
                head=req.branch,
                title=req.title,
                body=req.body,
            )
        except ExternalError as e:
            if e.status == 422 and "No commits between" in str(e):
                # the render is already in the default branch (merged by hand)
                return Proposal(head, req.branch, merged=True, created=created)
            raise
    state = _state(pr)
    return Proposal(
        head,
        req.branch,
        merged=state == "merged",
        pull_number=pr.number,
        pull_url=pr.html_url,
        pull_state=state,
        mergeable=None,  # computed by GitHub in the background: read_pull asks later
        created=created,
    )


def read_pull(client: "GitHubClient", owner: str, name: str, number: int) -> Proposal:
    """One GET: an open update's state and mergeability."""
    full = f"{owner}/{name}"
    repo = client.lazy_gh.get_repo(full)  # no request: only the pull request is read
    pr = client.call(f"read pull request #{number}", repo.get_pull, number)
    state = "merged" if pr.merged else ("open" if pr.state == "open" else "closed")
    return Proposal(
        pr.head.sha,
        pr.head.ref,
        merged=state == "merged",
        pull_number=pr.number,
        pull_url=pr.html_url,
        pull_state=state,
        mergeable=pr.mergeable if state == "open" else None,
    )

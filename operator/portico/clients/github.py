"""GitHub, through PyGithub (synchronous: run in a thread, behind a semaphore).

Publishing one scaffold makes at most five writes: create the repository (with an initial
commit, since GitHub refuses Git Data calls on an empty repository), one tree with every
file inline, one root commit, a forced ref update that makes that commit the branch's only
commit, and the topics; plus branch protection when asked for. Every step first looks at
what is there, so a retry after a crash or an error resumes instead of repeating. Template
updates (a branch of pure renders and one pull request) are in github_updates.py.
"""

import asyncio
import time
from typing import Any

import requests
from github import (
    Auth,
    Github,
    GithubException,
    InputGitAuthor,
    InputGitTreeElement,
    RateLimitExceededException,
)

from portico.clients import github_updates
from portico.clients.publishing import (
    Proposal,
    Published,
    RepoRequest,
    UpdateRequest,
    marker,
    trailer,
)
from portico.errors import (
    Conflict,
    ExternalError,
    NotFound,
    TransientError,
    from_status,
)

SYSTEM = "github"


def _retry_after(e: GithubException) -> float | None:
    headers = {k.lower(): v for k, v in (e.headers or {}).items()}
    if headers.get("retry-after", "").isdigit():
        return float(headers["retry-after"])
    if (
        headers.get("x-ratelimit-remaining") == "0"
        and headers.get("x-ratelimit-reset", "").isdigit()
    ):
        return max(1.0, float(headers["x-ratelimit-reset"]) - time.time() + 1)
    return None


def _message(e: GithubException) -> str:
    data = e.data if isinstance(e.data, dict) else {}
    return str(data.get("message") or e)[:300]


def translate(e: Exception, doing: str, base_url: str = "") -> Exception:
    """PyGithub's and requests' exceptions as portico.errors (the message names the step)."""
    if isinstance(e, RateLimitExceededException):
        return TransientError(
            SYSTEM,
            f"{doing}: rate limit exceeded",
            status=e.status,
            retry_after=_retry_after(e) or 60,
        )
    if isinstance(e, GithubException):
        status = e.status
        text = f"{doing}: {_message(e)}"
        if status == 429 or (status == 403 and _retry_after(e)):  # GitHub's rate limits
            return TransientError(SYSTEM, text, status=status, retry_after=_retry_after(e) or 60)
        return from_status(SYSTEM, status, text, denied_hint="check the token's permissions")
    if isinstance(e, requests.exceptions.RequestException):
        where = f" (could not reach {base_url})" if base_url else ""
        return TransientError(SYSTEM, f"{doing}: {type(e).__name__}{where}")
    return e


class GitHubClient:
    def __init__(
        self, token: str, base_url: str, *, throttle: bool = True, concurrency: int = 4
    ) -> None:
        kwargs: dict[str, Any] = {
            "auth": Auth.Token(token),
            "base_url": base_url.rstrip("/"),
            "retry": None,
            "timeout": 20,
        }
        if not throttle:  # PyGithub's pauses between writes (GitHub's secondary limits)
            kwargs |= {"seconds_between_requests": None, "seconds_between_writes": None}
        self.gh = Github(**kwargs)
        self.lazy_gh = Github(**kwargs, lazy=True)  # objects made without a request
        self._base_url = base_url
        self._semaphore = asyncio.Semaphore(concurrency)
        self._blocked_until = 0.0  # time.monotonic() of a rate limit's reset
        self.writes = 0

    def close(self) -> None:
        self.gh.close()
        self.lazy_gh.close()

    async def publish(self, req: RepoRequest, files: dict[str, str]) -> Published:
        async with self._semaphore:
            return await asyncio.to_thread(self._publish, req, files)

    async def propose_update(self, req: UpdateRequest, files: dict[str, str]) -> Proposal:
        async with self._semaphore:
            return await asyncio.to_thread(github_updates.propose_update, self, req, files)

    async def read_pull(self, owner: str, name: str, number: int) -> Proposal:
        async with self._semaphore:
            return await asyncio.to_thread(github_updates.read_pull, self, owner, name, number)

    async def archive(self, owner: str, name: str, uid: str) -> bool:
        async with self._semaphore:
            return await asyncio.to_thread(self._archive, owner, name, uid)

    def call(self, doing: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """One API call, as portico.errors. A connection error is retried once at once: a
        pooled keep-alive connection the server closed while idle fails on reuse, and every
        step here is safe to repeat (a repeated create is caught as 422 and adopted; a
        repeated tree or commit only leaves an unreferenced object).

        A rate limit holds every call of this client until its reset: an upgrade wave over
        hundreds of repositories then waits once, instead of each Component asking GitHub
        again and being refused."""
        wait = self._blocked_until - time.monotonic()
        if wait > 0:
            raise TransientError(
                SYSTEM, f"{doing}: rate limit exceeded", status=429, retry_after=wait
            )
        for attempt in (1, 2):
            try:
                return fn(*args, **kwargs)
            except requests.exceptions.ConnectionError as e:
                if attempt == 2:
                    raise translate(e, doing, self._base_url) from e
            except Exception as e:
                error = translate(e, doing, self._base_url)
                if (
                    isinstance(error, TransientError)
                    and error.retry_after
                    and error.status in (403, 429)
                ):
                    self._blocked_until = time.monotonic() + error.retry_after
                raise error from e
        raise AssertionError("unreachable")

    def _owner(self, owner: str) -> Any:
        try:
            return self.call(f"look up organization {owner}", self.gh.get_organization, owner)
        except NotFound:
            user = self.call("look up the token's user", self.gh.get_user)
            if user.login.lower() == owner.lower():
                return user
            raise NotFound(
                SYSTEM, f"owner {owner!r} does not exist or the token cannot see it", status=404
            ) from None

    def _publish(self, req: RepoRequest, files: dict[str, str]) -> Published:
        full = f"{req.owner}/{req.name}"
        mark = marker(req.uid)
        try:
            repo = self.call(f"look up {full}", self.gh.get_repo, full)
        except NotFound:
            repo = None
        created = False
        if repo is None:
            owner = self._owner(req.owner)
            description = f"{req.description} [{mark}]".strip()
            args: dict[str, Any] = {
                "description": description,
                "auto_init": True,
                "private": req.visibility != "public",
            }
            if req.visibility == "internal":
                args["visibility"] = "internal"
            try:
                self.writes += 1
                repo = self.call(f"create {full}", owner.create_repo, req.name, **args)
                created = True
            except ExternalError as e:
                if e.status != 422:
                    raise
                repo = self.call(f"look up {full}", self.gh.get_repo, full)  # raced ourselves
        if mark not in (repo.description or ""):
            raise Conflict(
                SYSTEM,
                f"repository {full} exists and was not created by Portico for "
                "this Component; it is left untouched",
                status=409,
            )
        ref = self.call("read the branch", repo.get_git_ref, f"heads/{req.branch}")
        head = self.call("read the head commit", repo.get_git_commit, ref.object.sha)
        if trailer(req.uid) in (head.message or ""):
            return Published(repo.html_url, req.branch, head.sha, created=False)
        if head.parents:
            raise Conflict(
                SYSTEM,
                f"repository {full} has commits Portico did not make; it is left untouched",
                status=409,
            )
        elements = [
            InputGitTreeElement(path, "100644", "blob", content=content)
            for path, content in sorted(files.items())
        ]
        self.writes += 1
        tree = self.call("create the tree", repo.create_git_tree, elements)
        author = InputGitAuthor("Portico", "portico@users.noreply.github.com", req.author_date)
        self.writes += 1
        commit = self.call(
            "create the commit",
            repo.create_git_commit,
            f"{req.message}\n\n{trailer(req.uid)}\n",
            tree,
            [],
            author=author,
            committer=author,
        )
        self.writes += 1
        self.call("point the branch at the scaffold", ref.edit, commit.sha, force=True)
        wanted_topics = sorted({*req.topics, "portico"})
        if sorted(repo.topics or []) != wanted_topics:
            self.writes += 1
            self.call("set topics", repo.replace_topics, wanted_topics)
        if req.branch_protection:
            self.writes += 1
            branch = self.call("read the branch", repo.get_branch, req.branch)
            self.call(
                "protect the branch", branch.edit_protection, required_approving_review_count=1
            )
        return Published(repo.html_url, req.branch, commit.sha, created)

    def _archive(self, owner: str, name: str, uid: str) -> bool:
        full = f"{owner}/{name}"
        try:
            repo = self.call(f"look up {full}", self.gh.get_repo, full)
        except NotFound:
            return False
        if marker(uid) not in (repo.description or "") or repo.archived:
            return False
        self.writes += 1
        self.call(f"archive {full}", repo.edit, archived=True)
        return True

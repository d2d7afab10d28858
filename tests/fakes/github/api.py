"""The API without HTTP: :class:`GitHubApi` holds the fake's state (accounts, repositories, the
rate-limit budget), dispatches a request to its handler, and offers the lookups the handlers
share. The handlers live in one module per API area; this module joins their route tables."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import unquote

from fakes.github import (
    actions,
    branches,
    contents,
    git_data,
    merging,
    pulls,
    repos,
    topics,
    users,
)
from fakes.github.errors import ApiError, Json, not_found, read_only
from fakes.github.git import Git
from fakes.github.ratelimit import RateLimit
from fakes.github.routing import Request, Response, Route
from fakes.github.signature import Signature
from fakes.github.state import Owner, Repo
from fakes.github.values import now

# The first route whose method and pattern match wins, so the order matters where patterns
# overlap: ``/branches/{b}/protection`` is declared before ``/branches/{b}`` in its module.
ROUTES: list[Route] = [
    *users.routes.table,
    *repos.routes.table,
    *topics.routes.table,
    *git_data.routes.table,
    *branches.routes.table,
    *contents.routes.table,
    *pulls.routes.table,
    *merging.routes.table,
    *actions.routes.table,
]


class GitHubApi:
    """The fake's state (owners, repositories) and the dispatch of requests to handlers."""

    def __init__(self, base_url: str, root: Path, user: str, orgs: Sequence[str]) -> None:
        self.base_url = base_url
        self.root = root
        self.lock = threading.RLock()
        self.user = Owner(user, 1, "User")
        self.owners = {user.lower(): self.user}
        for i, org in enumerate(orgs):
            self.owners[org.lower()] = Owner(org, 1001 + i, "Organization")
        self.repos: dict[str, Repo] = {}
        self.rate = RateLimit()
        self.next_repo_id = 100001
        self.next_pull_id = 500001
        self.next_workflow_id = 7000001
        self.next_run_id = 90000001

    # -- dispatch --------------------------------------------------------------------------

    def dispatch(self, method: str, path: str, query: dict[str, str], body: Json) -> Response:
        for route in ROUTES:
            match = route.regex.match(path)
            if match and route.method == method:
                args = {k: unquote(v) for k, v in match.groupdict().items() if v is not None}
                with self.lock:
                    return route.handler(self, Request(method, path, query, body, args))
        raise not_found()

    # -- lookups ---------------------------------------------------------------------------

    def owner(self, login: str) -> Owner:
        found = self.owners.get(login.lower())
        if found is None:
            raise not_found()
        return found

    def org(self, login: str) -> Owner:
        found = self.owner(login)
        if found.type != "Organization":
            raise not_found()
        return found

    def find_repo(self, owner: str, name: str) -> Repo | None:
        return self.repos.get(f"{owner}/{name}".lower())

    def repo(self, req: Request) -> Repo:
        found = self.find_repo(req.args["owner"], req.args["repo"])
        if found is None:
            raise not_found()
        return found

    def writable_repo(self, req: Request) -> Repo:
        found = self.repo(req)
        if found.archived:
            raise read_only()
        return found

    def repo_path(self, repo: Repo) -> Path:
        return self.root / repo.owner.login / f"{repo.name}.git"

    def git(self, repo: Repo) -> Git:
        return Git(self.repo_path(repo))

    def git_data(self, req: Request, write: bool) -> tuple[Repo, Git]:
        """The repository and its git, as the Git Data API sees them (409 when empty)."""
        repo = self.writable_repo(req) if write else self.repo(req)
        git = self.git(repo)
        if git.is_empty():
            raise ApiError(409, "Git Repository is empty.")
        return repo, git

    def branch_head(self, repo: Repo, git: Git, branch: str) -> str:
        sha = git.ref(f"refs/heads/{branch}")
        if sha is None:
            raise not_found("Branch not found")
        return sha

    # -- URLs and signatures --------------------------------------------------------------

    def api_url(self, repo: Repo, suffix: str = "") -> str:
        return f"{self.base_url}/repos/{repo.full_name}{suffix}"

    @staticmethod
    def html_url(repo: Repo, suffix: str = "") -> str:
        return f"https://github.com/{repo.full_name}{suffix}"

    def user_signature(self) -> Signature:
        login = self.user.login
        return Signature(login, f"{self.user.id}+{login}@users.noreply.github.com", now())

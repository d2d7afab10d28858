"""The fake's state besides git: accounts, repository metadata, pull requests, and GitHub
Actions workflows and their runs. A repository's git data lives in its bare repository (see
:mod:`fakes.github.git`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fakes.github.errors import Json

REPO_SETTINGS: dict[str, Any] = {
    "homepage": None,
    "has_issues": True,
    "has_projects": True,
    "has_wiki": True,
    "has_discussions": False,
    "is_template": False,
    "allow_squash_merge": True,
    "allow_merge_commit": True,
    "allow_rebase_merge": True,
    "allow_auto_merge": False,
    "allow_update_branch": False,
    "delete_branch_on_merge": False,
    "allow_forking": True,
    "web_commit_signoff_required": False,
}


@dataclass
class Owner:
    """A user or organisation account."""

    login: str
    id: int
    type: str  # "User" or "Organization"


@dataclass
class Repo:
    """A repository's metadata; its git data lives in the bare repository."""

    id: int
    owner: Owner
    name: str
    private: bool
    visibility: str
    description: str | None
    default_branch: str
    created_at: str
    updated_at: str
    pushed_at: str
    archived: bool = False
    topics: list[str] = field(default_factory=list)
    settings: Json = field(default_factory=lambda: dict(REPO_SETTINGS))
    protections: dict[str, Json] = field(default_factory=dict)
    pulls: dict[int, PullRequest] = field(default_factory=dict)
    next_number: int = 1  # issues and pull requests share one sequence of numbers
    workflows: dict[int, Workflow] = field(default_factory=dict)
    runs: dict[int, WorkflowRun] = field(default_factory=dict)

    @property
    def full_name(self) -> str:
        return f"{self.owner.login}/{self.name}"


@dataclass
class PullRequest:
    """A pull request between two branches of one repository (forks are not modelled).

    ``head_sha`` and ``base_sha`` follow the branches while the pull request is open and keep
    their last values once it is closed (so a merged one keeps the base it was merged into).
    ``checked`` is the last mergeability check, for the shas it was made at: ``(base_sha,
    head_sha, test merge commit or None on conflicts)``. ``merged_at``, ``merged_by`` and
    ``merge_commit_sha`` are set once it is merged (see :meth:`mark_merged`).
    """

    id: int
    number: int
    title: str
    body: str | None
    head: str
    base: str
    head_sha: str
    base_sha: str
    draft: bool
    created_at: str
    updated_at: str
    state: str = "open"
    closed_at: str | None = None
    checked: tuple[str, str, str | None] | None = None
    merged_at: str | None = None
    merged_by: Owner | None = None
    merge_commit_sha: str | None = None

    def mark_merged(self, commit: str, by: Owner, when: str) -> None:
        """Close the pull request as merged by ``by`` at ``when`` into ``commit`` (the merge,
        squash or last rebased commit, or the base head a push made contain the head)."""
        self.state, self.merged_by, self.merge_commit_sha = "closed", by, commit
        self.merged_at = self.closed_at = self.updated_at = when


@dataclass
class Workflow:
    """A GitHub Actions workflow: a file under ``.github/workflows/`` that a test registered
    (the fake runs nothing; a test plays the runner, see :mod:`fakes.github.runner`)."""

    id: int
    name: str
    path: str  # ".github/workflows/ci.yaml"
    created_at: str
    updated_at: str
    state: str = "active"
    next_run_number: int = 1

    @property
    def file_name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


@dataclass
class WorkflowRun:
    """One run of a workflow, for one commit of one branch. ``run_attempt`` counts re-runs;
    ``head_commit`` is the commit's "simple-commit" JSON, or None when the fake's repository
    does not hold that commit."""

    id: int
    workflow_id: int
    name: str
    path: str
    run_number: int
    event: str
    head_branch: str
    head_sha: str
    head_commit: Json | None
    display_title: str
    status: str
    conclusion: str | None
    created_at: str
    updated_at: str
    run_started_at: str
    run_attempt: int = 1

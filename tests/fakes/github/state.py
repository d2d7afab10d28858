"""The fake's state besides git: accounts and repository metadata. A repository's git data
lives in its bare repository (see :mod:`fakes.github.git`)."""

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

    @property
    def full_name(self) -> str:
        return f"{self.owner.login}/{self.name}"

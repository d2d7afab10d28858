"""What both publishers (GitHub, git) take and give back."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class RepoRequest:
    """One repository to publish a scaffold into, exactly once.

    `uid` is the Component's uid: it marks the repository (description) and the commit
    (a `Portico-Component:` trailer), so a retry recognises its own work and a repository
    someone else made is never touched.
    """

    owner: str
    name: str
    uid: str
    description: str = ""
    visibility: str = "private"
    topics: tuple[str, ...] = ()
    branch: str = "main"
    branch_protection: bool = False
    message: str = "Scaffold"
    author_date: str = "2000-01-01T00:00:00Z"


@dataclass(frozen=True)
class Published:
    url: str
    default_branch: str
    commit: str
    created: bool = field(default=True)  # False: an earlier attempt had already published


def marker(uid: str) -> str:
    return f"portico:{uid}"


def trailer(uid: str) -> str:
    return f"Portico-Component: {uid}"


UPDATE_BRANCH = "portico/template"


@dataclass(frozen=True)
class UpdateRequest:
    """A newer render of a scaffolded repository's Template (or of new values), to propose.

    The update branch holds only pure renders: its root is the scaffold commit (`base_commit`,
    the first render), and each update commits the new render on top of the previous one. The
    merge base of the branch and the default branch is then the previous render, so merging
    brings exactly the Template's changes, and git (or GitHub) finds the conflicts.
    """

    owner: str  # GitHub owner ("" for git)
    name: str
    uid: str
    base_commit: str
    default_branch: str
    version: str
    title: str
    body: str
    message: str
    author_date: str
    branch: str = UPDATE_BRANCH


@dataclass(frozen=True)
class Proposal:
    """Where an update stands after proposing (or re-reading) it."""

    commit: str | None  # the update branch's head; None: the render is the scaffold's, unchanged
    branch: str
    merged: bool  # the render is in the default branch
    pull_number: int | None = None
    pull_url: str | None = None
    pull_state: str | None = None  # open | closed | merged (GitHub)
    mergeable: bool | None = None  # GitHub's answer, None while it computes it
    created: bool = False  # this call made a new commit


def update_trailers(uid: str, version: str) -> str:
    return f"Portico-Component: {uid}\nPortico-Template-Version: {version}"

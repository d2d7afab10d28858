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

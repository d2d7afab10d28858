"""What the GitHub poller (reconcilers/github_poll.py) keeps between rounds: each
repository's answer and ETags, the Components that name it, and what the polls cost."""

from dataclasses import dataclass, field

from portico.domain.ci import RepoAnswer
from portico.domain.refs import EntityKey


@dataclass
class PollStats:
    """What the polls cost so far (the bench and the tests read it)."""

    rounds: int = 0
    requests: int = 0  # every request sent
    counted: int = 0  # the answers GitHub counts against the rate limit (all but 304)
    not_modified: int = 0


@dataclass
class Repo:
    key: str  # owner/name, lower case: GitHub's names are case-insensitive
    owner: str
    name: str
    answer: RepoAnswer = field(default_factory=RepoAnswer)
    repo_etag: str | None = None
    runs_etag: str | None = None
    repo_round: int | None = None  # the round the repository was last read in
    error: str | None = None


@dataclass
class Target:
    owner: str
    name: str
    branch_hint: str | None = None  # status.repository.defaultBranch of a Component
    keys: set[EntityKey] = field(default_factory=set)


class Failed(Exception):
    """A request without a usable answer: `cause` is what went wrong, the message adds the
    request. `transient` ones in a row end the round early (an outage); `fatal` ones (a
    refused token) end it at once: every repository would fail the same way."""

    def __init__(self, cause: str, path: str, *, transient: bool = False, fatal: bool = False):
        super().__init__(f"GET {path}: {cause}")
        self.cause, self.transient, self.fatal = cause, transient, fatal

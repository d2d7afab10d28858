"""What the GitHub poller (reconcilers/github_poll.py) keeps between rounds, and how it reads
one repository: each repository's answer and ETags, the Components that name it, what the
polls cost, and `RepoReader`, the conditional GETs of one repository within the budgets
(clients/github_poll.py) and what GitHub's rate-limit headers say."""

import logging
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from portico.clients.github_poll import Budget, GitHubPollClient, PollAnswer, rate_limit_wait
from portico.domain.ci import RUNS_PER_PAGE, RepoAnswer, latest_runs
from portico.domain.refs import EntityKey
from portico.errors import PorticoError
from portico.metrics import EXTERNAL_CALLS, RATE_LIMIT_WAITS
from portico.models.config import OperatorConfig

log = logging.getLogger("portico.github_poll")


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


class RepoReader:
    """One repository's reads: the repository itself every `repositoryEvery`th round
    (staggered; at once when its default branch is unknown or its runs answer 404), its
    runs on the default branch every round, each GET with the last ETag and within the
    budgets. `Interrupted` (a cut-short hold) passes through."""

    def __init__(self, budget: Budget, stats: PollStats, wall: Callable[[], float]) -> None:
        self.budget, self.stats, self._wall = budget, stats, wall
        self.secondary = 0  # secondary rate limits in a row (their wait doubles)
        self.failures = 0  # requests in a row that got no usable answer

    async def read(
        self,
        client: GitHubPollClient,
        repo: Repo,
        target: Target,
        config: OperatorConfig,
        round_: int,
    ) -> None:
        every = config.github.poll.repository_every
        branch = repo.answer.default_branch or target.branch_hint
        if repo.repo_round is None:  # never read: at once without a branch, else staggered
            due = branch is None or (round_ + zlib.crc32(repo.key.encode())) % every == 0
        else:
            due = round_ - repo.repo_round >= every
        if due:
            await self._read_repository(client, repo, every, round_)
            branch = repo.answer.default_branch or target.branch_hint
        if repo.answer.found is False:
            return
        if not config.github.ci.enabled:
            repo.answer, repo.runs_etag = replace(repo.answer, branch=None, runs=None), None
            return
        if branch is not None and not await self._read_runs(client, repo, branch) and not due:
            await self._read_repository(client, repo, every, round_)  # 404: is it gone?

    async def _read_repository(
        self, client: GitHubPollClient, repo: Repo, every: int, round_: int
    ) -> None:
        first = repo.repo_round is None
        answer = await self._get(client, f"/repos/{repo.owner}/{repo.name}", repo.repo_etag)
        # The first read is spread over the next `every` rounds' slots, so the repository
        # reads of a catalog read all at once do not fall in the same rounds forever after.
        repo.repo_round = round_ - (zlib.crc32(repo.key.encode()) % every if first else 0)
        if answer.status == 404:
            repo.answer, repo.repo_etag, repo.runs_etag = RepoAnswer(found=False), None, None
        elif answer.status == 200:
            body = answer.body if isinstance(answer.body, dict) else {}
            default = body.get("default_branch")
            repo.answer = replace(
                repo.answer,
                found=True,
                archived=bool(body.get("archived")),
                default_branch=default if isinstance(default, str) else None,
            )
            repo.repo_etag = answer.etag

    async def _read_runs(self, client: GitHubPollClient, repo: Repo, branch: str) -> bool:
        """Read the runs; False on a 404 (the repository may be gone)."""
        params = {
            "branch": branch,
            "per_page": str(RUNS_PER_PAGE),
            "exclude_pull_requests": "true",
        }
        etag = repo.runs_etag if repo.answer.branch == branch else None
        path = f"/repos/{repo.owner}/{repo.name}/actions/runs"
        answer = await self._get(client, path, etag, params)
        if answer.status == 404:
            return False
        if answer.status == 200:
            runs = latest_runs(answer.body)
            repo.answer = replace(repo.answer, branch=branch, runs=runs)
            repo.runs_etag = answer.etag
        return True

    async def _get(
        self,
        client: GitHubPollClient,
        path: str,
        etag: str | None,
        params: dict[str, str] | None = None,
    ) -> PollAnswer:
        """A conditional GET within the budgets: a 200, 304 or 404, else `Failed`. A rate
        limit holds every request, and this one is sent again after the hold."""
        for attempt in (1, 2):
            await self.budget.acquire()
            self.stats.requests += 1
            try:
                answer = await client.get(path, params=params, etag=etag)
            except PorticoError as e:
                self.failures += 1
                EXTERNAL_CALLS.labels("github", "error").inc()
                raise Failed(str(e), path, transient=True) from e
            if answer.not_modified:
                self.budget.refund()  # GitHub does not count a 304
                self.stats.not_modified += 1
            else:
                self.stats.counted += 1
            limited = self._observe_rate(answer)
            if answer.status in (200, 304, 404):
                self.failures = 0
                EXTERNAL_CALLS.labels("github", "success").inc()
                return answer
            EXTERNAL_CALLS.labels("github", "error").inc()
            if not limited or attempt == 2:
                break
        cause = f"HTTP {answer.status} {answer.message}".rstrip()
        if answer.status == 401:
            raise Failed(f"GitHub refused the token ({cause})", path, fatal=True)
        if answer.status >= 500:
            self.failures += 1
        raise Failed(cause, path, transient=answer.status >= 500 or limited)

    def _observe_rate(self, answer: PollAnswer) -> bool:
        """Hold the polls as GitHub's headers say (at most MAX_WAIT); True when this answer
        is a rate limit."""
        wait, why = rate_limit_wait(answer, self._wall(), self.budget.per_hour, self.secondary)
        self.secondary = self.secondary + 1 if why == "secondary" else 0
        if wait is not None and self.budget.hold(wait):
            RATE_LIMIT_WAITS.labels("github").inc()
            rate = answer.rate
            log.warning(
                "GitHub polls paused for %.0fs: %s",
                wait,
                f"{rate.remaining} of {rate.limit} requests left this hour, kept for "
                "scaffolding and updates (github.poll.requestsPerHour)"
                if why == "reserve"
                else f"HTTP {answer.status} {answer.message}".strip(),
            )
        return why not in (None, "reserve")

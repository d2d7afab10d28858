"""GitHub, polled: each Component's repository (deleted? archived? default branch?) and the
latest GitHub Actions runs on its default branch, in one batched, jittered loop for the whole
catalog, one request per repository however many Components share it. The answers stay in
memory; the `ci` step (reconcilers/ci_step.py) reads them, domain/ci.py decides what they
mean, and only the Components whose repository's answer changed are re-queued.

Every GET sends the last ETag: an unchanged answer is a 304, which GitHub does not count.
`github.poll` bounds the rest (docs/ci.md has the figures): `requestsPerHour` is a token
bucket for what GitHub counts (a 304 gives its token back), `requestsPerMinute` spaces every
request; rounds start every `intervalSeconds` at best and stretch when the budgets say so.
The repository itself is read every `repositoryEvery`th round (staggered), at once when its
default branch is unknown or its runs answer 404. GitHub's Retry-After and rate-limit
headers hold every poll, and the polls leave the hour's last `limit - requestsPerHour`
requests to scaffolding. A failure (403, 5xx, no answer) keeps the last answer and is logged
when a repository starts or stops failing, once a round; an unreachable GitHub or a refused
token ends the round early. No token, or `github.poll.enabled: false`: no polls, no answers
(the steps clear what they wrote), one log line.

It runs under `supervise` and stops on cancellation; all waiting goes through the injected
`clock` and `sleep`, so tests and the bench run hours of polls on a virtual clock.
"""

import asyncio
import hashlib
import logging
import random
import time
import zlib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import replace
from typing import Any, Protocol

from portico.clients.github_poll import Budget, GitHubPollClient, PollAnswer, rate_limit_wait
from portico.domain.ci import RUNS_PER_PAGE, RepoAnswer, latest_runs, repository_of
from portico.domain.entity import EntityView
from portico.domain.refs import EntityKey
from portico.errors import PorticoError
from portico.metrics import EXTERNAL_CALLS, RATE_LIMIT_WAITS
from portico.models.config import OperatorConfig
from portico.reconcilers.github_repos import Failed, PollStats, Repo, Target
from portico.reconcilers.poll_loop import JITTER, PollLoop

log = logging.getLogger("portico.github_poll")

CONCURRENCY = 4  # requests in flight (GitHub allows 100; the budgets are the real bound)
ABORT_AFTER = 5  # failed requests in a row (no answer, or 5xx) that end a round early
SETTLE = 1.0  # seconds to gather Components seen for the first time before reading them

ClientFactory = Callable[[str, str], GitHubPollClient]  # (api URL, token) -> client


class TokenSource(Protocol):
    """Where the token comes from (reconcilers.github_access.GitHubAccess)."""

    async def token(self, config: OperatorConfig) -> str | None: ...


class GitHubPoller(PollLoop):
    name = "github-poll"

    def __init__(
        self,
        config: Callable[[], OperatorConfig],
        access: TokenSource,
        components: Callable[[], Iterable[EntityView]],
        requeue: Callable[[EntityKey], None],
        *,
        client: ClientFactory = GitHubPollClient,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        wall: Callable[[], float] = time.time,
    ) -> None:
        super().__init__()
        self._config = config
        self._access = access
        self._components = components
        self._requeue = requeue
        self._new_client = client
        self._clock, self._sleep, self._wall = clock, sleep, wall
        self._client: tuple[str, GitHubPollClient] | None = None
        self._repos: dict[str, Repo] = {}
        self._round = 0
        self._unseen = asyncio.Event()
        self.budget = Budget(clock, sleep)
        self._off: str | None = None  # why nothing is polled (no token, disabled)
        self._round_error: str | None = None
        self._secondary = 0  # secondary rate limits in a row (their wait doubles)
        self._failures = 0  # requests in a row that got no usable answer
        self.stats = PollStats()

    # -- the interface the engine uses --------------------------------------------------

    @property
    def polling(self) -> bool:
        """False when nothing is polled (no token, or disabled): answers are not coming."""
        return self._off is None

    def answer(self, view: EntityView) -> RepoAnswer | None:
        """The last answer for the Component's repository; None before the first read."""
        found = repository_of(view)
        if found is None:
            return None
        repo = self._repos.get(f"{found[0]}/{found[1]}".lower())
        if repo is None or repo.answer == RepoAnswer():
            if self.polling and repo is None:
                self._unseen.set()  # read it soon, not at the next round
            return None
        return repo.answer

    def interval(self) -> float:
        return self._config().github.poll.interval_seconds

    async def close(self) -> None:
        if self._client is not None:
            await self._client[1].aclose()
            self._client = None

    # -- rounds -------------------------------------------------------------------------

    async def _loop(self) -> None:
        while True:
            # Cleared before the round: a wake() during it starts the next one at once.
            self._wake.clear()
            self._unseen.clear()
            started = self._clock()
            await self.poll_once()
            next_round = started + self.interval() * random.uniform(1 - JITTER, 1 + JITTER)
            while (left := next_round - self._clock()) > 0:
                await self._wait(left)
                if self._wake.is_set():
                    break
                if self._unseen.is_set():  # Components seen for the first time
                    await self._sleep(SETTLE)
                    self._unseen.clear()
                    await self.poll_once(unseen_only=True)

    async def _wait(self, seconds: float) -> None:
        """Until `seconds` have passed, or wake(), or a Component seen for the first time."""
        waits: list[asyncio.Future[Any]] = [
            asyncio.ensure_future(e.wait()) for e in (self._wake, self._unseen)
        ]
        waits.append(asyncio.ensure_future(self._sleep(seconds)))
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in waits:
                task.cancel()
            await asyncio.gather(*waits, return_exceptions=True)

    async def poll_once(self, *, unseen_only: bool = False) -> None:
        """One round: every repository the catalog names (or only those never read)."""
        config = self._config()
        if not config.github.poll.enabled:
            return self._switch_off("github.poll.enabled is false in portico-config")
        try:
            token = await self._access.token(config)
        except PorticoError as e:
            return self._round_failed(f"the GitHub token cannot be read: {e}")
        if token is None:
            return self._switch_off(
                f"no GitHub token (Secret {config.github.token_secret}, key token)"
            )
        if self._off is not None:
            log.info("GitHub polls start (%s no more)", self._off)
            self._off = None
        client = await self._client_for(config.github.api_url, token)
        poll = config.github.poll
        self.budget.configure(poll.requests_per_hour, poll.requests_per_minute)
        targets = self._targets()
        if unseen_only:
            targets = {k: t for k, t in targets.items() if k not in self._repos}
        else:
            self._round += 1
            self.stats.rounds += 1
            for gone in self._repos.keys() - targets.keys():
                del self._repos[gone]
        await self._read_all(client, targets, config)

    async def _read_all(
        self, client: GitHubPollClient, targets: dict[str, Target], config: OperatorConfig
    ) -> None:
        pending = sorted(targets.items(), reverse=True)  # popped from the end: a-z
        failing: list[str] = []
        recovered = 0
        self._failures = 0
        aborted: list[str] = []

        async def worker() -> None:
            nonlocal recovered
            while pending and not aborted:
                key, target = pending.pop()
                repo = self._repos.setdefault(key, Repo(key, target.owner, target.name))
                before = repo.answer
                try:
                    await self._read(client, repo, target, config)
                    error = None
                except Failed as e:
                    error = str(e)
                    if e.fatal or (e.transient and self._failures >= ABORT_AFTER):
                        aborted.append(e.cause)
                if error != repo.error:
                    if error is not None:
                        failing.append(f"{target.owner}/{target.name}: {error}")
                    elif repo.error is not None:
                        recovered += 1
                    repo.error = error
                if repo.answer != before:
                    for entity in target.keys:
                        self._requeue(entity)

        async with asyncio.TaskGroup() as group:
            for _ in range(min(CONCURRENCY, len(pending))):
                group.create_task(worker())
        if aborted:
            self._round_failed(f"{aborted[0]}; the round ended early")
        elif self._round_error is not None:
            log.info("GitHub polls: GitHub answers again")
            self._round_error = None
        if failing and not aborted:  # an aborted round says why in one line
            more = f"; and {len(failing) - 3} more" if len(failing) > 3 else ""
            shown = "; ".join(sorted(failing)[:3]) + more
            log.warning(
                "GitHub polls: %d repositories unread (last answers kept): %s", len(failing), shown
            )
        if recovered:
            log.info("GitHub polls: %d repositories are read again", recovered)

    async def _read(
        self, client: GitHubPollClient, repo: Repo, target: Target, config: OperatorConfig
    ) -> None:
        every = config.github.poll.repository_every
        branch = repo.answer.default_branch or target.branch_hint
        if repo.repo_round is None:  # never read: at once without a branch, else staggered
            due = branch is None or (self._round + zlib.crc32(repo.key.encode())) % every == 0
        else:
            due = self._round - repo.repo_round >= every
        if due:
            await self._read_repository(client, repo, every)
            branch = repo.answer.default_branch or target.branch_hint
        if repo.answer.found is False:
            return
        if not config.github.ci.enabled:
            repo.answer, repo.runs_etag = replace(repo.answer, branch=None, runs=None), None
            return
        if branch is not None and not await self._read_runs(client, repo, branch) and not due:
            await self._read_repository(client, repo, every)  # 404: is it gone?

    async def _read_repository(self, client: GitHubPollClient, repo: Repo, every: int) -> None:
        first = repo.repo_round is None
        answer = await self._get(client, f"/repos/{repo.owner}/{repo.name}", repo.repo_etag)
        # The first read is spread over the next `every` rounds' slots, so the repository
        # reads of a catalog read all at once do not fall in the same rounds forever after.
        repo.repo_round = self._round - (zlib.crc32(repo.key.encode()) % every if first else 0)
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

    # -- one request --------------------------------------------------------------------

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
                self._failures += 1
                EXTERNAL_CALLS.labels("github", "error").inc()
                raise Failed(str(e), path, transient=True) from e
            if answer.not_modified:
                self.budget.refund()  # GitHub does not count a 304
                self.stats.not_modified += 1
            else:
                self.stats.counted += 1
            limited = self._observe_rate(answer)
            if answer.status in (200, 304, 404):
                self._failures = 0
                EXTERNAL_CALLS.labels("github", "success").inc()
                return answer
            EXTERNAL_CALLS.labels("github", "error").inc()
            if not limited or attempt == 2:
                break
        cause = f"HTTP {answer.status} {answer.message}".rstrip()
        if answer.status == 401:
            raise Failed(f"GitHub refused the token ({cause})", path, fatal=True)
        if answer.status >= 500:
            self._failures += 1
        raise Failed(cause, path, transient=answer.status >= 500 or limited)

    def _observe_rate(self, answer: PollAnswer) -> bool:
        """Hold the polls as GitHub's headers say; True when this answer is a rate limit."""
        wait, why = rate_limit_wait(answer, self._wall(), self.budget.per_hour, self._secondary)
        self._secondary = self._secondary + 1 if why == "secondary" else 0
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

    # -- bookkeeping --------------------------------------------------------------------

    def _targets(self) -> dict[str, Target]:
        targets: dict[str, Target] = {}
        for view in self._components():
            found = repository_of(view)
            if found is None:
                continue
            target = targets.setdefault(f"{found[0]}/{found[1]}".lower(), Target(*found))
            target.keys.add(view.key)
            hint = (view.status.get("repository") or {}).get("defaultBranch")
            if target.branch_hint is None and isinstance(hint, str) and hint:
                target.branch_hint = hint
        return targets

    async def _client_for(self, api_url: str, token: str) -> GitHubPollClient:
        ident = hashlib.sha256(f"{api_url}|{token}".encode()).hexdigest()
        if self._client is None or self._client[0] != ident:
            old, self._client = self._client, (ident, self._new_client(api_url, token))
            if old is not None:
                await old[1].aclose()
        return self._client[1]

    def _switch_off(self, why: str) -> None:
        if self._off == why:
            return
        log.info("GitHub polls off: %s; no CI signal, no repository conditions", why)
        if self._off is None:  # their steps clear what they wrote (or kept, at a restart)
            for target in self._targets().values():
                for entity in target.keys:
                    self._requeue(entity)
        self._off = why
        self._repos.clear()

    def _round_failed(self, why: str) -> None:
        if self._round_error != why:
            log.warning("GitHub polls: %s; the last answers are kept", why)
        self._round_error = why

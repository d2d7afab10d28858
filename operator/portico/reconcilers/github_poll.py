"""GitHub, polled: each Component's repository (deleted? archived? default branch?) and the
latest GitHub Actions runs on its default branch, in one batched, jittered loop for the whole
catalog, one request per repository however many Components share it. The answers stay in
memory; the `ci` step (reconcilers/ci_step.py) reads them, domain/ci.py decides what they
mean, and only the Components whose repository's answer changed are re-queued.

Only repositories a Component may have read are polled (domain/ci.py readable_repository):
the one Portico scaffolded for it, or one whose owner its namespace's tenancy rule allows
(`observe.githubOwners`, by default `publish.githubOwners`). Any other is never asked about:
the token is the platform's, and the answers would land in the tenant's status.

Every GET sends the last ETag: an unchanged answer is a 304, which GitHub does not count.
`github.poll` bounds the rest (docs/ci.md has the figures): `requestsPerHour` is a token
bucket for what GitHub counts (a 304 gives its token back), `requestsPerMinute` spaces every
request; rounds start every `intervalSeconds` at best and stretch when the budgets say so.
How one repository is read is github_repos.py's. GitHub's Retry-After and rate-limit headers
hold every poll (an hour at most; a wake() cuts a hold's waits short and a new round starts,
without the hold when the token or the URL changed), and the polls leave the hour's last
`limit - requestsPerHour` requests to scaffolding. A failure (403, 5xx, no answer) keeps the
last answer and is logged when a repository starts or stops failing, once a round; an
unreachable GitHub or a refused token ends the round early.

No token keeps the answers and the ETags, as a failed round does, for NO_TOKEN_GRACE (a
Secret being replaced, an API server hiccup must not wipe the catalog's CI; with nothing read
yet, as at a start without a token, the polls are off at once); a token back
within it goes on with the kept ETags (304s). Still none after it, or
`github.poll.enabled: false` (at once): no polls, no answers (the steps clear what they
wrote), one log line.

It runs under `supervise` and stops on cancellation; all waiting goes through the injected
`clock` and `sleep`, so tests and the bench run hours of polls on a virtual clock.
"""

import asyncio
import hashlib
import logging
import random
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, Protocol

from portico.clients.github_poll import Budget, GitHubPollClient, Interrupted
from portico.domain.ci import (
    RepoAnswer,
    readable_repository,
    repository_of,
    scaffolded_repository,
)
from portico.domain.entity import EntityView
from portico.domain.refs import EntityKey
from portico.errors import PorticoError
from portico.models.config import OperatorConfig
from portico.reconcilers.github_repos import Failed, PollStats, Repo, RepoReader, Target
from portico.reconcilers.poll_loop import JITTER, PollLoop

__all__ = ["ABORT_AFTER", "CONCURRENCY", "NO_TOKEN_GRACE", "GitHubPoller", "PollStats"]

log = logging.getLogger("portico.github_poll")

CONCURRENCY = 4  # requests in flight (GitHub allows 100; the budgets are the real bound)
ABORT_AFTER = 5  # failed requests in a row (no answer, or 5xx) that end a round early
SETTLE = 1.0  # seconds to gather Components seen for the first time before reading them
# Seconds without a token before the polls switch off: three rounds at the default interval.
NO_TOKEN_GRACE = 900.0

ClientFactory = Callable[[str, str], GitHubPollClient]  # (api URL, token) -> client
NamespaceLabels = Callable[[str], Mapping[str, str]]


class TokenSource(Protocol):
    """Where the token comes from (reconcilers.github_access.GitHubAccess)."""

    async def token(self, config: OperatorConfig) -> str | None: ...


class GitHubPoller(PollLoop):
    """`namespace_labels` gives a namespace's labels, which tenancy rules may select
    namespaces by; without it no rule can be asked, and only the repositories Portico
    scaffolded are read (deny, not allow, when the policy cannot be asked)."""

    name = "github-poll"

    def __init__(
        self,
        config: Callable[[], OperatorConfig],
        access: TokenSource,
        components: Callable[[], Iterable[EntityView]],
        requeue: Callable[[EntityKey], None],
        *,
        namespace_labels: NamespaceLabels | None = None,
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
        self._labels = namespace_labels
        self._new_client = client
        self._clock, self._sleep = clock, sleep
        self._client: tuple[str, GitHubPollClient] | None = None
        self._repos: dict[str, Repo] = {}
        self._round = 0
        self._unseen = asyncio.Event()
        self.budget = Budget(clock, sleep)
        self.stats = PollStats()
        self._reader = RepoReader(self.budget, self.stats, wall)
        self._off: str | None = None  # why nothing is polled (no token, disabled)
        self._no_token_since: float | None = None
        self._round_error: str | None = None

    # -- the interface the engine uses --------------------------------------------------

    @property
    def polling(self) -> bool:
        """False when nothing is polled (disabled, or no token for NO_TOKEN_GRACE): answers
        are not coming."""
        return self._off is None

    def answer(self, view: EntityView) -> RepoAnswer | None:
        """The last answer for the Component's repository; None before the first read, and
        for a repository it may not have read."""
        found = self._readable(view, self._config())
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

    def wake(self) -> None:
        """Start a round now (the configuration changed), cutting a hold's waits short."""
        super().wake()
        self.budget.interrupt()

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
            if not self.standby():  # a standby replica spends none of GitHub's budget
                await self.poll_once()
            next_round = started + self.interval() * random.uniform(1 - JITTER, 1 + JITTER)
            while (left := next_round - self._clock()) > 0:
                await self._wait(left)
                if self._wake.is_set():
                    break
                if self._unseen.is_set():  # Components seen for the first time
                    await self._sleep(SETTLE)
                    self._unseen.clear()
                    if not self.standby():
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
            self._no_token_since = None
            return self._switch_off("github.poll.enabled is false in portico-config")
        try:
            token = await self._access.token(config)
        except PorticoError as e:
            return self._round_failed(f"the GitHub token cannot be read: {e}")
        if token is None:
            return self._without_token(config)
        if self._off is not None:
            log.info("GitHub polls start (%s no more)", self._off)
            self._off = None
        elif self._no_token_since is not None:
            log.info("GitHub polls: a GitHub token is read again; the last ETags are sent")
            self._round_error = None
        self._no_token_since = None
        client = await self._client_for(config.github.api_url, token)
        poll = config.github.poll
        self.budget.configure(poll.requests_per_hour, poll.requests_per_minute)
        targets = self._targets(config)
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
        self._reader.failures = 0
        aborted: list[str] = []
        cut_short: list[str] = []

        async def worker() -> None:
            nonlocal recovered
            while pending and not aborted and not cut_short:
                key, target = pending.pop()
                repo = self._repos.setdefault(key, Repo(key, target.owner, target.name))
                before = repo.answer
                try:
                    await self._reader.read(client, repo, target, config, self._round)
                    error = None
                except Interrupted as e:
                    cut_short.append(str(e))
                    error = repo.error  # not a failure of this repository
                except Failed as e:
                    error = str(e)
                    if e.fatal or (e.transient and self._reader.failures >= ABORT_AFTER):
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
        if cut_short:
            log.info("GitHub polls: woken during a wait (the configuration changed); a new round")
        elif aborted:
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

    # -- bookkeeping --------------------------------------------------------------------

    def _readable(self, view: EntityView, config: OperatorConfig) -> tuple[str, str] | None:
        """The repository Portico may read for the Component; None: none, or not allowed."""
        if self._labels is None:  # the policy cannot be asked: only what Portico scaffolded
            return scaffolded_repository(view)
        found = readable_repository(view, self._labels(view.key.namespace), config)
        return found if isinstance(found, tuple) else None

    def _targets(self, config: OperatorConfig) -> dict[str, Target]:
        targets: dict[str, Target] = {}
        for view in self._components():
            found = self._readable(view, config)
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
            self.budget.release()  # a hold was GitHub's word about another token or server
            self._reader.secondary = 0
        return self._client[1]

    def _without_token(self, config: OperatorConfig) -> None:
        """No token: a failed round (answers and ETags kept, said once) for NO_TOKEN_GRACE,
        then the polls switch off."""
        why = f"no GitHub token (Secret {config.github.token_secret}, key token)"
        now = self._clock()
        if self._no_token_since is None:
            self._no_token_since = now
        # Nothing read yet (a start without a token, as in `make demo`): nothing to keep, so
        # off at once; the steps then say nothing rather than wait out the grace.
        nothing_kept = not self._repos
        if self._off is not None or nothing_kept or now - self._no_token_since >= NO_TOKEN_GRACE:
            return self._switch_off(why)
        grace = f"{NO_TOKEN_GRACE / 60:.0f} minutes"
        self._round_failed(f"{why}; the polls switch off if it is still missing after {grace}")

    def _switch_off(self, why: str) -> None:
        if self._off == why:
            return
        log.info("GitHub polls off: %s; no CI signal, no repository conditions", why)
        if self._off is None:  # their steps clear what they wrote (or kept, at a restart)
            for view in self._components():
                if repository_of(view) is not None:
                    self._requeue(view.key)
        self._off = why
        self._round_error = None
        self._repos.clear()

    def _round_failed(self, why: str) -> None:
        if self._round_error != why:
            log.warning("GitHub polls: %s; the last answers are kept", why)
        self._round_error = why

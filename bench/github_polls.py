"""The cost of GitHub polling (CI runs, archived or deleted repositories): GitHub requests per
Component per hour, all of them and those GitHub counts against its rate limit.

It runs the real poller (reconcilers/github_poll.py, the default `github.poll` settings: a round
every 300 s at best, the repository every 6th round, 4,000 counted requests an hour, 600
requests a minute) on a virtual clock against a simulated GitHub (an httpx transport): ETags
and 304s, an hourly window of 5,000 counted requests with its X-RateLimit-* headers, and CI
that changes. Each Component has its own repository, whose default branch gets
`--pushes-per-day` pushes (at random, Poisson); a push's run is queued for 30 s, runs for
5 minutes, then passes (or fails, one in ten). A poll that sees a new state gets a 200, any
other a 304.

For each N it prints the first pass (every repository read once: its repository and its runs,
all counted), then one hour of steady state: rounds per hour and their length, and requests
per Component per hour. Run: `.venv/bin/python bench/github_polls.py --sizes 100,1000,10000`.
"""

import argparse
import asyncio
import hashlib
import json
import logging
import math
import random
import time
from dataclasses import dataclass, field, replace

import httpx

from portico.clients.github_poll import GitHubPollClient
from portico.domain.entity import EntityView, view_from_body
from portico.models.config import GithubConfig, OperatorConfig
from portico.models.tenancy import TenancyConfig
from portico.reconcilers.github_poll import GitHubPoller, PollStats

EPOCH = 1_700_000_000.0  # the simulated wall clock at virtual time 0
LIMIT = 5000  # GitHub's counted requests an hour (a personal access token)
QUEUED, RUNNING = 30.0, 300.0  # seconds a push's run is queued, then in progress


class VirtualClock:
    """Time moves only when the poller sleeps; `at(t)` is an event set once it is `t`, and at
    `stop_at` the poller is frozen."""

    def __init__(self) -> None:
        self.now = 0.0
        self.stop_at = math.inf
        self.stopped = asyncio.Event()
        self._marks: list[tuple[float, asyncio.Event]] = []

    def at(self, when: float) -> asyncio.Event:
        mark = asyncio.Event()
        self._marks.append((when, mark))
        return mark

    def __call__(self) -> float:
        return self.now

    def wall(self) -> float:
        return EPOCH + self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)
        for when, mark in self._marks:
            if when <= self.now:
                mark.set()
        if self.now >= self.stop_at:
            self.stopped.set()
            await asyncio.Event().wait()  # until the bench cancels the poller
        await asyncio.sleep(0)


@dataclass
class Repo:
    next_push: float
    pushes: int = 0
    last_push: float = -math.inf
    failed: bool = False


@dataclass
class SimulatedGitHub:
    """GitHub's side: ETags, 304s, the hourly window, runs that move on."""

    clock: VirtualClock
    size: int
    pushes_per_day: float
    rng: random.Random
    repos: list[Repo] = field(default_factory=list)
    window: int = 0
    used: int = 0  # counted in the current window
    most_used: int = 0  # the most counted in one window
    unread: set[int] = field(default_factory=set)
    first_pass: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        rate = self.pushes_per_day / 86400.0
        self.repos = [Repo(self.rng.expovariate(rate)) for _ in range(self.size)]
        self.unread = set(range(self.size))

    def state(self, i: int) -> tuple[int, str, str | None]:
        """(push, status, conclusion) of repository i's latest run now."""
        repo, now = self.repos[i], self.clock.now
        rate = self.pushes_per_day / 86400.0
        while repo.next_push <= now:
            repo.pushes, repo.last_push = repo.pushes + 1, repo.next_push
            repo.failed = self.rng.random() < 0.1
            repo.next_push += self.rng.expovariate(rate)
        age = now - repo.last_push
        if age < QUEUED:
            return repo.pushes, "queued", None
        if age < QUEUED + RUNNING:
            return repo.pushes, "in_progress", None
        return repo.pushes, "completed", "failure" if repo.failed else "success"

    def __call__(self, request: httpx.Request) -> httpx.Response:
        window = int(self.clock.now // 3600)
        if window != self.window:
            self.window, self.used = window, 0
        reset = str(int(EPOCH + (window + 1) * 3600))
        if self.used >= LIMIT:
            headers = self._rate(reset)
            return httpx.Response(403, headers=headers, json={"message": "API rate limit"})
        parts = request.url.path.split("/")  # /repos/acme/svc-12[/actions/runs]
        i = int(parts[3].rsplit("-", 1)[1])
        if len(parts) == 4:
            body: dict[str, object] = {"full_name": f"acme/svc-{i}", "default_branch": "main"}
            body["archived"] = False
        else:
            push, status, conclusion = self.state(i)
            run = {
                "id": i * 100_000 + push,
                "name": "CI",
                "path": ".github/workflows/ci.yml",
                "run_number": push + 1,
                "event": "push",
                "status": status,
                "conclusion": conclusion,
                "html_url": f"https://github.com/acme/svc-{i}/actions/runs/{push}",
                "head_sha": hashlib.sha1(f"{i}-{push}".encode()).hexdigest(),
                "head_branch": "main",
                "updated_at": "2025-01-01T00:00:00Z",
            }
            body = {"total_count": push + 1, "workflow_runs": [run]}
            self.unread.discard(i)
            if not self.unread and not self.first_pass.is_set():
                self.first_pass.set()
        payload = json.dumps(body).encode()
        tag = f'"{hashlib.sha1(payload).hexdigest()}"'
        if request.headers.get("if-none-match") == tag:
            return httpx.Response(304, headers={"ETag": tag, **self._rate(reset)})
        self.used += 1
        self.most_used = max(self.most_used, self.used)
        return httpx.Response(200, headers={"ETag": tag, **self._rate(reset)}, content=payload)

    def _rate(self, reset: str) -> dict[str, str]:
        left = str(max(0, LIMIT - self.used))
        return {
            "X-RateLimit-Limit": str(LIMIT),
            "X-RateLimit-Remaining": left,
            "X-RateLimit-Reset": reset,
        }


class Token:
    async def token(self, config: OperatorConfig) -> str | None:
        return "bench-token"


def components(n: int) -> list[EntityView]:
    return [
        view_from_body(
            "Component",
            {
                "kind": "Component",
                "metadata": {
                    "name": f"svc-{i}",
                    "namespace": "bench",
                    "annotations": {"github.com/project-slug": f"acme/svc-{i}"},
                },
                "spec": {"type": "service", "lifecycle": "production", "owner": "group:t"},
            },
        )
        for i in range(n)
    ]


async def measure(n: int, pushes_per_day: float, seed: int, settle: float) -> dict[str, float]:
    random.seed(seed)  # the poller's jitter
    clock = VirtualClock()
    github = SimulatedGitHub(clock, n, pushes_per_day, random.Random(seed))
    transport = httpx.MockTransport(github)
    # The bench's namespace may name the simulated owner's repositories (tenancy: deny by
    # default, observe.githubOwners allows).
    rule = {"namespaces": ["bench"], "observe": {"githubOwners": ["acme"]}}
    config = OperatorConfig(
        github=GithubConfig(api_url="https://api.github.test"),
        tenancy=TenancyConfig.model_validate({"rules": [rule]}),
    )
    views = components(n)
    requeued = 0

    def requeue(_: object) -> None:
        nonlocal requeued
        requeued += 1

    poller = GitHubPoller(
        lambda: config,
        Token(),
        lambda: views,
        requeue,
        client=lambda url, token: GitHubPollClient(url, token, transport=transport),
        clock=clock,
        sleep=clock.sleep,
        wall=clock.wall,
        namespace_labels=lambda namespace: {},
    )
    started = time.perf_counter()
    poller.start()
    try:
        await github.first_pass.wait()
        first_pass = clock.now
        await clock.at(clock.now + settle).wait()  # the first pass's rate-limit holds end
        first = (clock.now, replace(poller.stats), requeued)
        clock.stop_at = clock.now + 3600.0
        await clock.stopped.wait()
        hour = clock.now - first[0]
        spent = replace(poller.stats)
    finally:
        await poller.stop()
    before: PollStats = first[1]
    rounds = spent.rounds - before.rounds
    return {
        "first_pass_h": first_pass / 3600.0,
        "rounds_h": rounds * 3600.0 / hour,
        "round_s": hour / max(rounds, 1),
        "requests": (spent.requests - before.requests) * 3600.0 / hour / n,
        "counted": (spent.counted - before.counted) * 3600.0 / hour / n,
        "counted_h": (spent.counted - before.counted) * 3600.0 / hour,
        "requeued_h": (requeued - first[2]) * 3600.0 / hour,
        "most_in_window": github.most_used,
        "seconds": time.perf_counter() - started,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--pushes-per-day", type=float, default=4.0)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument(
        "--settle",
        type=float,
        default=7200.0,
        help="virtual seconds between the first pass "
        "and the hour measured (the first pass leaves the hour's budget spent)",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)  # the pauses the budgets cause are expected
    print(
        f"default github.poll: interval 300 s, repository every 6th round, "
        f"4,000 counted an hour, 600 a minute; {args.pushes_per_day:g} pushes a day per "
        "repository"
    )
    print(
        f"{'N':>6} {'1st pass h':>10} {'rounds/h':>8} {'round s':>8} {'req/C/h':>8} "
        f"{'counted/C/h':>11} {'counted/h':>9} {'max/window':>10} {'requeued/h':>10} "
        f"{'run s':>6}"
    )
    for n in (int(s) for s in args.sizes.split(",")):
        r = asyncio.run(measure(n, args.pushes_per_day, args.seed, args.settle))
        print(
            f"{n:>6} {r['first_pass_h']:>10.2f} {r['rounds_h']:>8.1f} {r['round_s']:>8.0f} "
            f"{r['requests']:>8.2f} {r['counted']:>11.3f} {r['counted_h']:>9.0f} "
            f"{r['most_in_window']:>10.0f} {r['requeued_h']:>10.0f} {r['seconds']:>6.1f}"
        )


if __name__ == "__main__":
    main()

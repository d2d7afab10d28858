"""The GitHub poller (reconcilers/github_poll.py) against the GitHub contract fake over HTTP.

The matrix: the first round reads each repository and its runs, later rounds send the ETags
and get 304s, which GitHub does not count (the fake's budget and the poller's count agree);
Components sharing a repository share its requests; only the Components whose repository's
answer changed are re-queued; a deleted repository (404) and an archived one; a 403 keeps the
last answer and is logged once, not on every round; the repository is read every Nth round,
staggered; a known default branch saves the first repository read; `ci.enabled: false` reads
no runs; a missing token keeps the answers and ETags (one log line, no request) and a token
back sends the kept ETags, a token missing for NO_TOKEN_GRACE switches the polls off (once,
re-queueing every Component with a repository), `poll.enabled: false` at once; a refused
token or an unreachable GitHub ends a round early; the budgets stretch a round (per minute:
spacing; per hour: a bucket a 304 gives back), a rate limit and GitHub's Retry-After hold the
polls, never longer than an hour (MAX_WAIT), and the share of the hour left for scaffolding
stops them; the loop reads a Component seen for the first time at once, starts a round on
wake() (cutting a hold's waits short; a new token is not held) and stops on stop(), a long
hold too. Which repositories are polled at all (tenancy): test_ci_tenancy.py.

Rounds run on a virtual clock (`Clock`): waiting costs no real time, and the test reads how
long a round would have taken.
"""

import asyncio
import logging
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import httpx
import pytest

from fakes.github import FakeGitHub
from portico.clients.github_poll import (
    MAX_WAIT,
    Budget,
    GitHubPollClient,
    Interrupted,
    PollAnswer,
    RateInfo,
    rate_limit_wait,
)
from portico.errors import TransientError
from portico.models.config import CIConfig
from portico.reconcilers.github_poll import (
    ABORT_AFTER,
    CONCURRENCY,
    NO_TOKEN_GRACE,
    ClientFactory,
    GitHubPoller,
)
from support.github_poll import (
    CI,
    Access,
    Catalog,
    Clock,
    calls,
    poller_for,
    repository,
    runs,
    settings,
)
from support.poll import eventually_async


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with FakeGitHub(orgs=["acme"], user="portico-bot") as server:
        yield server
    server.assert_no_internal_errors()


@pytest.fixture
async def http(fake: FakeGitHub) -> AsyncIterator[httpx.AsyncClient]:
    """The test's own hands on the fake (create, archive, delete repositories)."""
    headers = {"Authorization": f"Bearer {fake.token}"}
    async with httpx.AsyncClient(base_url=fake.base_url, headers=headers, timeout=10) as client:
        yield client


async def test_etags_make_later_rounds_free_and_only_changes_are_requeued(
    fake: FakeGitHub, http: httpx.AsyncClient
) -> None:
    await repository(fake, http, "svc", run="success")
    await repository(fake, http, "web", run="success")
    catalog = Catalog()
    svc = catalog.add("svc", "acme/svc")
    catalog.add("svc-docs", "ACME/Svc")  # the same repository, spelled otherwise
    web = catalog.add("web", "acme/web")
    poller = poller_for(fake, catalog, Clock())
    try:
        await poller.poll_once()
        assert sorted(calls(fake)) == [
            ("/repos/acme/svc", 200),
            ("/repos/acme/svc/actions/runs", 200),
            ("/repos/acme/web", 200),
            ("/repos/acme/web/actions/runs", 200),
        ]
        assert catalog.take() == {"svc", "svc-docs", "web"}
        first = poller.answer(svc)
        assert first is not None
        assert (first.found, first.default_branch) == (True, "main")
        assert first.runs is not None
        assert first.runs[0].conclusion == "success"
        assert poller.stats.counted == 4

        remaining, seen = fake.api.rate.remaining, len(fake.calls)
        await poller.poll_once()
        assert runs(fake, seen) == [
            ("/repos/acme/svc/actions/runs", 304),
            ("/repos/acme/web/actions/runs", 304),
        ]
        assert fake.api.rate.remaining == remaining  # GitHub does not count a 304
        assert poller.stats.counted == 4
        assert catalog.take() == set()  # nothing changed: nothing re-queued
        assert poller.answer(svc) == first

        fake.add_run("acme", "web", CI, branch="main", status="completed", conclusion="failure")
        seen = len(fake.calls)
        await poller.poll_once()
        assert runs(fake, seen) == [
            ("/repos/acme/svc/actions/runs", 304),
            ("/repos/acme/web/actions/runs", 200),
        ]
        assert poller.stats.counted == 5
        assert catalog.take() == {"web"}
        changed = poller.answer(web)
        assert changed is not None
        assert changed.runs is not None
        assert changed.runs[0].conclusion == "failure"
    finally:
        await poller.stop()


async def test_a_deleted_repository_is_missing_and_an_archived_one_archived(
    fake: FakeGitHub, http: httpx.AsyncClient
) -> None:
    await repository(fake, http, "old", run="success")
    await repository(fake, http, "gone", run="success")
    catalog = Catalog()
    old, gone = catalog.add("old", "acme/old"), catalog.add("gone", "acme/gone")
    poller = poller_for(fake, catalog, Clock(), repository_every=1)
    try:
        await poller.poll_once()
        catalog.take()
        (await http.patch("/repos/acme/old", json={"archived": True})).raise_for_status()
        (await http.delete("/repos/acme/gone")).raise_for_status()
        await poller.poll_once()
        assert catalog.take() == {"old", "gone"}
        archived, missing = poller.answer(old), poller.answer(gone)
        assert archived is not None
        assert (archived.found, archived.archived) == (True, True)
        assert archived.runs is not None  # an archived repository's runs are still read
        assert missing is not None
        assert (missing.found, missing.runs) == (False, None)

        seen = len(fake.calls)
        await poller.poll_once()
        assert catalog.take() == set()
        assert ("/repos/acme/gone/actions/runs", 404) not in calls(fake, seen)  # not asked
    finally:
        await poller.stop()


async def test_a_deleted_repository_is_noticed_by_its_runs_between_repository_reads(
    fake: FakeGitHub, http: httpx.AsyncClient
) -> None:
    await repository(fake, http, "svc", run="success")
    catalog = Catalog()
    svc = catalog.add("svc", "acme/svc")
    poller = poller_for(fake, catalog, Clock(), repository_every=1000)
    try:
        await poller.poll_once()
        (await http.delete("/repos/acme/svc")).raise_for_status()
        seen = len(fake.calls)
        await poller.poll_once()
        assert calls(fake, seen) == [
            ("/repos/acme/svc/actions/runs", 404),
            ("/repos/acme/svc", 404),
        ]
        answer = poller.answer(svc)
        assert answer is not None
        assert answer.found is False
    finally:
        await poller.stop()


async def test_a_refusal_keeps_the_last_answer_and_is_logged_once(
    fake: FakeGitHub, http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    await repository(fake, http, "svc", run="failure")
    catalog = Catalog()
    svc = catalog.add("svc", "acme/svc")
    poller = poller_for(fake, catalog, Clock(), repository_every=1)
    try:
        await poller.poll_once()
        before, _ = poller.answer(svc), catalog.take()
        refusal = {"message": "Resource not accessible by personal access token"}
        fake.fail_next("GET", r"^/repos/acme/svc$", 403, times=2, body=refusal)
        with caplog.at_level(logging.INFO, logger="portico.github_poll"):
            await poller.poll_once()
            await poller.poll_once()
            assert poller.answer(svc) == before
            assert catalog.take() == set()
            warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
            assert len(warned) == 1, warned
            assert "acme/svc: GET /repos/acme/svc: HTTP 403 Resource not accessible" in warned[0]
            assert fake.token not in warned[0]
            await poller.poll_once()
            assert "1 repositories are read again" in caplog.records[-1].getMessage()
    finally:
        await poller.stop()


async def test_repositories_are_read_every_nth_round_staggered(
    fake: FakeGitHub, http: httpx.AsyncClient
) -> None:
    names = [f"svc-{i}" for i in range(9)]
    catalog = Catalog()
    for name in names:
        await repository(fake, http, name)
        catalog.add(name, f"acme/{name}")
    poller = poller_for(fake, catalog, Clock(), repository_every=3)
    try:
        await poller.poll_once()
        reads: list[list[str]] = []
        for _ in range(6):
            seen = len(fake.calls)
            await poller.poll_once()
            reads.append([p.rsplit("/", 1)[1] for p, _ in calls(fake, seen) if "actions" not in p])
        for window in (reads[0:3], reads[3:6]):  # once in every 3 rounds, each repository
            assert sorted(n for r in window for n in r) == names
        assert max(len(r) for r in reads) < len(names)  # not all in the same round
    finally:
        await poller.stop()


async def test_a_known_default_branch_saves_the_first_repository_read(
    fake: FakeGitHub, http: httpx.AsyncClient
) -> None:
    name = next(
        f"svc-{i}" for i in range(100) if (1 + zlib.crc32(f"acme/svc-{i}".encode())) % 1000
    )  # not in round 1's slot of the staggered reads
    await repository(fake, http, name, run="success")
    catalog = Catalog()
    view = catalog.add(name, f"acme/{name}", repository={"defaultBranch": "main"})
    poller = poller_for(fake, catalog, Clock(), repository_every=1000)
    try:
        await poller.poll_once()
        assert calls(fake) == [(f"/repos/acme/{name}/actions/runs", 200)]
        answer = poller.answer(view)
        assert answer is not None
        assert answer.found is None
        assert answer.runs
    finally:
        await poller.stop()


async def test_ci_disabled_reads_no_runs(fake: FakeGitHub, http: httpx.AsyncClient) -> None:
    await repository(fake, http, "svc", run="success")
    catalog = Catalog()
    svc = catalog.add("svc", "acme/svc")
    config = settings(fake, ci=CIConfig(enabled=False))
    clock = Clock()
    poller = poller_for(fake, catalog, clock, config=lambda: config)
    try:
        await poller.poll_once()
        assert calls(fake) == [("/repos/acme/svc", 200)]
        answer = poller.answer(svc)
        assert answer is not None
        assert (answer.found, answer.runs) == (True, None)
    finally:
        await poller.stop()


async def test_a_missing_token_keeps_the_answers_and_a_token_back_sends_the_etags(
    fake: FakeGitHub, http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    """A Secret being replaced, or read in a bad moment: a failed round, not a wipe."""
    await repository(fake, http, "svc", run="success")
    catalog = Catalog()
    svc = catalog.add("svc", "acme/svc")
    access, clock = Access(fake.token), Clock()
    poller = poller_for(fake, catalog, clock, access)
    try:
        await poller.poll_once()
        before, _ = poller.answer(svc), catalog.take()
        assert before is not None
        access.value = None
        seen = len(fake.calls)
        with caplog.at_level(logging.INFO, logger="portico.github_poll"):
            for _ in range(3):
                await poller.poll_once()
                clock.now += 300
            said = [r.getMessage() for r in caplog.records if r.name == "portico.github_poll"]
            assert len(said) == 1, said
            assert "no GitHub token (Secret portico-github-token, key token)" in said[0]
            assert "the last answers are kept" in said[0]
            assert (calls(fake, seen), poller.polling, poller.answer(svc)) == ([], True, before)
            assert catalog.take() == set()  # nothing to clear, nothing re-queued

            access.value = fake.token
            await poller.poll_once()
            assert "a GitHub token is read again" in caplog.records[-1].getMessage()
        assert runs(fake, seen) == [("/repos/acme/svc/actions/runs", 304)]  # the kept ETag
        assert poller.answer(svc) == before
        assert catalog.take() == set()
    finally:
        await poller.stop()


async def test_a_token_missing_for_the_grace_switches_the_polls_off_once(
    fake: FakeGitHub, http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    await repository(fake, http, "svc", run="success")
    catalog = Catalog()
    svc = catalog.add("svc", "acme/svc")
    catalog.add("refused", "platform/secret-infra", namespace="elsewhere")
    access, clock = Access(fake.token), Clock()
    poller = poller_for(fake, catalog, clock, access)
    try:
        await poller.poll_once()
        catalog.take()
        access.value = None
        await poller.poll_once()
        clock.now += NO_TOKEN_GRACE - 1
        await poller.poll_once()
        assert poller.polling
        clock.now += 2
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="portico.github_poll"):
            await poller.poll_once()
            await poller.poll_once()
        said = [r.getMessage() for r in caplog.records if r.name == "portico.github_poll"]
        assert len(said) == 1, said
        assert said[0].startswith("GitHub polls off: no GitHub token")
        assert (poller.polling, poller.answer(svc)) == (False, None)
        # Their steps clear what they wrote: every Component with a repository, the refused
        # one's CIRead too.
        assert catalog.take() == {"svc", "refused"}

        access.value = fake.token
        await poller.poll_once()
        assert poller.polling
        assert poller.answer(svc) is not None
    finally:
        await poller.stop()


async def test_a_start_without_a_token_is_off_at_once_with_nothing_to_keep(
    fake: FakeGitHub, http: httpx.AsyncClient
) -> None:
    """`make demo` has no token: its Components must not wait out the grace (nor say
    RepositoryNotAllowed about a GitHub nobody reads)."""
    await repository(fake, http, "svc", run="success")
    catalog = Catalog()
    catalog.add("svc", "acme/svc")
    poller = poller_for(fake, catalog, Clock(), Access(None))
    try:
        await poller.poll_once()
        assert not poller.polling
        assert calls(fake) == []
    finally:
        await poller.stop()


async def test_polls_disabled_switch_off_at_once(
    fake: FakeGitHub, http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    await repository(fake, http, "svc", run="success")
    catalog = Catalog()
    svc = catalog.add("svc", "acme/svc")
    config = settings(fake)
    clock = Clock()
    poller = poller_for(fake, catalog, clock, config=lambda: config)
    try:
        await poller.poll_once()
        catalog.take()
        config = settings(fake, enabled=False)
        seen = len(fake.calls)
        with caplog.at_level(logging.INFO, logger="portico.github_poll"):
            await poller.poll_once()
            await poller.poll_once()
        assert "github.poll.enabled is false" in caplog.text
        assert (calls(fake, seen), poller.polling, poller.answer(svc)) == ([], False, None)
        assert catalog.take() == {"svc"}
    finally:
        await poller.stop()


async def test_a_refused_token_ends_the_round_at_once(
    fake: FakeGitHub, http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    catalog = Catalog()
    for i in range(12):
        catalog.add(f"svc-{i}", f"acme/svc-{i}")
    poller = poller_for(fake, catalog, Clock(), Access("not-the-token"))
    try:
        with caplog.at_level(logging.WARNING, logger="portico.github_poll"):
            await poller.poll_once()
            await poller.poll_once()
        assert 0 < poller.stats.requests <= 2 * CONCURRENCY
        assert all(status == 401 for _, status in calls(fake))
        ended = [r.getMessage() for r in caplog.records if "ended early" in r.getMessage()]
        assert len(ended) == 1, ended
        assert "GitHub refused the token (HTTP 401 Bad credentials)" in ended[0]
        assert "not-the-token" not in caplog.text
    finally:
        await poller.stop()


async def test_an_unreachable_github_ends_the_round_early(caplog: pytest.LogCaptureFixture) -> None:
    with FakeGitHub() as gone:
        base_url = gone.base_url  # a port nobody listens on once the fake stops
    catalog = Catalog()
    for i in range(20):
        catalog.add(f"svc-{i}", f"acme/svc-{i}")
    config = settings(base_url)
    clock = Clock()
    poller = poller_for(base_url, catalog, clock, Access("t"), config=lambda: config)
    try:
        with caplog.at_level(logging.WARNING, logger="portico.github_poll"):
            await poller.poll_once()
        assert ABORT_AFTER <= poller.stats.requests < ABORT_AFTER + CONCURRENCY
        assert "is unreachable" in caplog.text
        assert "ended early" in caplog.text
    finally:
        await poller.stop()


async def test_an_unreadable_token_secret_keeps_the_answers(
    fake: FakeGitHub, http: httpx.AsyncClient
) -> None:
    await repository(fake, http, "svc", run="success")
    catalog = Catalog()
    svc = catalog.add("svc", "acme/svc")
    access = Access(fake.token)
    poller = poller_for(fake, catalog, Clock(), access)
    try:
        await poller.poll_once()
        before = poller.answer(svc)
        access.error = TransientError("kubernetes", "the API server is unreachable")
        await poller.poll_once()
        assert poller.polling
        assert poller.answer(svc) == before
    finally:
        await poller.stop()


async def test_the_per_minute_budget_stretches_a_round(
    fake: FakeGitHub, http: httpx.AsyncClient
) -> None:
    catalog = Catalog()
    for i in range(10):
        await repository(fake, http, f"svc-{i}", run="success")
        catalog.add(f"svc-{i}", f"acme/svc-{i}")
    clock = Clock()
    poller = poller_for(fake, catalog, clock, requests_per_minute=60)
    try:
        started = clock.now
        await poller.poll_once()
        assert len(calls(fake)) == 20
        assert clock.now - started == pytest.approx(19.0)  # one request a second
        started, seen = clock.now, len(fake.calls)
        await poller.poll_once()  # 304s (runs, some repositories): still requests, spaced
        assert clock.now - started == pytest.approx(len(calls(fake, seen)))
        assert len(calls(fake, seen)) >= 10
    finally:
        await poller.stop()


async def test_the_hourly_bucket_refills_and_a_304_gives_its_token_back() -> None:
    """120 an hour: a bucket of 5 minutes' worth (10), then one token every 30 s."""
    clock = Clock()
    budget = Budget(clock, clock.sleep)
    budget.configure(120, 6000)
    started = clock.now
    for _ in range(10):  # full at start
        await budget.acquire()
    assert clock.now - started == pytest.approx(0.09)  # 6000 a minute: 0.01 s apart
    await budget.acquire()  # the eleventh waits for a token
    assert clock.now - started == pytest.approx(30, abs=0.1)
    budget.refund()  # that one was answered 304
    started = clock.now
    await budget.acquire()
    assert clock.now - started == pytest.approx(0.01)
    started = clock.now
    await budget.acquire()  # the bucket is empty again
    assert clock.now - started == pytest.approx(30, abs=0.1)
    held = Budget(clock, clock.sleep)
    held.configure(4, 6000)
    assert held.hold(30)
    assert not held.hold(10)  # a hold starts once, then only extends
    started = clock.now
    await held.acquire()
    assert clock.now - started == pytest.approx(30)


async def test_304s_leave_the_hourly_bucket_alone(
    fake: FakeGitHub, http: httpx.AsyncClient
) -> None:
    catalog = Catalog()
    for i in range(4):
        await repository(fake, http, f"svc-{i}", run="success")
        catalog.add(f"svc-{i}", f"acme/svc-{i}")
    clock = Clock()
    poller = poller_for(fake, catalog, clock, requests_per_hour=1000)
    try:
        await poller.poll_once()
        after_first = poller.budget.tokens
        capacity = 1000 * 300 / 3600  # five minutes' worth
        assert after_first == pytest.approx(capacity - 8, abs=0.5)  # 8 counted (refilling)
        await poller.poll_once()
        assert poller.stats.not_modified >= 4
        assert poller.stats.counted == 8
        assert poller.budget.tokens is not None
        assert poller.budget.tokens >= after_first
    finally:
        await poller.stop()


async def test_a_rate_limit_holds_every_poll_until_its_reset(
    fake: FakeGitHub, http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    await repository(fake, http, "svc", run="success")
    catalog = Catalog()
    svc = catalog.add("svc", "acme/svc")
    clock = Clock()
    poller = poller_for(fake, catalog, clock)
    limited = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(time.time()) + 300)}
    fake.fail_next(
        "GET",
        r"/actions/runs$",
        403,
        headers=limited,
        body={"message": "API rate limit exceeded for user ID 1."},
    )
    try:
        with caplog.at_level(logging.WARNING, logger="portico.github_poll"):
            started = clock.now
            await poller.poll_once()
        assert calls(fake) == [
            ("/repos/acme/svc", 200),
            ("/repos/acme/svc/actions/runs", 403),
            ("/repos/acme/svc/actions/runs", 200),  # sent again after the reset
        ]
        assert clock.now - started >= 295
        answer = poller.answer(svc)
        assert answer is not None
        assert answer.runs
        assert caplog.text.count("GitHub polls paused") == 1
    finally:
        await poller.stop()


async def test_retry_after_is_obeyed(fake: FakeGitHub, http: httpx.AsyncClient) -> None:
    await repository(fake, http, "svc", run="success")
    catalog = Catalog()
    catalog.add("svc", "acme/svc")
    clock = Clock()
    poller = poller_for(fake, catalog, clock)
    secondary = {"message": "You have exceeded a secondary rate limit."}
    fake.fail_next("GET", r"^/repos/acme/svc$", 429, headers={"Retry-After": "90"}, body=secondary)
    try:
        started = clock.now
        await poller.poll_once()
        assert [s for _, s in calls(fake)] == [429, 200, 200]
        assert clock.now - started >= 90
    finally:
        await poller.stop()


async def test_the_polls_leave_the_rest_of_the_hour_to_scaffolding(
    fake: FakeGitHub, http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    """requestsPerHour 4000 of GitHub's 5000: once only 1000 are left, polls wait for the
    reset, whoever spent the rest."""
    await repository(fake, http, "svc", run="success")
    catalog = Catalog()
    catalog.add("svc", "acme/svc")
    clock = Clock()
    poller = poller_for(fake, catalog, clock)
    fake.rate_limit(1001, time.time() + 600, limit=5000)
    try:
        with caplog.at_level(logging.WARNING, logger="portico.github_poll"):
            started = clock.now
            await poller.poll_once()
        assert clock.now - started >= 595  # the second request waited for the reset
        assert "1000 of 5000 requests left this hour" in caplog.text
    finally:
        await poller.stop()


async def test_the_loop_reads_new_components_at_once_wakes_and_stops(
    fake: FakeGitHub, http: httpx.AsyncClient
) -> None:
    await repository(fake, http, "svc", run="success")
    await repository(fake, http, "late", run="failure")
    catalog = Catalog()
    svc = catalog.add("svc", "acme/svc")
    poller = poller_for(fake, catalog, interval_seconds=3600)  # real time: only wakes help
    poller.start()
    try:

        def requeued(name: str) -> Callable[[], Awaitable[None]]:
            async def check() -> None:
                assert name in catalog.take()

            return check

        await eventually_async(requeued("svc"), within=10)
        assert poller.answer(svc) is not None
        late = catalog.add("late", "acme/late")
        assert poller.answer(late) is None  # not read yet: asks for a read
        await eventually_async(requeued("late"), within=10)  # long before the interval
        answer = poller.answer(late)
        assert answer is not None
        assert answer.runs
        assert answer.runs[0].conclusion == "failure"

        fake.add_run("acme", "svc", CI, branch="main", status="in_progress")
        poller.wake()
        await eventually_async(requeued("svc"), within=10)
    finally:
        await poller.stop()
    seen = len(fake.calls)
    await asyncio.sleep(0.2)
    assert len(fake.calls) == seen  # stopped: no more requests


# -- holds: capped, cut short by wake(), ended by stop() ---------------------------------


def test_every_wait_github_asks_for_is_capped_at_an_hour() -> None:
    now = time.time()
    asked = [
        PollAnswer(429, None, None, RateInfo(retry_after=86400.0)),
        PollAnswer(403, None, None, RateInfo(limit=5000, remaining=0, reset=now + 864000)),
        PollAnswer(200, {}, None, RateInfo(limit=5000, remaining=10, reset=now + 864000)),
    ]
    for answer in asked:
        wait, why = rate_limit_wait(answer, now, 4000)
        assert why is not None
        assert wait == MAX_WAIT
    clock = Clock()
    budget = Budget(clock, clock.sleep)
    budget.configure(4000, 600)
    assert budget.hold(10 * 86400.0)
    assert budget.hold_until == clock.now + MAX_WAIT


async def test_a_retry_after_of_a_day_holds_the_polls_an_hour(
    fake: FakeGitHub, http: httpx.AsyncClient
) -> None:
    await repository(fake, http, "svc", run="success")
    catalog = Catalog()
    svc = catalog.add("svc", "acme/svc")
    clock = Clock()
    poller = poller_for(fake, catalog, clock)
    fake.fail_next("GET", r"^/repos/acme/svc$", 429, headers={"Retry-After": "86400"})
    try:
        started = clock.now
        await poller.poll_once()
        assert [s for _, s in calls(fake)] == [429, 200, 200]
        assert MAX_WAIT <= clock.now - started < MAX_WAIT + 10
        assert poller.answer(svc) is not None
    finally:
        await poller.stop()


def limited_github(seen: list[str]) -> ClientFactory:
    """A GitHub (httpx.MockTransport) that holds token `old` for 3000 s and answers any
    other: a repository with no runs."""

    def handle(request: httpx.Request) -> httpx.Response:
        token = request.headers["authorization"].split()[-1]
        seen.append(token)
        if token == "old":
            body = {"message": "You have exceeded a secondary rate limit."}
            return httpx.Response(429, headers={"Retry-After": "3000"}, json=body)
        if request.url.path.endswith("/actions/runs"):
            return httpx.Response(200, json={"total_count": 0, "workflow_runs": []})
        return httpx.Response(200, json={"default_branch": "main", "archived": False})

    transport = httpx.MockTransport(handle)
    return lambda url, token: GitHubPollClient(url, token, transport=transport)


def real_time_poller(catalog: Catalog, access: Access, seen: list[str]) -> GitHubPoller:
    return poller_for("https://api.github.test", catalog, None, access, client=limited_github(seen))


async def held(poller: GitHubPoller) -> None:
    assert poller.budget.hold_until > time.monotonic() + 1000


async def test_stop_ends_a_long_hold_at_once() -> None:
    catalog = Catalog()
    catalog.add("svc", "acme/svc")
    poller = real_time_poller(catalog, Access("old"), [])
    poller.start()
    try:
        await eventually_async(lambda: held(poller), within=10)
        await asyncio.sleep(0.05)  # the round waits inside the hold now
    finally:
        started = time.monotonic()
        await poller.stop()
    assert time.monotonic() - started < 1.0


async def test_a_wake_cuts_a_hold_short_and_a_new_token_is_not_held(
    caplog: pytest.LogCaptureFixture,
) -> None:
    catalog = Catalog()
    svc = catalog.add("svc", "acme/svc")
    access, seen = Access("old"), list[str]()
    poller = real_time_poller(catalog, access, seen)
    poller.start()
    try:
        await eventually_async(lambda: held(poller), within=10)
        await asyncio.sleep(0.05)

        async def answered() -> None:
            assert poller.answer(svc) is not None

        access.value = "new"  # a new token: GitHub's hold was about the old one
        with caplog.at_level(logging.INFO, logger="portico.github_poll"):
            poller.wake()
            await eventually_async(answered, within=5)
        assert "woken during a wait" in caplog.text
        assert seen[0] == "old"
        assert set(seen[1:]) <= {"old", "new"}
        assert seen[-1] == "new"
    finally:
        await poller.stop()


async def test_interrupt_cuts_every_held_waiter_short_and_release_ends_the_hold() -> None:
    budget = Budget(time.monotonic, asyncio.sleep)
    budget.configure(4000, 6000)
    budget.hold(3000)
    waiters = [asyncio.create_task(budget.acquire()) for _ in range(3)]
    await asyncio.sleep(0.05)
    assert not any(w.done() for w in waiters)
    started = time.monotonic()
    budget.interrupt()
    results = await asyncio.gather(*waiters, return_exceptions=True)
    assert time.monotonic() - started < 1.0
    assert all(isinstance(r, Interrupted) for r in results), results
    budget.release()
    await asyncio.wait_for(budget.acquire(), 1.0)  # after the interrupt, without a hold

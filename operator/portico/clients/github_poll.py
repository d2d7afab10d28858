"""Conditional GETs against GitHub's REST API, for the polls (reconcilers/github_poll.py).

One long-lived `httpx.AsyncClient` per token and URL: explicit timeouts, an injectable
transport for tests, the headers GitHub asks for (a Bearer token, `application/vnd.github+json`,
the API version). A GET carries `If-None-Match` when the caller has an ETag: GitHub answers
304 without a body when nothing changed, and a 304 does not count against the rate limit
(https://docs.github.com/rest/using-the-rest-api/best-practices-for-using-the-rest-api).

Every HTTP answer is returned, not raised: the caller tells a 404 (deleted), a 403 (refused, or
a rate limit) and a 5xx apart, with the rate-limit headers. Only a request that got no answer
raises (`TransientError`). The token never leaves the client's headers: no message names it.

No wait is longer than `MAX_WAIT` (an hour, GitHub's own rate-limit window): not a
Retry-After, not a reset time, not a hold, whatever a header (or a proxy, or a clock that
jumped) says. A hold can be cut short (`Budget.interrupt`, when the configuration changes)
and every wait ends at once when the task waiting is cancelled (the poller's stop()).
"""

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from portico.errors import ExternalError, TransientError

SYSTEM = "github"
API_VERSION = "2022-11-28"
MESSAGE_LIMIT = 200
SECONDARY_WAIT = 60.0  # GitHub: without Retry-After, "wait for at least one minute"
MAX_WAIT = 3600.0  # seconds: the longest any wait (a hold, a pause for a token) may last
INTERRUPTIBLE = 1.0  # seconds: a wait this long or longer (a hold, an empty bucket) races


class Interrupted(Exception):
    """A hold was cut short (`Budget.interrupt`): the caller ends its round and starts over."""


@dataclass(frozen=True)
class RateInfo:
    """GitHub's X-RateLimit-* headers and Retry-After (None where absent: GitHub Enterprise
    Server without rate limits sends none)."""

    limit: int | None = None
    remaining: int | None = None
    reset: float | None = None  # epoch seconds
    retry_after: float | None = None  # seconds

    @classmethod
    def of(cls, headers: httpx.Headers) -> "RateInfo":
        return cls(
            limit=_number(headers.get("x-ratelimit-limit")),
            remaining=_number(headers.get("x-ratelimit-remaining")),
            reset=_number(headers.get("x-ratelimit-reset")),
            retry_after=_retry_after(headers.get("retry-after")),
        )


@dataclass(frozen=True)
class PollAnswer:
    """One answer: status, the JSON body of a 200 (None otherwise), the ETag to send next
    time, the rate-limit headers and, for an error, GitHub's message (truncated)."""

    status: int
    body: Any
    etag: str | None
    rate: RateInfo
    message: str = ""

    @property
    def not_modified(self) -> bool:
        return self.status == 304


class GitHubPollClient:
    def __init__(
        self,
        api_url: str,
        token: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self._http = httpx.AsyncClient(
            base_url=self.api_url,
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": API_VERSION,
                "User-Agent": "portico",
            },
            timeout=httpx.Timeout(timeout, connect=5.0),
            transport=transport,
            follow_redirects=True,  # a renamed repository answers 301 to its new place
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def get(
        self, path: str, *, params: dict[str, str] | None = None, etag: str | None = None
    ) -> PollAnswer:
        headers = {"If-None-Match": etag} if etag else {}
        try:
            response = await self._http.get(path, params=params, headers=headers)
        except httpx.TransportError as e:
            raise TransientError(
                SYSTEM, f"{self.api_url} is unreachable ({type(e).__name__})"
            ) from e
        rate = RateInfo.of(response.headers)
        tag = response.headers.get("etag")
        if response.status_code == 304:
            return PollAnswer(304, None, tag or etag, rate)
        if response.status_code == 200:
            try:
                body = response.json()
            except ValueError as e:
                raise ExternalError(SYSTEM, f"GET {path}: not JSON", status=200) from e
            return PollAnswer(200, body, tag, rate)
        return PollAnswer(response.status_code, None, None, rate, _message(response))


def rate_limit_wait(
    answer: PollAnswer, now: float, per_hour: int, secondary: int = 0
) -> tuple[float | None, str | None]:
    """How long GitHub's answer says to stop, and why, as GitHub's REST docs say ("Rate
    limits for the REST API", exceeding them): a 403/429 with Retry-After waits that long;
    with X-RateLimit-Remaining 0 until X-RateLimit-Reset; a secondary limit without either
    a minute, doubling with each one in a row (`secondary`). Any other answer that leaves no
    more than the hour's limit minus `per_hour` requests waits for the reset too ("reserve":
    the rest is scaffolding's). (None, None): go on. Never longer than MAX_WAIT."""
    wait, why = _rate_limit_wait(answer, now, per_hour, secondary)
    return (min(wait, MAX_WAIT), why) if wait is not None else (None, None)


def _rate_limit_wait(
    answer: PollAnswer, now: float, per_hour: int, secondary: int
) -> tuple[float | None, str | None]:
    rate = answer.rate
    if answer.status in (403, 429):
        if rate.retry_after is not None:
            return rate.retry_after, "retry-after"
        if rate.remaining == 0 and rate.reset is not None:
            return max(1.0, rate.reset - now + 1.0), "primary"
        if answer.status == 429 or "rate limit" in answer.message.lower():
            return SECONDARY_WAIT * 2.0 ** min(secondary, 4), "secondary"
        return None, None
    left, limit, reset = rate.remaining, rate.limit, rate.reset
    if left is None or limit is None or reset is None or left > max(0, limit - per_hour):
        return None, None
    return max(1.0, reset - now + 1.0), "reserve"


class Budget:
    """The polls' request budgets: a token bucket for the requests GitHub counts (`per_hour`;
    a 304 gives its token back), even spacing for all (`per_minute`), and a hold when GitHub
    says to stop. Waiters queue on a lock, so they go out one by one.

    The bucket holds `BURST` seconds' worth (full at start), not the hour's: a bucket of
    the whole hour would let a catch-up (a start, the end of a hold) spend GitHub's hourly
    window in minutes, and then stop every poll, the free 304s too, until the window resets,
    again and again. A small bucket spends the hour evenly, and the 304s keep flowing.

    No wait is longer than MAX_WAIT. A wait of INTERRUPTIBLE or more (a hold, an empty
    bucket; not the spacing between requests) races `interrupt()`: it raises `Interrupted`
    at once, as do the long waits queued behind it, so a configuration change (a new token
    is a new rate-limit window) is not stuck behind the old hold. A cancelled waiter stops
    at once, whatever it waits for."""

    BURST = 300.0

    def __init__(self, clock: Callable[[], float], sleep: Callable[[float], Awaitable[None]]):
        self._clock, self._sleep = clock, sleep
        self._lock = asyncio.Lock()
        self.per_hour, self.per_minute = 1, 1
        self.tokens: float | None = None
        self._filled_at = clock()
        self._next = 0.0
        self.hold_until = 0.0
        self._interrupted = asyncio.Event()  # replaced by each interrupt()

    @property
    def capacity(self) -> float:
        return max(1.0, self.per_hour * self.BURST / 3600.0)

    def configure(self, per_hour: int, per_minute: int) -> None:
        self._refill()
        self.per_hour, self.per_minute = per_hour, per_minute
        self.tokens = self.capacity if self.tokens is None else min(self.tokens, self.capacity)

    def _refill(self) -> None:
        now = self._clock()
        if self.tokens is not None:
            gained = (now - self._filled_at) * self.per_hour / 3600.0
            self.tokens = min(self.capacity, self.tokens + gained)
        self._filled_at = now

    async def acquire(self) -> None:
        interrupted = self._interrupted  # an interrupt() from now on concerns this waiter
        async with self._lock:
            while True:
                self._refill()
                now, tokens = self._clock(), self.tokens or 0.0
                wait = max(
                    self.hold_until - now,
                    self._next - now,
                    (1.0 - tokens) * 3600.0 / self.per_hour if tokens < 1.0 else 0.0,
                )
                if wait < 1e-6:  # float dust: a refilled bucket may say 0.9999999
                    break
                if wait < INTERRUPTIBLE:  # the spacing between requests: not worth a race
                    await self._sleep(wait)
                    continue
                if interrupted.is_set():
                    raise Interrupted("a wait of the GitHub polls was cut short")
                await self._wait(min(wait, MAX_WAIT), interrupted)
            self.tokens = max(0.0, tokens - 1.0)
            self._next = now + 60.0 / self.per_minute

    async def _wait(self, seconds: float, interrupted: asyncio.Event) -> None:
        """Sleep `seconds`, or until `interrupted`; cancelled, both waits end."""
        waits = [
            asyncio.ensure_future(self._sleep(seconds)),
            asyncio.ensure_future(interrupted.wait()),
        ]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in waits:
                task.cancel()
            await asyncio.gather(*waits, return_exceptions=True)

    def interrupt(self) -> None:
        """Cut the long waits of this moment short: they raise `Interrupted` (a hold stays
        in force for later requests, until `release()` or its end)."""
        self._interrupted.set()
        self._interrupted = asyncio.Event()

    def release(self) -> None:
        """End the hold (GitHub's word about another token or another server)."""
        self.hold_until = 0.0

    def refund(self) -> None:
        self._refill()
        if self.tokens is not None:
            self.tokens = min(self.capacity, self.tokens + 1.0)

    def hold(self, seconds: float) -> bool:
        """Hold every request for `seconds`; True when this starts a hold (not extends one)."""
        now = self._clock()
        started = self.hold_until <= now
        self.hold_until = max(self.hold_until, now + min(seconds, MAX_WAIT))
        return started


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:MESSAGE_LIMIT]
    text = body.get("message") if isinstance(body, dict) else None
    return str(text if text is not None else body)[:MESSAGE_LIMIT]


def _number(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _retry_after(value: str | None) -> float | None:
    """Retry-After in seconds (GitHub sends seconds; an HTTP date is read too)."""
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None

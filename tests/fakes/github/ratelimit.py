"""The primary rate limit of the REST API's core resource, as GitHub reports it in the
``X-RateLimit-*`` headers of every response and in ``GET /rate_limit``. Every authenticated
request but ``GET /rate_limit`` spends one request of it, except a conditional request answered
``304 Not Modified``, which GitHub does not count (the server gives it back with :meth:`refund`,
see :mod:`fakes.github.conditional`)."""

from __future__ import annotations

import threading
import time

from fakes.github.errors import Json


class RateLimit:
    """The core rate-limit budget, reported in ``X-RateLimit-*`` headers."""

    def __init__(self, limit: int = 5000) -> None:
        self._lock = threading.Lock()
        self.limit = limit
        self.remaining = limit
        self.reset_at = time.time() + 3600

    def consume(self) -> bool:
        """Spend one request; False when the budget is exhausted (GitHub answers 403)."""
        with self._lock:
            if time.time() >= self.reset_at:
                self.remaining = self.limit
                self.reset_at = time.time() + 3600
            if self.remaining <= 0:
                return False
            self.remaining -= 1
            return True

    def refund(self) -> None:
        """Give back one spent request (a 304 is free). Never above the limit: a request spent
        before the window reset is not owed to the new window."""
        with self._lock:
            self.remaining = min(self.remaining + 1, self.limit)

    def set(self, remaining: int, reset_at: float, limit: int | None = None) -> None:
        with self._lock:
            self.limit = self.limit if limit is None else limit
            self.remaining = remaining
            self.reset_at = reset_at

    def json(self) -> Json:
        with self._lock:
            return {
                "limit": self.limit,
                "remaining": self.remaining,
                "reset": int(self.reset_at),
                "used": max(self.limit - self.remaining, 0),
                "resource": "core",
            }

    def headers(self) -> dict[str, str]:
        data = self.json()
        return {
            "X-RateLimit-Limit": str(data["limit"]),
            "X-RateLimit-Remaining": str(data["remaining"]),
            "X-RateLimit-Reset": str(data["reset"]),
            "X-RateLimit-Used": str(data["used"]),
            "X-RateLimit-Resource": "core",
        }

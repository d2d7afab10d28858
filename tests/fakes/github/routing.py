"""Routing: a parsed :class:`Request`, the :class:`Response` a handler returns, and the route
tables the handler modules fill with ``@routes(method, pattern)``. :mod:`fakes.github.api`
joins the tables in a fixed order; the first route whose method and pattern match wins."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fakes.github.errors import Json

if TYPE_CHECKING:
    from fakes.github.api import GitHubApi

REPO = r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)"


@dataclass(frozen=True)
class Request:
    """A parsed request, with the route's path parameters (already percent-decoded)."""

    method: str
    path: str
    query: dict[str, str]
    body: Json
    args: dict[str, str]


@dataclass
class Response:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[["GitHubApi", Request], Response]


@dataclass(frozen=True)
class Route:
    method: str
    regex: re.Pattern[str]
    handler: Handler


class Routes:
    """One handler module's routes, in the order they were declared."""

    def __init__(self) -> None:
        self.table: list[Route] = []

    def __call__(self, method: str, pattern: str) -> Callable[[Handler], Handler]:
        regex = re.compile(f"^{pattern}$")

        def register(fn: Handler) -> Handler:
            self.table.append(Route(method, regex, fn))
            return fn

        return register

"""Injected faults: the next matching requests answer with a chosen status, headers and body
(see :meth:`fakes.github.FakeGitHub.fail_next`)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from fakes.github.errors import DOCS_URL, Json
from fakes.github.routing import Response

DEFAULT_MESSAGES = {
    400: "Problems parsing JSON",
    401: "Bad credentials",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    422: "Validation Failed",
    429: (
        "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
    ),
    500: "Server Error",
    502: "Server Error",
    503: "Service Unavailable",
}


@dataclass
class Fault:
    """The next ``times`` requests matching ``method`` ("*": any) and ``pattern`` answer
    :meth:`response`; with ``apply`` the request is carried out first."""

    method: str
    pattern: re.Pattern[str]
    status: int
    times: int
    headers: dict[str, str]
    body: Json | None
    apply: bool

    def matches(self, method: str, path: str) -> bool:
        return self.times > 0 and self.method in ("*", method) and bool(self.pattern.search(path))

    def response(self) -> Response:
        body = self.body
        if body is None:
            message = DEFAULT_MESSAGES.get(self.status, "Error")
            body = {"message": message, "documentation_url": DOCS_URL}
        return Response(self.status, body, dict(self.headers))

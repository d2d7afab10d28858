"""Conditional requests, as GitHub documents them in "Best practices for using the REST API"
(https://docs.github.com/rest/using-the-rest-api/best-practices-for-using-the-rest-api#use-conditional-requests-if-appropriate)
and "Rate limits for the REST API"
(https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api):

* every ``200`` answer to a ``GET`` carries an ``ETag``, a strong validator derived from the
  body (a quoted SHA-256 of its bytes, so it changes exactly when the body does), with GitHub's
  ``Cache-Control`` and ``Vary``;
* a ``GET`` whose ``If-None-Match`` names the current ETag (or ``*``; a list and weak ``W/``
  tags compare as RFC 9110 section 13.1.2 says) gets ``304 Not Modified`` without a body,
  carrying the ``ETag`` and the rate-limit headers;
* such a ``304`` does not count against the primary rate limit (the server gives the request
  back, see :meth:`fakes.github.ratelimit.RateLimit.refund`). A request made at ``remaining``
  0 is still refused with 403 before it is looked at.

The handler of :class:`fakes.http.FakeServer` hands the fake only the method, path,
``Authorization`` and body, so :func:`capturing_headers` makes a handler class that also keeps
each request's headers in a :class:`RequestHeaders` for the thread serving it.

Not modelled: ``Last-Modified`` and ``If-Modified-Since`` (ignored, which HTTP allows: the
answer is then a 200); GitHub's ETags also depend on the token, and the fake has only one.
"""

from __future__ import annotations

import hashlib
import threading
from email.message import Message
from http.server import BaseHTTPRequestHandler
from typing import Any

from fakes.github.routing import Response

CACHE_HEADERS = {
    "Cache-Control": "private, max-age=60, s-maxage=60",
    "Vary": "Accept, Authorization, Cookie, X-GitHub-OTP",
}


class RequestHeaders(threading.local):
    """The headers of the request the current thread is serving (None outside a request)."""

    current: Message | None = None

    def get(self, name: str) -> str | None:
        return None if self.current is None else self.current.get(name)


def capturing_headers(handler: Any, store: RequestHeaders) -> type[BaseHTTPRequestHandler]:
    """``handler`` (a server's ``RequestHandlerClass``, a :class:`BaseHTTPRequestHandler`),
    keeping each request's headers in ``store`` once they are parsed: the same thread then
    answers the request, so ``store`` holds them while the fake serves it."""

    class Handler(handler):  # type: ignore[misc]
        def parse_request(self) -> bool:
            parsed: bool = super().parse_request()
            store.current = self.headers if parsed else None
            return parsed

    return Handler


def etag(payload: bytes) -> str:
    return f'"{hashlib.sha256(payload).hexdigest()}"'


def none_match(header: str | None, tag: str) -> bool:
    """Whether ``If-None-Match: header`` matches ``tag`` (so a GET is answered 304)."""
    if header is None:
        return False
    candidates = [part.strip() for part in header.split(",")]
    return "*" in candidates or tag in (c.removeprefix("W/") for c in candidates)


def revalidate(response: Response, payload: bytes, if_none_match: str | None) -> Response:
    """The answer to a GET that ``response`` (with body ``payload``) answers 200: with its
    ETag, or a bodiless 304 when ``if_none_match`` names it."""
    tag = etag(payload)
    if none_match(if_none_match, tag):
        return Response(304, None, {**CACHE_HEADERS, "ETag": tag})
    return Response(
        response.status, response.body, {**CACHE_HEADERS, **response.headers, "ETag": tag}
    )

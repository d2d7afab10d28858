"""GitHub's page-number pagination of list endpoints: ``per_page`` (default 30, at most 100)
and ``page`` (from 1), with a ``Link`` header naming the ``prev``, ``next``, ``last`` and
``first`` pages when the results do not fit on one page (it is left out when they do), as in
https://docs.github.com/en/rest/using-the-rest-api/using-pagination-in-the-rest-api."""

from __future__ import annotations

from typing import TypeVar
from urllib.parse import urlencode

T = TypeVar("T")

DEFAULT_PER_PAGE = 30
MAX_PER_PAGE = 100


def paginate(items: list[T], query: dict[str, str], url: str) -> tuple[list[T], dict[str, str]]:
    """The page of ``items`` that ``query`` asks for, and the headers to answer it with.
    ``url`` is the endpoint's URL without a query; the links keep the request's parameters."""
    per_page = min(_positive(query.get("per_page"), DEFAULT_PER_PAGE), MAX_PER_PAGE)
    page = _positive(query.get("page"), 1)
    last = max(-(-len(items) // per_page), 1)
    chunk = items[(page - 1) * per_page : page * per_page]
    rels = []
    if page > 1:
        rels.append(("prev", min(page - 1, last)))
    if page < last:
        rels += [("next", page + 1), ("last", last)]
    if page > 1:
        rels.append(("first", 1))
    if not rels:
        return chunk, {}
    links = [f'<{url}?{urlencode({**query, "page": n})}>; rel="{rel}"' for rel, n in rels]
    return chunk, {"Link": ", ".join(links)}


def _positive(value: str | None, default: int) -> int:
    try:
        number = int(value) if value is not None else default
    except ValueError:
        return default
    return number if number > 0 else default

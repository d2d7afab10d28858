"""Repository topics: ``GET|PUT /repos/{owner}/{repo}/topics`` (names checked and capped as
on GitHub)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from fakes.github.errors import invalid, missing
from fakes.github.routing import REPO, Request, Response, Routes

_TOPIC = re.compile(r"^[a-z0-9][a-z0-9-]{0,49}$")
_TOPIC_RULE = (
    "Topics must start with a lowercase letter or number, consist of 50 characters or less, "
    "and can include hyphens."
)
_MAX_TOPICS = 20

if TYPE_CHECKING:
    from fakes.github.api import GitHubApi

routes = Routes()


@routes("GET", REPO + r"/topics")
def get_topics(api: GitHubApi, req: Request) -> Response:
    return Response(200, {"names": list(api.repo(req).topics)})


@routes("PUT", REPO + r"/topics")
def replace_topics(api: GitHubApi, req: Request) -> Response:
    repo = api.writable_repo(req)
    names = req.body.get("names")
    if not isinstance(names, list):
        raise missing("Repository", "names")
    for name in names:
        if not isinstance(name, str) or not _TOPIC.match(name):
            raise invalid("Repository", "topics", _TOPIC_RULE)
    unique = list(dict.fromkeys(names))
    if len(unique) > _MAX_TOPICS:
        raise invalid(
            "Repository", "topics", f"A repository cannot have more than {_MAX_TOPICS} topics."
        )
    repo.topics = unique
    return Response(200, {"names": list(unique)})

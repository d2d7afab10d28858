"""Links a Component's status gives: its docs and its dashboard, from what Portico knows.

- Docs: Backstage's `backstage.io/techdocs-ref`. `url:<http(s) URL>` is the docs' location
  as it is; `dir:<path>` is a directory of the Component's repository, resolved against the
  repository Portico knows (scaffolded, `spec.source`, or `github.com/project-slug`) and
  its default branch: `https://github.com/<owner>/<repo>/tree/<branch>/<path>`. A path that
  leaves the repository, or a repository that is not on GitHub, gives no docs link (a
  `dir:` path has no standard web form elsewhere).
- Dashboard: the dashboard Portico made for the Component (`status.grafana.url`), else
  Backstage's `grafana/overview-dashboard` annotation when it is an http(s) URL.
"""

import posixpath
import re
from collections.abc import Mapping
from typing import Any

from portico.domain.delivery import github_repository

TECHDOCS_REF = "backstage.io/techdocs-ref"
OVERVIEW_DASHBOARD = "grafana/overview-dashboard"
_HTTP = re.compile(r"https?://[^\s/?#]+[^\s]*")


def docs_url(ref: str, repository: str | None, branch: str | None) -> str | None:
    kind, _, target = ref.strip().partition(":")
    if kind == "url":
        return target if _HTTP.fullmatch(target) else None
    if kind != "dir" or not repository:
        return None
    github = github_repository(repository)
    if github is None:
        return None
    path = posixpath.normpath(target or ".")
    if path.startswith(("/", "..")):
        return None
    owner, repo = github
    tail = "" if path == "." else f"{path}/"
    return f"https://github.com/{owner}/{repo}/tree/{branch or 'HEAD'}/{tail}"


def derived_links(
    annotations: Mapping[str, str], repository: str | None, status: Mapping[str, Any]
) -> list[dict[str, str]] | None:
    """status.links: the docs and dashboard links, or None when there are none."""
    links: list[dict[str, str]] = []
    ref = annotations.get(TECHDOCS_REF)
    branch = (status.get("repository") or {}).get("defaultBranch")
    docs = docs_url(ref, repository, branch) if ref else None
    if docs:
        links.append({"type": "docs", "title": "Docs", "url": docs})
    dashboard = (status.get("grafana") or {}).get("url") or annotations.get(OVERVIEW_DASHBOARD)
    if isinstance(dashboard, str) and _HTTP.fullmatch(dashboard):
        links.append({"type": "dashboard", "title": "Dashboard", "url": dashboard})
    return links or None

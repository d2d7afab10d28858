"""Links a Component's status gives: its docs and its dashboards, from what Portico knows.

- Docs: Backstage's `backstage.io/techdocs-ref`. `url:<http(s) URL>` is the docs' location
  as it is; `dir:<path>` is a directory of the Component's repository, resolved against the
  repository Portico knows (scaffolded, `spec.source`, or `github.com/project-slug`) and
  its default branch: `https://github.com/<owner>/<repo>/tree/<branch>/<path>`. A path that
  leaves the repository, or a repository that is not on GitHub, gives no docs link (a
  `dir:` path has no standard web form elsewhere).
- Dashboard: the dashboard Portico made for the Component (`status.grafana.url`), else
  Backstage's `grafana/overview-dashboard` annotation when it is an http(s) URL.
- Selected dashboards: those Backstage's `grafana/dashboard-selector` picks from Grafana's
  search (domain/dashboard_selector.py decides, reconcilers/dashboard_search.py searches),
  after the dashboard above, by title, at most `MAX_LINKS`; one already listed is not
  listed twice. The same dashboards give the same list, so an unchanged Grafana writes no
  status.
"""

import posixpath
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from portico.domain.dashboard_selector import Dashboard, Selector
from portico.domain.delivery import github_repository

TECHDOCS_REF = "backstage.io/techdocs-ref"
OVERVIEW_DASHBOARD = "grafana/overview-dashboard"
MAX_LINKS = 10  # dashboards a selector adds to status.links, the first by title
TITLE_MAX = 256  # status.links[].title's maxLength in the CRD
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
    annotations: Mapping[str, str],
    repository: str | None,
    status: Mapping[str, Any],
    selected: Sequence[Mapping[str, str]] | None = None,
) -> list[dict[str, str]] | None:
    """status.links: the docs and dashboard links, then the `selected` dashboards (the
    selector's matches, in their order), or None when there are none."""
    links: list[dict[str, str]] = []
    ref = annotations.get(TECHDOCS_REF)
    branch = (status.get("repository") or {}).get("defaultBranch")
    docs = docs_url(ref, repository, branch) if ref else None
    if docs:
        links.append({"type": "docs", "title": "Docs", "url": docs})
    dashboard = (status.get("grafana") or {}).get("url") or annotations.get(OVERVIEW_DASHBOARD)
    if isinstance(dashboard, str) and _HTTP.fullmatch(dashboard):
        links.append({"type": "dashboard", "title": "Dashboard", "url": dashboard})
    listed, added = {link["url"] for link in links}, 0
    for link in selected or ():
        if added == MAX_LINKS:
            break
        url = link.get("url")
        if isinstance(url, str) and _HTTP.fullmatch(url) and url not in listed:
            listed.add(url)
            added += 1
            links.append({"type": "dashboard", "title": str(link.get("title") or url), "url": url})
    return links or None


def select_dashboards(
    selector: Selector, dashboards: Iterable[Dashboard], limit: int = MAX_LINKS
) -> tuple[dict[str, str], ...]:
    """status.links entries for the dashboards `selector` matches: the first `limit` of
    `dashboards` (given by title), each titled as in Grafana (cut to the CRD's maximum)."""
    out: list[dict[str, str]] = []
    for dashboard in dashboards:
        if len(out) >= limit:
            break
        if selector.matches(dashboard):
            title = (dashboard.title or dashboard.uid)[:TITLE_MAX]
            out.append({"type": "dashboard", "title": title, "url": dashboard.url})
    return tuple(out)

"""Grafana's dashboards for Backstage's `grafana/dashboard-selector`, searched: one paged
`GET /api/search?type=dash-db` per (jittered) `grafana.searchIntervalSeconds` for the whole
catalog, and only the Components whose selected dashboards changed re-queued. What each
Component selects is kept in memory; the links step reads it (`matches`) and
portico.domain.dashboard_selector decides.

The search runs only while Grafana is configured and some Component carries a valid selector;
a Component that gains one while the poller idles wakes it (`matches`). A search reads at most
`max_pages` pages of `page_size` dashboards (5,000 by default); a Grafana with more is
searched that far and a warning logged. Selectors are evaluated one at a time, yielding to the
event loop between them, and a selector text shared by many Components is evaluated once.

Until the first search of the Grafana in force has answered (a restart, a new grafana.url, an
outage), a Component keeps the dashboards its status lists, so a restart does not empty and
refill every status.links; after an outage the last answer stays in force.

The loop runs under `supervise` (an unexpected exception is logged and the loop restarted);
`stop` cancels it and closes the client."""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from portico.clients.grafana import SEARCH_MAX_PAGES, SEARCH_PAGE_SIZE, GrafanaClient
from portico.domain.dashboard_selector import (
    Dashboard,
    Selector,
    compile_selector,
    dashboards_from_hits,
    selector_annotation,
)
from portico.domain.entity import EntityView
from portico.domain.links import select_dashboards
from portico.domain.refs import EntityKey
from portico.errors import PorticoError
from portico.metrics import EXTERNAL_CALLS
from portico.models.config import OperatorConfig
from portico.reconcilers.poll_loop import PollLoop

log = logging.getLogger("portico.dashboard_search")

Links = tuple[dict[str, str], ...]
# The Secret's name (grafana.tokenSecret) -> its token, or None when it is missing; the engine
# binds reconcilers.secrets.read_token to its kube client and namespace.
TokenReader = Callable[[str], Awaitable[str | None]]
ClientFactory = Callable[[str, str], GrafanaClient]  # (url, token); tests pass a fake's


class DashboardSearch(PollLoop):
    name = "dashboard-search"

    def __init__(
        self,
        config: Callable[[], OperatorConfig],
        token: TokenReader,
        components: Callable[[], Iterable[EntityView]],
        requeue: Callable[[EntityKey], None],
        *,
        client: ClientFactory = GrafanaClient,
        page_size: int = SEARCH_PAGE_SIZE,
        max_pages: int = SEARCH_MAX_PAGES,
    ) -> None:
        super().__init__()
        self._config = config
        self._token = token
        self._components = components
        self._requeue = requeue
        self._new_client = client
        self._page_size = page_size
        self._max_pages = max_pages
        self._client: tuple[tuple[str, str], GrafanaClient] | None = None
        self._dashboards: tuple[Dashboard, ...] | None = None  # the last search's answer
        self._source: str | None = None  # the grafana.url it came from
        self._results: dict[EntityKey, tuple[str, Links]] = {}  # (selector text, its links)
        self._idle = True  # the last round did not search: nothing selected, or no Grafana
        self.error: str | None = "not searched yet"
        self._failing = False  # the last search failed (and was logged)
        self.truncated = False
        self.searches = 0

    # --- lifecycle ----------------------------------------------------------------
    def interval(self) -> float:
        return self._config().grafana.search_interval_seconds

    async def close(self) -> None:
        if self._client is not None:
            await self._client[1].aclose()
            self._client = None

    # --- what the links step reads --------------------------------------------------
    def matches(self, view: EntityView) -> list[dict[str, str]] | None:
        """status.links entries for the dashboards the Component's selector matches, or None:
        no selector (or an invalid one, which the links step reports), no Grafana."""
        found = selector_annotation(view.annotations)
        url = self._config().grafana.url
        if found is None or url is None or view.key.kind != "component":
            return None
        compiled = compile_selector(found[1])
        if not isinstance(compiled, Selector):
            return None
        base = url.rstrip("/")
        if self._dashboards is None or self._source != base:
            if self._idle or self._source is not None:
                self._idle = False
                self.wake()
            return _listed(view.status)  # not searched yet: keep what the status says
        known = self._results.get(view.key)
        if known is None or known[0] != found[1]:  # a new or edited selector: one evaluation
            known = (found[1], select_dashboards(compiled, self._dashboards))
            self._results[view.key] = known
        return [dict(link) for link in known[1]]

    # --- the search -----------------------------------------------------------------
    async def poll_once(self) -> None:
        grafana = self._config().grafana
        base = grafana.url.rstrip("/") if grafana.url else None
        if self._source is not None and self._source != base:
            self._forget()  # another Grafana's dashboards (or none configured now)
        if base is None:
            self._idle = True
            self.error = "no Grafana configured (grafana.url in portico-config)"
            return
        wanted = self._selectors()
        if not wanted:
            self._idle = True
            self._results.clear()
            return
        self._idle = False
        try:
            client = await self._client_for(base, grafana.token_secret)
            result = await client.search_dashboards(
                page_size=self._page_size, max_pages=self._max_pages
            )
            EXTERNAL_CALLS.labels("grafana", "success").inc()
        except PorticoError as e:
            EXTERNAL_CALLS.labels("grafana", "error").inc()
            error = f"cannot search Grafana's dashboards: {e}"
            if error != self.error:
                log.warning("dashboard search: %s", error)
            self._failing, self.error = True, error
            return
        self.searches += 1
        if self._failing:
            log.info("dashboard search: Grafana answers again")
        self._failing, self.error = False, None
        if result.truncated and not self.truncated:
            log.warning(
                "Grafana has %d dashboards or more: selectors see only those %d, the first by "
                "title (a search reads at most %d pages of %d)",
                len(result.hits),
                len(result.hits),
                self._max_pages,
                self._page_size,
            )
        self.truncated = result.truncated
        dashboards = dashboards_from_hits(result.hits, base)
        changed = dashboards != self._dashboards or self._source != base
        self._dashboards, self._source = dashboards, base
        await self._refresh(wanted, changed)

    def _selectors(self) -> dict[EntityKey, tuple[str, Selector]]:
        """The Components with a valid selector, and it."""
        out: dict[EntityKey, tuple[str, Selector]] = {}
        for view in self._components():
            if view.key.kind != "component" or view.deleting:
                continue
            found = selector_annotation(view.annotations)
            if found is None:
                continue
            compiled = compile_selector(found[1])
            if isinstance(compiled, Selector):
                out[view.key] = (found[1], compiled)
        return out

    async def _refresh(
        self, wanted: Mapping[EntityKey, tuple[str, Selector]], changed: bool
    ) -> None:
        """Each Component's links from the new answer; re-queue those whose links moved."""
        dashboards = self._dashboards
        assert dashboards is not None
        by_text: dict[str, Links] = {}
        fresh: dict[EntityKey, tuple[str, Links]] = {}
        for key, (text, selector) in wanted.items():
            known = self._results.get(key)
            if not changed and known is not None and known[0] == text:
                fresh[key] = known
                continue
            links = by_text.get(text)
            if links is None:
                links = by_text[text] = select_dashboards(selector, dashboards)
                await asyncio.sleep(0)  # one selector at a time: the loop stays responsive
            fresh[key] = (text, links)
            if known is None or known[1] != links:
                self._requeue(key)
        self._results = fresh

    def _forget(self) -> None:
        for key, (_, links) in self._results.items():
            if links:
                self._requeue(key)
        self._results = {}
        self._dashboards = self._source = None

    async def _client_for(self, base: str, secret: str) -> GrafanaClient:
        token = await self._token(secret)
        if token is None:
            raise PorticoError(f"Secret {secret} (key token) in Portico's namespace is missing")
        key = (base, token)
        if self._client is None or self._client[0] != key:
            old = self._client
            self._client = (key, self._new_client(base, token))
            if old is not None:  # a rotated token or a new URL
                await old[1].aclose()
        return self._client[1]


def _listed(status: Mapping[str, Any]) -> list[dict[str, str]]:
    """The dashboard links a status lists (the links step drops Portico's own, listed first
    anyway): what a Component keeps until the first search of its Grafana answers."""
    links = status.get("links") or []
    return [
        {"type": "dashboard", "title": str(link.get("title") or ""), "url": str(link["url"])}
        for link in links
        if isinstance(link, Mapping) and link.get("type") == "dashboard" and link.get("url")
    ]

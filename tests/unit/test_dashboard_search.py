"""The dashboard-selector poller against the Grafana contract fake over HTTP: one paged search
for the whole catalog; only the Components whose matches changed are re-queued; the page cap;
no search without Grafana or without a valid selector; a failed search keeps the last answer;
until the first answer a Component keeps the links its status lists; a new URL forgets the
old Grafana; a selector shared by many Components is evaluated once; the loop wakes, and stops
with its client closed."""

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from fakes.grafana import FakeGrafana
from portico.clients.grafana import GrafanaClient
from portico.domain.entity import EntityView, view_from_body
from portico.domain.links import select_dashboards
from portico.domain.refs import EntityKey
from portico.models.config import GrafanaConfig, OperatorConfig
from portico.reconcilers.dashboard_search import DashboardSearch
from support.poll import eventually_async


@pytest.fixture
def fake() -> Iterator[FakeGrafana]:
    with FakeGrafana() as server:
        yield server
    server.assert_no_internal_errors()


def save(fake: FakeGrafana, uid: str, title: str, *tags: str, folder: str | None = None) -> None:
    headers = {"Authorization": f"Bearer {fake.token}"}
    with httpx.Client(base_url=fake.base_url, headers=headers, timeout=5) as http:
        if folder and http.get(f"/api/folders/{folder}").status_code == 404:
            http.post("/api/folders", json={"uid": folder, "title": folder.title()})
        body: dict[str, Any] = {"dashboard": {"uid": uid, "title": title, "tags": list(tags)}}
        if folder:
            body["folderUid"] = folder
        response = http.post("/api/dashboards/db", json=body)
        assert response.status_code == 200, response.text


def component(
    name: str, selector: str | None = None, status: dict[str, Any] | None = None
) -> EntityView:
    notes = {"grafana/dashboard-selector": selector} if selector is not None else {}
    body = {
        "metadata": {"name": name, "namespace": "shop", "annotations": notes},
        "spec": {"type": "service", "lifecycle": "production", "owner": "group:team"},
        "status": status or {},
    }
    return view_from_body("Component", body)


def link(fake: FakeGrafana, uid: str, title: str) -> dict[str, str]:
    slug = title.lower().replace(" ", "-")
    return {"type": "dashboard", "title": title, "url": f"{fake.base_url}/d/{uid}/{slug}"}


class Catalog:
    """The poller's collaborators: the configuration, the Components, the re-queued keys."""

    def __init__(self, fake: FakeGrafana, **grafana: Any) -> None:
        self.fake = fake
        self.config = OperatorConfig(grafana=GrafanaConfig(url=fake.base_url, **grafana))
        self.views: dict[EntityKey, EntityView] = {}
        self.requeued: list[EntityKey] = []
        self.token: str | None = fake.token
        self.tokens_read: list[str] = []

    def add(self, *views: EntityView) -> None:
        for view in views:
            self.views[view.key] = view

    async def read_token(self, secret: str) -> str | None:
        self.tokens_read.append(secret)
        return self.token

    def poller(self, **kwargs: Any) -> DashboardSearch:
        return DashboardSearch(
            lambda: self.config,
            self.read_token,
            lambda: list(self.views.values()),
            self.requeued.append,
            **kwargs,
        )

    def taken(self) -> set[str]:
        names = {key.name for key in self.requeued}
        self.requeued.clear()
        return names

    def searches(self) -> int:
        return sum(1 for c in self.fake.calls if c.path == "/api/search")


async def test_only_the_components_whose_matches_changed_are_requeued(fake: FakeGrafana) -> None:
    save(fake, "a1", "Checkout API", "checkout", folder="team-a")
    save(fake, "x1", "Unrelated", "other")
    catalog = Catalog(fake)
    checkout = component("checkout", "tags @> 'checkout'")
    ledger = component("ledger", "ledger")  # a bare word: the tag
    plain = component("plain")
    broken = component("broken", "tags @> 'x' and")
    catalog.add(checkout, ledger, plain, broken)
    poller = catalog.poller()
    try:
        await poller.poll_once()
        assert catalog.searches() == 1
        # The first answer: every Component with a valid selector, whose status may list
        # what a previous run found.
        assert catalog.taken() == {"checkout", "ledger"}
        assert poller.matches(checkout) == [link(fake, "a1", "Checkout API")]
        assert poller.matches(ledger) == []
        assert poller.matches(plain) is None
        assert poller.matches(broken) is None  # the links step reports it
        assert catalog.tokens_read == ["portico-grafana-token"]

        await poller.poll_once()  # nothing changed in Grafana
        assert catalog.searches() == 2
        assert catalog.taken() == set()

        save(fake, "l1", "Ledger", "ledger")
        save(fake, "x2", "Also unrelated", "other")
        await poller.poll_once()
        assert catalog.taken() == {"ledger"}
        assert poller.matches(ledger) == [link(fake, "l1", "Ledger")]

        save(fake, "a0", "Checkout A", "checkout")  # sorts first
        await poller.poll_once()
        assert catalog.taken() == {"checkout"}
        assert [m["title"] for m in poller.matches(checkout) or []] == [
            "Checkout A",
            "Checkout API",
        ]
    finally:
        await poller.stop()


async def test_paging_and_the_cap(fake: FakeGrafana) -> None:
    for i in range(5):
        save(fake, f"d{i}", f"Svc {i}", "svc")
    catalog = Catalog(fake)
    svc = component("svc", "svc")
    catalog.add(svc)
    whole = catalog.poller(page_size=2, max_pages=3)
    capped = catalog.poller(page_size=2, max_pages=2)
    try:
        await whole.poll_once()
        assert catalog.searches() == 3  # 2 + 2 + 1: the short page ends it
        assert not whole.truncated
        assert [m["title"] for m in whole.matches(svc) or []] == [f"Svc {i}" for i in range(5)]

        await capped.poll_once()
        assert catalog.searches() == 3 + 2  # never past the cap
        assert capped.truncated
        assert [m["title"] for m in capped.matches(svc) or []] == [f"Svc {i}" for i in range(4)]
    finally:
        await whole.stop()
        await capped.stop()


async def test_no_search_without_grafana_or_without_a_valid_selector(fake: FakeGrafana) -> None:
    catalog = Catalog(fake)
    catalog.add(component("plain"), component("broken", "((("))
    poller = catalog.poller()
    try:
        await poller.poll_once()
        assert catalog.searches() == 0
        assert catalog.tokens_read == []

        wants = component("wants", "svc")
        catalog.add(wants)
        catalog.config = OperatorConfig()  # no grafana.url
        await poller.poll_once()
        assert catalog.searches() == 0
        assert poller.matches(wants) is None
        assert poller.error == "no Grafana configured (grafana.url in portico-config)"

        catalog.config = OperatorConfig(grafana=GrafanaConfig(url=fake.base_url))
        await poller.poll_once()
        assert catalog.searches() == 1
        assert poller.matches(wants) == []
        assert poller.error is None
    finally:
        await poller.stop()


async def test_a_failed_search_keeps_the_last_answer(fake: FakeGrafana) -> None:
    save(fake, "a1", "Checkout API", "checkout")
    catalog = Catalog(fake)
    checkout = component("checkout", "checkout")
    catalog.add(checkout)
    poller = catalog.poller()
    try:
        await poller.poll_once()
        catalog.taken()
        found = poller.matches(checkout)
        assert found == [link(fake, "a1", "Checkout API")]

        fake.fail_next("GET", "^/api/search$", 403)
        await poller.poll_once()
        assert poller.error is not None
        assert "cannot search Grafana's dashboards" in poller.error
        assert poller.matches(checkout) == found
        assert catalog.taken() == set()

        catalog.token = None  # the Secret went away
        await poller.poll_once()
        assert "Secret portico-grafana-token (key token)" in (poller.error or "")
        assert poller.matches(checkout) == found

        catalog.token = fake.token
        await poller.poll_once()
        assert poller.error is None
        assert catalog.taken() == set()  # the same answer as before the outage
    finally:
        await poller.stop()


async def test_an_answer_that_is_not_json_is_an_error_not_a_crash(fake: FakeGrafana) -> None:
    def html(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="<html>login</html>")

    catalog = Catalog(fake)
    catalog.add(component("checkout", "checkout"))
    poller = catalog.poller(
        client=lambda url, token: GrafanaClient(url, token, transport=httpx.MockTransport(html))
    )
    try:
        await poller.poll_once()
        assert "the answer is not JSON" in (poller.error or "")
    finally:
        await poller.stop()


async def test_until_the_first_answer_a_component_keeps_its_links(fake: FakeGrafana) -> None:
    catalog = Catalog(fake)
    listed = [
        {"type": "docs", "title": "Docs", "url": "https://docs.example/x"},
        {"type": "dashboard", "title": "Old", "url": f"{fake.base_url}/d/old/old"},
    ]
    checkout = component("checkout", "checkout", {"links": listed})
    poller = catalog.poller()
    try:
        await poller.poll_once()  # nothing selected yet (the catalog is empty): idle
        assert catalog.searches() == 0
        catalog.add(checkout)
        assert poller.matches(checkout) == [listed[1]]  # kept, and the poller woken
        assert poller._wake.is_set()
        poller._wake.clear()
        assert poller.matches(checkout) == [listed[1]]
        assert not poller._wake.is_set()  # woken once, not on every reconcile

        await poller.poll_once()
        assert catalog.taken() == {"checkout"}
        assert poller.matches(checkout) == []
    finally:
        await poller.stop()


async def test_an_edited_selector_is_answered_from_the_last_search(fake: FakeGrafana) -> None:
    save(fake, "a1", "Checkout API", "checkout")
    save(fake, "l1", "Ledger", "ledger")
    catalog = Catalog(fake)
    catalog.add(component("svc", "checkout"))
    poller = catalog.poller()
    try:
        await poller.poll_once()
        assert catalog.taken() == {"svc"}
        edited = component("svc", "tags @> 'ledger'")
        catalog.add(edited)
        assert poller.matches(edited) == [link(fake, "l1", "Ledger")]
        assert catalog.searches() == 1
        await poller.poll_once()
        assert catalog.taken() == set()  # the status already says so
    finally:
        await poller.stop()


async def test_a_new_grafana_url_forgets_the_old_grafana(fake: FakeGrafana) -> None:
    save(fake, "a1", "Checkout API", "checkout")
    catalog = Catalog(fake)
    checkout, empty = component("checkout", "checkout"), component("empty", "nothing")
    catalog.add(checkout, empty)
    poller = catalog.poller()
    with FakeGrafana(token=fake.token) as other:
        try:
            await poller.poll_once()
            catalog.taken()
            catalog.config = OperatorConfig(grafana=GrafanaConfig(url=other.base_url))
            assert poller.matches(checkout) == []  # its status lists nothing: kept
            assert poller._wake.is_set()
            await poller.poll_once()
            assert catalog.taken() == {"checkout", "empty"}
            assert poller.matches(checkout) == []
            assert [c.path for c in other.calls] == ["/api/search"]
        finally:
            await poller.stop()
        other.assert_no_internal_errors()


async def test_a_selector_shared_by_many_components_is_evaluated_once(
    fake: FakeGrafana, monkeypatch: pytest.MonkeyPatch
) -> None:
    save(fake, "a1", "Checkout API", "checkout")
    catalog = Catalog(fake)
    catalog.add(*(component(f"c{i}", "checkout") for i in range(50)), component("x", "other"))
    evaluated: list[str] = []

    def counting(selector: Any, dashboards: Any) -> Any:
        evaluated.append(selector.text)
        return select_dashboards(selector, dashboards)

    monkeypatch.setattr("portico.reconcilers.dashboard_search.select_dashboards", counting)
    poller = catalog.poller()
    try:
        await poller.poll_once()
        assert sorted(evaluated) == ["checkout", "other"]
        assert len(catalog.taken()) == 51
    finally:
        await poller.stop()


async def test_the_loop_searches_on_wake_and_stops_with_its_client_closed(
    fake: FakeGrafana,
) -> None:
    catalog = Catalog(fake, search_interval_seconds=3600)
    catalog.add(component("checkout", "checkout"))
    poller = catalog.poller()
    poller.start()
    try:
        await eventually_async(_searched(catalog, 1))  # at once on start
        save(fake, "a1", "Checkout API", "checkout")
        poller.wake()
        await eventually_async(_searched(catalog, 2))
        await eventually_async(_requeued(catalog, "checkout"))
    finally:
        await poller.stop()
    assert poller._client is None
    await asyncio.sleep(0.05)
    assert catalog.searches() == 2  # stopped: nothing more


def _searched(catalog: Catalog, count: int) -> Any:
    async def check() -> None:
        assert catalog.searches() == count

    return check


def _requeued(catalog: Catalog, name: str) -> Any:
    async def check() -> None:
        assert name in {key.name for key in catalog.requeued}

    return check

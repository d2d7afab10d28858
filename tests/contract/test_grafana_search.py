"""Contract test: the Grafana fake's ``GET /api/search`` against Grafana's "Folder/Dashboard
Search API" (docs and ``pkg/api/search.go``), and Portico's paged search client against it.

Covered: paging (``limit`` default 1000, invalid -> default, above 5000 -> 422; ``page`` from
1, invalid -> 1), the hit shape at the root and in a folder, ``type``, ``tag``, ``query``,
``dashboardUIDs``/``dashboardUID``/``dashboardIds``, ``folderUIDs``/``folderIds`` (and both
forms at once -> 400), ``starred``; then ``GrafanaClient.search_dashboards``: every page read,
the page cap, a failed page, an answer that is not a list.
"""

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from fakes.grafana import FakeGrafana
from portico.clients.grafana import GrafanaClient
from portico.errors import ExternalError, RejectedError


@pytest.fixture
def fake() -> Iterator[FakeGrafana]:
    with FakeGrafana() as server:
        yield server
    server.assert_no_internal_errors()


@pytest.fixture
def client(fake: FakeGrafana) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {fake.token}"}
    with httpx.Client(base_url=fake.base_url, headers=headers, timeout=5) as http:
        yield http


def _folder(client: httpx.Client, uid: str, title: str) -> dict[str, Any]:
    response = client.post("/api/folders", json={"uid": uid, "title": title})
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def _dashboard(
    client: httpx.Client, uid: str, title: str, tags: list[str], folder: str | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"dashboard": {"uid": uid, "title": title, "tags": tags}}
    if folder:
        body["folderUid"] = folder
    response = client.post("/api/dashboards/db", json=body)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def _uids(client: httpx.Client, **params: Any) -> list[str]:
    response = client.get("/api/search", params=params)
    assert response.status_code == 200, response.text
    return [hit["uid"] for hit in response.json()]


def test_paging_by_limit_and_page(client: httpx.Client) -> None:
    for i in range(7):
        _dashboard(client, f"d{i}", f"Dash {i}", [])
    everything = [f"d{i}" for i in range(7)]
    assert _uids(client, type="dash-db") == everything  # default limit: 1000
    pages = [_uids(client, type="dash-db", limit=3, page=p) for p in (1, 2, 3, 4)]
    assert pages == [everything[:3], everything[3:6], everything[6:], []]
    assert _uids(client, type="dash-db", limit=3) == everything[:3]  # page defaults to 1
    # Not a number, or below 1: Grafana's defaults (limit 1000, page 1), not an error.
    assert _uids(client, type="dash-db", limit="many") == everything
    assert _uids(client, type="dash-db", limit=0) == everything
    assert _uids(client, type="dash-db", limit=3, page="x") == everything[:3]
    assert _uids(client, type="dash-db", limit=3, page=0) == everything[:3]
    assert _uids(client, type="dash-db", limit=5000) == everything

    over = client.get("/api/search", params={"type": "dash-db", "limit": 5001})
    assert over.status_code == 422
    assert over.json()["message"].startswith("Limit is above maximum allowed (5000)")


def test_hits_at_the_root_and_in_a_folder(client: httpx.Client) -> None:
    folder = _folder(client, "team-a", "Team A")
    saved = _dashboard(client, "svc", "Checkout API", ["checkout", "generated"], "team-a")
    root = _dashboard(client, "top", "Overview", [])

    [in_folder, at_root] = client.get("/api/search", params={"type": "dash-db"}).json()
    assert in_folder == {
        "id": saved["id"],
        "uid": "svc",
        "orgId": 1,
        "title": "Checkout API",
        "uri": "db/checkout-api",
        "url": "/d/svc/checkout-api",
        "slug": "",
        "type": "dash-db",
        "tags": ["checkout", "generated"],
        "isStarred": False,
        "sortMeta": 0,
        "folderId": folder["id"],
        "folderUid": "team-a",
        "folderTitle": "Team A",
        "folderUrl": "/dashboards/f/team-a/team-a",
    }
    assert at_root["uid"] == "top"
    assert at_root["url"] == root["url"] == "/d/top/overview"
    assert not {"folderId", "folderUid", "folderTitle", "folderUrl"} & set(at_root)


def test_filters(client: httpx.Client) -> None:
    team_a = _folder(client, "team-a", "Team A")
    _dashboard(client, "a1", "Alpha API", ["svc", "api"], "team-a")
    a2 = _dashboard(client, "a2", "Alpha Worker", ["svc"], "team-a")
    _dashboard(client, "r1", "Root", ["api"])

    assert _uids(client) == ["team-a", "a1", "a2", "r1"]  # folders first, then by title
    assert _uids(client, type="dash-folder") == ["team-a"]
    assert _uids(client, tag="api") == ["a1", "r1"]  # a tag leaves folders out
    assert _uids(client, tag=["svc", "api"]) == ["a1"]
    assert _uids(client, type="dash-db", query="alpha") == ["a1", "a2"]
    assert _uids(client, type="dash-db", dashboardUIDs=["a2", "r1"]) == ["a2", "r1"]
    assert _uids(client, type="dash-db", dashboardUID="a1") == ["a1"]  # deprecated name
    # The deprecated name counts only when dashboardUIDs is absent (Grafana's handler).
    assert _uids(client, type="dash-db", dashboardUIDs="a2", dashboardUID="a1") == ["a2"]
    assert _uids(client, type="dash-db", dashboardIds=a2["id"]) == ["a2"]
    assert _uids(client, type="dash-db", dashboardIds="nonsense") == ["a1", "a2", "r1"]
    assert _uids(client, type="dash-db", folderUIDs="general") == ["r1"]
    assert _uids(client, type="dash-db", folderIds=0) == ["r1"]
    assert _uids(client, type="dash-db", folderIds=team_a["id"]) == ["a1", "a2"]
    assert _uids(client, type="dash-db", starred="true") == []  # the fake stars nothing
    assert _uids(client, type="dash-db", starred="false") == ["a1", "a2", "r1"]

    both_forms: list[dict[str, Any]] = [
        {"dashboardIds": a2["id"], "dashboardUIDs": "a2"},
        {"folderIds": 0, "folderUIDs": "x"},
    ]
    for both in both_forms:
        refused = client.get("/api/search", params=both)
        assert refused.status_code == 400
        assert refused.json()["message"] == "search supports UIDs or IDs, not both"


async def test_portico_reads_every_page_up_to_the_cap(fake: FakeGrafana) -> None:
    with httpx.Client(
        base_url=fake.base_url, headers={"Authorization": f"Bearer {fake.token}"}
    ) as http:
        _folder(http, "f", "F")
        for i in range(5):
            _dashboard(http, f"d{i}", f"Dash {i}", ["t"], "f" if i % 2 else None)
    client = GrafanaClient(fake.base_url, fake.token)
    try:
        whole = await client.search_dashboards(page_size=2, max_pages=3)
        assert [h["uid"] for h in whole.hits] == ["d0", "d1", "d2", "d3", "d4"]
        assert not whole.truncated  # the third page was not full
        exact = await client.search_dashboards(page_size=5, max_pages=1)
        assert len(exact.hits) == 5
        assert exact.truncated  # a full last page: there may be more
        capped = await client.search_dashboards(page_size=2, max_pages=2)
        assert [h["uid"] for h in capped.hits] == ["d0", "d1", "d2", "d3"]
        assert capped.truncated
        searches = [c for c in fake.calls if c.path == "/api/search"]
        assert len(searches) == 3 + 1 + 2  # one GET a page, none past the cap
        assert {c.method for c in searches} == {"GET"}
    finally:
        await client.aclose()


async def test_portico_s_search_fails_as_a_portico_error(fake: FakeGrafana) -> None:
    client = GrafanaClient(fake.base_url, "wrong-token")
    try:
        with pytest.raises(RejectedError, match="check the service-account token"):
            await client.search_dashboards()
    finally:
        await client.aclose()

    client = GrafanaClient(fake.base_url, fake.token)
    try:
        fake.fail_next("GET", "^/api/search$", 200, body={"message": "not a list"})
        with pytest.raises(ExternalError, match="not a list"):
            await client.search_dashboards()
    finally:
        await client.aclose()

"""Contract test: the Grafana fake against Grafana's documented HTTP API (folders, dashboards,
search). It checks the fake, not Portico: the e2e tests trust the fake because of these.

httpx is the client: auth, folder and dashboard lifecycles, Grafana's 400/404/409/412 answers
with their messages and ``status`` fields, search filters, and injected faults.
"""

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from fakes.grafana import Call, FakeGrafana


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


def _folder(client: httpx.Client, title: str, uid: str | None = None, **extra: Any) -> Any:
    body: dict[str, Any] = {"title": title, **extra}
    if uid is not None:
        body["uid"] = uid
    response = client.post("/api/folders", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def _save(
    client: httpx.Client,
    dashboard: dict[str, Any],
    folder_uid: str | None = None,
    overwrite: bool = False,
    message: str = "",
) -> httpx.Response:
    body: dict[str, Any] = {"dashboard": dashboard, "overwrite": overwrite, "message": message}
    if folder_uid is not None:
        body["folderUid"] = folder_uid
    return client.post("/api/dashboards/db", json=body)


def test_auth_required_except_health(fake: FakeGrafana, client: httpx.Client) -> None:
    assert fake.base_url.startswith("http://127.0.0.1:")
    assert not fake.base_url.endswith("/")
    with httpx.Client(base_url=fake.base_url, timeout=5) as anonymous:
        health = anonymous.get("/api/health")
        assert health.status_code == 200
        assert health.json()["database"] == "ok"
        assert health.json()["version"] == "11.0.0"

        missing = anonymous.get("/api/folders")
        assert missing.status_code == 401
        assert missing.json()["message"] == "Unauthorized"

        for header in ("Bearer wrong-token", f"Basic {fake.token}", "Bearer", fake.token):
            wrong = anonymous.get("/api/search", headers={"Authorization": header})
            assert wrong.status_code == 401, header
            assert wrong.json()["message"] == "Unauthorized"

        refused = anonymous.post("/api/dashboards/db", json={"dashboard": {"title": "x"}})
        assert refused.status_code == 401
    assert fake.dashboards() == []
    assert client.get("/api/folders").status_code == 200
    assert Call("GET", "/api/folders", 401) in fake.calls
    assert Call("GET", "/api/folders", 200) in fake.calls


def test_folder_lifecycle_and_validation(fake: FakeGrafana, client: httpx.Client) -> None:
    created = _folder(client, "Team A", "team-a")
    assert created["uid"] == "team-a"
    assert created["title"] == "Team A"
    assert created["url"] == "/dashboards/f/team-a/team-a"
    assert created["version"] == 1
    assert isinstance(created["id"], int)

    generated = _folder(client, "Team B")
    assert 0 < len(generated["uid"]) <= 40
    assert generated["id"] != created["id"]

    got = client.get("/api/folders/team-a")
    assert got.status_code == 200
    assert got.json()["id"] == created["id"]
    assert got.json()["title"] == "Team A"

    listed = client.get("/api/folders").json()
    assert [(f["uid"], f["title"]) for f in listed] == [
        ("team-a", "Team A"),
        (generated["uid"], "Team B"),
    ]
    assert set(listed[0]) >= {"id", "uid", "title"}

    same_title = client.post("/api/folders", json={"uid": "other", "title": "Team A"})
    assert same_title.status_code == 409
    assert same_title.json() == {"message": "a folder with the same name already exists"}

    same_uid = client.post("/api/folders", json={"uid": "team-a", "title": "Another"})
    assert same_uid.status_code == 409
    assert same_uid.json()["message"] == "a folder/dashboard with the same uid already exists"

    illegal = client.post("/api/folders", json={"uid": "bad uid!", "title": "Bad"})
    assert illegal.status_code == 400
    assert illegal.json() == {"message": "uid contains illegal characters"}

    too_long = client.post("/api/folders", json={"uid": "a" * 41, "title": "Long"})
    assert too_long.status_code == 400
    assert too_long.json() == {"message": "uid too long, max 40 characters"}
    assert client.post("/api/folders", json={"uid": "a" * 40, "title": "Max"}).status_code == 200

    no_title = client.post("/api/folders", json={"uid": "untitled"})
    assert no_title.status_code == 400
    assert no_title.json() == {"message": "folder title cannot be empty"}

    nested = _folder(client, "Team A", "team-a-sub", parentUid="team-a")  # same title, other parent
    assert nested["parentUid"] == "team-a"
    assert [p["uid"] for p in nested["parents"]] == ["team-a"]
    assert [f["uid"] for f in client.get("/api/folders?parentUid=team-a").json()] == ["team-a-sub"]
    assert "team-a-sub" not in [f["uid"] for f in client.get("/api/folders").json()]

    deleted = client.delete("/api/folders/team-a")
    assert deleted.status_code == 200
    assert deleted.json() == {"message": "Folder deleted", "id": created["id"]}

    gone = client.get("/api/folders/team-a")
    assert gone.status_code == 404
    assert gone.json()["message"] == "folder not found"
    assert client.get("/api/folders/team-a-sub").status_code == 404  # subfolders go too
    assert client.delete("/api/folders/team-a").status_code == 404
    assert {f["uid"] for f in fake.folders()} == {generated["uid"], "a" * 40}


def test_dashboard_create_version_and_overwrite(fake: FakeGrafana, client: httpx.Client) -> None:
    _folder(client, "Team A", "team-a")
    model = {"uid": "svc", "title": "Service", "tags": ["portico"], "panels": [{"id": 1}]}

    created = _save(client, model, "team-a", message="first")
    assert created.status_code == 200, created.text
    body = created.json()
    assert body["uid"] == "svc"
    assert body["status"] == "success"
    assert body["version"] == 1
    assert body["slug"] == "service"
    assert body["url"] == "/d/svc/service"
    assert isinstance(body["id"], int)

    got = client.get("/api/dashboards/uid/svc")
    assert got.status_code == 200
    dashboard, meta = got.json()["dashboard"], got.json()["meta"]
    assert dashboard == {**model, "id": body["id"], "version": 1}
    assert meta["folderUid"] == "team-a"
    assert meta["folderTitle"] == "Team A"
    assert meta["version"] == 1
    assert meta["url"] == "/d/svc/service"
    assert meta["slug"] == "service"
    assert {"created", "updated"} <= set(meta)

    stale = _save(client, {**model, "title": "Service v2"}, "team-a")
    assert stale.status_code == 412
    assert stale.json() == {
        "message": "The dashboard has been changed by someone else",
        "status": "version-mismatch",
    }
    wrong_version = _save(client, {**model, "version": 7}, "team-a")
    assert wrong_version.status_code == 412
    assert wrong_version.json()["status"] == "version-mismatch"

    updated = _save(client, {**model, "title": "Service v2", "version": 1}, "team-a")
    assert updated.status_code == 200, updated.text
    assert updated.json()["version"] == 2
    assert updated.json()["id"] == body["id"]
    assert client.get("/api/dashboards/uid/svc").json()["dashboard"]["title"] == "Service v2"

    replaced = _save(client, {"uid": "svc", "title": "Replaced"}, "team-a", overwrite=True)
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["uid"] == "svc"
    assert replaced.json()["version"] == 3
    stored = fake.dashboard("svc")
    assert stored is not None
    assert stored["dashboard"] == {
        "uid": "svc",
        "title": "Replaced",
        "id": body["id"],
        "version": 3,
    }
    assert stored["folderUid"] == "team-a"
    assert stored["tags"] == []
    assert [d["dashboard"]["uid"] for d in fake.dashboards()] == ["svc"]

    missing_folder = _save(client, {"uid": "x", "title": "X"}, "nope")
    assert missing_folder.status_code == 400
    assert missing_folder.json() == {"message": "folder not found"}
    no_title = _save(client, {"uid": "x", "title": "  "})
    assert no_title.status_code == 400
    assert no_title.json()["message"] == "Dashboard title cannot be empty"
    illegal = _save(client, {"uid": "x/y", "title": "X"})
    assert illegal.status_code == 400
    assert illegal.json() == {"message": "uid contains illegal characters"}
    too_long = _save(client, {"uid": "x" * 41, "title": "X"})
    assert too_long.status_code == 400
    assert too_long.json() == {"message": "uid too long, max 40 characters"}
    assert client.post("/api/dashboards/db", content=b"{not json").status_code == 400

    root = _save(client, {"title": "At the root"})  # no uid, no folder: generated uid, General
    assert root.status_code == 200
    root_meta = client.get(f"/api/dashboards/uid/{root.json()['uid']}").json()["meta"]
    assert root_meta["folderUid"] == ""
    assert root_meta["folderTitle"] == "General"


def test_same_title_in_folder_is_name_exists(fake: FakeGrafana, client: httpx.Client) -> None:
    _folder(client, "Team A", "team-a")
    _folder(client, "Team B", "team-b")
    assert _save(client, {"uid": "one", "title": "Overview"}, "team-a").status_code == 200

    clash = _save(client, {"uid": "two", "title": "Overview"}, "team-a")
    assert clash.status_code == 412
    assert clash.json() == {
        "message": "A dashboard with the same name in the folder already exists",
        "status": "name-exists",
    }
    assert fake.dashboard("two") is None

    elsewhere = _save(client, {"uid": "two", "title": "Overview"}, "team-b")
    assert elsewhere.status_code == 200, elsewhere.text
    at_root = _save(client, {"uid": "three", "title": "Overview"})
    assert at_root.status_code == 200, at_root.text
    assert {d["dashboard"]["uid"]: d["folderUid"] for d in fake.dashboards()} == {
        "one": "team-a",
        "two": "team-b",
        "three": "",
    }


def test_search_by_tag_folder_and_query(client: httpx.Client) -> None:
    _folder(client, "Team A", "team-a")
    _folder(client, "Team B", "team-b")
    _save(client, {"uid": "a1", "title": "Alpha API", "tags": ["portico", "api"]}, "team-a")
    _save(client, {"uid": "a2", "title": "Alpha Worker", "tags": ["portico"]}, "team-a")
    _save(client, {"uid": "b1", "title": "Beta API", "tags": ["api"]}, "team-b")

    def uids(**params: Any) -> list[str]:
        response = client.get("/api/search", params=params)
        assert response.status_code == 200, response.text
        return [hit["uid"] for hit in response.json()]

    assert uids(type="dash-db", tag="portico") == ["a1", "a2"]
    assert uids(type="dash-db", tag=["portico", "api"]) == ["a1"]  # every tag must match
    assert uids(type="dash-db", tag="missing") == []
    assert uids(type="dash-db", folderUIDs="team-b") == ["b1"]
    assert uids(type="dash-db", folderUIDs=["team-a", "team-b"]) == ["a1", "a2", "b1"]
    assert uids(type="dash-db", folderUIDs="team-a", tag="api") == ["a1"]
    assert uids(type="dash-db", query="api") == ["a1", "b1"]
    assert uids(type="dash-db", query="Alpha Worker") == ["a2"]
    assert uids(type="dash-folder") == ["team-a", "team-b"]
    assert uids() == ["team-a", "team-b", "a1", "a2", "b1"]

    hit = client.get("/api/search", params={"type": "dash-db", "query": "Beta"}).json()[0]
    assert hit["type"] == "dash-db"
    assert hit["title"] == "Beta API"
    assert hit["url"] == "/d/b1/beta-api"
    assert hit["tags"] == ["api"]
    assert hit["folderUid"] == "team-b"
    assert hit["folderTitle"] == "Team B"
    folder_hit = client.get("/api/search", params={"type": "dash-folder"}).json()[0]
    assert folder_hit["type"] == "dash-folder"
    assert folder_hit["url"] == "/dashboards/f/team-a/team-a"


def test_delete_dashboard_and_folder_cascade(fake: FakeGrafana, client: httpx.Client) -> None:
    _folder(client, "Team A", "team-a")
    _folder(client, "Team B", "team-b")
    first = _save(client, {"uid": "svc", "title": "Service"}, "team-a").json()
    _save(client, {"uid": "svc-2", "title": "Service 2"}, "team-a")
    _save(client, {"uid": "keep", "title": "Keep"}, "team-b")

    deleted = client.delete("/api/dashboards/uid/svc")
    assert deleted.status_code == 200
    assert deleted.json() == {
        "title": "Service",
        "message": "Dashboard Service deleted",
        "id": first["id"],
    }
    missing = client.get("/api/dashboards/uid/svc")
    assert missing.status_code == 404
    assert missing.json()["message"] == "Dashboard not found"
    assert client.delete("/api/dashboards/uid/svc").status_code == 404

    # Documented: deleting a folder deletes the dashboards stored in it.
    assert client.delete("/api/folders/team-a").status_code == 200
    assert client.get("/api/dashboards/uid/svc-2").status_code == 404
    assert fake.dashboard("svc-2") is None
    assert [d["dashboard"]["uid"] for d in fake.dashboards()] == ["keep"]
    assert [f["uid"] for f in fake.folders()] == ["team-b"]


def test_fail_next_then_success(fake: FakeGrafana, client: httpx.Client) -> None:
    fake.fail_next("POST", r"/api/dashboards/db$", 500, times=2)
    model = {"uid": "svc", "title": "Service"}

    statuses = [_save(client, model).status_code for _ in range(3)]
    assert statuses == [500, 500, 200]
    assert fake.dashboard("svc") is not None
    assert client.get("/api/dashboards/uid/svc").json()["dashboard"]["version"] == 1
    assert fake.calls == [
        Call("POST", "/api/dashboards/db", 500),
        Call("POST", "/api/dashboards/db", 500),
        Call("POST", "/api/dashboards/db", 200),
        Call("GET", "/api/dashboards/uid/svc", 200),
    ]
    assert fake.write_calls() == [("POST", "/api/dashboards/db")] * 3


def test_fault_body_apply_and_clear(fake: FakeGrafana, client: httpx.Client) -> None:
    fake.fail_next("*", r"^/api/folders", 503, body={"message": "down for maintenance"})
    down = client.get("/api/folders")
    assert down.status_code == 503
    assert down.json() == {"message": "down for maintenance"}

    fake.fail_next("POST", r"^/api/folders$", 502, apply=True)  # done, but the reply is lost
    lost = client.post("/api/folders", json={"uid": "team-a", "title": "Team A"})
    assert lost.status_code == 502
    assert [f["uid"] for f in fake.folders()] == ["team-a"]

    fake.fail_next("DELETE", r"/api/folders/", 500, times=5)
    fake.clear_faults()
    assert client.delete("/api/folders/team-a").status_code == 200

"""The Grafana fake's ``GET /api/search`` (Grafana's "Folder/Dashboard Search API"), as its docs
and its handler (``pkg/api/search.go``) have it:

* ``type``: ``dash-db`` or ``dash-folder``; neither gives both, folders first.
* ``query``: a case-insensitive substring of the title. ``tag`` (repeatable): every tag must
  match (folders have none, so a tag leaves them out).
* ``dashboardUIDs`` (repeatable; the deprecated ``dashboardUID`` only when it is absent) or
  ``dashboardIds``; ``folderUIDs`` (``general`` is the root) or ``folderIds`` (``0`` is the
  root). Both forms of one at once is 400 ``"search supports UIDs or IDs, not both"``; ids
  that are not numbers are ignored, as Grafana's handler does.
* ``starred=true``: only starred dashboards; the fake stars none, so none.
* ``limit``: the page size, default 1000; not a number or below 1 is the default (the docs:
  "If an invalid value is provided ... defaults to 1000"); above 5000 is 422 ``"Limit is above
  maximum allowed (5000), use page parameter to access hits beyond limit"``. ``page``: from 1;
  not a number or below 1 is 1.

Hits are ``{id, uid, orgId, title, uri, url, slug, type, tags, isStarred, sortMeta}``, plus
``folderId``, ``folderUid``, ``folderTitle`` and ``folderUrl`` for hits inside a folder (left
out at the root, as Grafana does), by title (alpha-asc, Grafana's default sort; ``sort`` is
not modelled).
"""

from __future__ import annotations

from collections.abc import Mapping

from fakes.grafana.model import (
    DEFAULT_LIMIT,
    GENERAL_FOLDER_UID,
    MAX_SEARCH_LIMIT,
    ApiError,
    Dashboard,
    Folder,
    Json,
    Response,
    query_list,
    slugify,
)

Query = dict[str, list[str]]


def _last(query: Query, key: str) -> str:
    return (query.get(key) or [""])[-1]


def _number(query: Query, key: str) -> int:
    """Grafana's ``QueryInt64``: 0 when absent or not a number."""
    try:
        return int(_last(query, key))
    except ValueError:
        return 0


def _ids(query: Query, key: str) -> set[int]:
    out = set()
    for value in query_list(query, key):
        try:
            out.add(int(value))
        except ValueError:
            continue
    return out


def search(
    folders: Mapping[str, Folder], dashboards: Mapping[str, Dashboard], query: Query
) -> Response:
    limit = _number(query, "limit")
    if limit > MAX_SEARCH_LIMIT:
        raise ApiError(
            422,
            "Limit is above maximum allowed (5000), use page parameter to access hits beyond limit",
        )
    limit = limit if limit >= 1 else DEFAULT_LIMIT
    page = max(_number(query, "page"), 1)

    dashboard_ids = _ids(query, "dashboardIds")
    dashboard_uids = set(query_list(query, "dashboardUIDs") or query_list(query, "dashboardUID"))
    folder_ids = _ids(query, "folderIds")
    folder_uids = set(query_list(query, "folderUIDs"))
    if (dashboard_ids and dashboard_uids) or (folder_ids and folder_uids):
        raise ApiError(400, "search supports UIDs or IDs, not both")
    by_id = {f.id: f.uid for f in folders.values()}
    parents = {"" if uid == GENERAL_FOLDER_UID else uid for uid in folder_uids}
    parents |= {"" if i == 0 else by_id.get(i, f"?{i}") for i in folder_ids}

    kind = _last(query, "type")
    text = _last(query, "query").lower()
    tags = [t for t in query.get("tag", []) if t]
    starred = _last(query, "starred") == "true"

    def wanted(uid: str, id_: int, title: str, parent: str) -> bool:
        if text and text not in title.lower():
            return False
        if parents and parent not in parents:
            return False
        if dashboard_uids and uid not in dashboard_uids:
            return False
        return not (dashboard_ids and id_ not in dashboard_ids)

    hits: list[Json] = []
    if kind in ("", "dash-folder") and not tags and not starred:
        for folder in sorted(folders.values(), key=lambda f: (f.title.lower(), f.id)):
            if wanted(folder.uid, folder.id, folder.title, folder.parent_uid):
                hit = _hit(folder.id, folder.uid, folder.title, folder.url, "dash-folder")
                hit.update(_folder_fields(folders, folder.parent_uid))
                hits.append(hit)
    if kind in ("", "dash-db") and not starred:
        for dash in sorted(dashboards.values(), key=lambda d: (d.title.lower(), d.id)):
            if not all(tag in dash.tags for tag in tags):
                continue
            if wanted(dash.uid, dash.id, dash.title, dash.folder_uid):
                hit = _hit(dash.id, dash.uid, dash.title, dash.url, "dash-db")
                hit["tags"] = list(dash.tags)
                hit.update(_folder_fields(folders, dash.folder_uid))
                hits.append(hit)
    return Response(200, hits[(page - 1) * limit : page * limit])


def _hit(id_: int, uid: str, title: str, url: str, kind: str) -> Json:
    return {
        "id": id_,
        "uid": uid,
        "orgId": 1,
        "title": title,
        "uri": f"db/{slugify(title)}",
        "url": url,
        "slug": "",
        "type": kind,
        "tags": [],
        "isStarred": False,
        "sortMeta": 0,
    }


def _folder_fields(folders: Mapping[str, Folder], parent: str) -> Json:
    folder = folders.get(parent) if parent else None
    if folder is None:
        return {}
    return {
        "folderId": folder.id,
        "folderUid": folder.uid,
        "folderTitle": folder.title,
        "folderUrl": folder.url,
    }

"""The Grafana fake's state and request handling: routing, health, folders and dashboards
(search is in `search.py`). One lock around everything, as the package docstring says."""

from __future__ import annotations

import copy
import threading
from typing import Any
from urllib.parse import unquote

from fakes.grafana.model import (
    DEFAULT_LIMIT,
    GENERAL_FOLDER_UID,
    GRAFANA_VERSION,
    MAX_MESSAGE_LENGTH,
    MAX_TITLE_LENGTH,
    ZERO_TIME,
    ApiError,
    Dashboard,
    Folder,
    Json,
    Response,
    bad_request,
    check_uid,
    dashboard_not_found,
    folder_not_found,
    new_uid,
    now_text,
    page_of,
    parse_body,
)
from fakes.grafana.search import search as search_hits


class GrafanaApi:
    """The fake's state and request handling (one lock around everything)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.folders: dict[str, Folder] = {}
        self.dashboards: dict[str, Dashboard] = {}
        self._next_id = 1  # folders and dashboards share Grafana's dashboard table ids

    def new_id(self) -> int:
        value = self._next_id
        self._next_id += 1
        return value

    # -- routing ---------------------------------------------------------------------------

    def dispatch(self, method: str, path: str, query: dict[str, list[str]], raw: bytes) -> Response:
        parts = [unquote(p) for p in path.strip("/").split("/")]
        routes: dict[str, Any]
        if parts == ["api", "health"]:
            routes = {"GET": lambda: self.health()}
        elif parts == ["api", "folders"]:
            routes = {
                "GET": lambda: self.list_folders(query),
                "POST": lambda: self.create_folder(parse_body(raw)),
            }
        elif len(parts) == 3 and parts[:2] == ["api", "folders"]:
            uid = parts[2]
            routes = {
                "GET": lambda: self.get_folder(uid),
                "DELETE": lambda: self.delete_folder(uid),
            }
        elif parts == ["api", "dashboards", "db"]:
            routes = {"POST": lambda: self.save_dashboard(parse_body(raw))}
        elif len(parts) == 4 and parts[:3] == ["api", "dashboards", "uid"]:
            uid = parts[3]
            routes = {
                "GET": lambda: self.get_dashboard(uid),
                "DELETE": lambda: self.delete_dashboard(uid),
            }
        elif parts == ["api", "search"]:
            routes = {"GET": lambda: self.search(query)}
        else:
            raise ApiError(404, "Not found")
        handler = routes.get(method)
        if handler is None:
            raise ApiError(405, "Method not allowed")
        with self.lock:
            result: Response = handler()
            return result

    # -- health ----------------------------------------------------------------------------

    def health(self) -> Response:
        return Response(200, {"commit": "fake", "database": "ok", "version": GRAFANA_VERSION})

    # -- folders ---------------------------------------------------------------------------

    def folder_json(self, folder: Folder) -> Json:
        out: Json = {
            "id": folder.id,
            "uid": folder.uid,
            "orgId": 1,
            "title": folder.title,
            "url": folder.url,
            "hasAcl": False,
            "canSave": True,
            "canEdit": True,
            "canAdmin": True,
            "canDelete": True,
            "createdBy": "admin",
            "created": folder.created,
            "updatedBy": "admin",
            "updated": folder.updated,
            "version": folder.version,
        }
        if folder.parent_uid:
            out["parentUid"] = folder.parent_uid
            out["parents"] = [self.folder_json(p) for p in self.ancestors(folder)]
        return out

    def ancestors(self, folder: Folder) -> list[Folder]:
        """Parents from the root down to the direct parent."""
        chain: list[Folder] = []
        current = self.folders.get(folder.parent_uid)
        while current is not None and current not in chain:
            chain.append(current)
            current = self.folders.get(current.parent_uid)
        return list(reversed(chain))

    def descendants(self, uid: str) -> list[Folder]:
        """The folder ``uid`` and every folder below it."""
        found = [self.folders[uid]]
        for current in found:
            found.extend(f for f in self.folders.values() if f.parent_uid == current.uid)
        return found

    def list_folders(self, query: dict[str, list[str]]) -> Response:
        parent = (query.get("parentUid") or [""])[-1]
        if parent == GENERAL_FOLDER_UID:
            parent = ""
        children = sorted(
            (f for f in self.folders.values() if f.parent_uid == parent),
            key=lambda f: (f.title.lower(), f.id),
        )
        items: list[Json] = []
        for folder in children:
            item: Json = {"id": folder.id, "uid": folder.uid, "title": folder.title}
            if folder.parent_uid:
                item["parentUid"] = folder.parent_uid
            items.append(item)
        return Response(200, page_of(items, query, max_limit=DEFAULT_LIMIT))

    def get_folder(self, uid: str) -> Response:
        folder = self.folders.get(uid)
        if folder is None:
            raise folder_not_found()
        return Response(200, self.folder_json(folder))

    def create_folder(self, body: Json) -> Response:
        title = body.get("title")
        if title is not None and not isinstance(title, str):
            raise bad_request()
        if not title or not title.strip():
            raise ApiError(400, "folder title cannot be empty")
        uid = body.get("uid")
        if uid is not None and not isinstance(uid, str):
            raise bad_request()
        parent = body.get("parentUid") or ""
        if not isinstance(parent, str):
            raise bad_request()
        if uid:
            check_uid(uid)
        if parent and parent not in self.folders:
            raise folder_not_found()
        if uid and (uid in self.folders or uid in self.dashboards):
            raise ApiError(409, "a folder/dashboard with the same uid already exists")
        if any(f.title == title and f.parent_uid == parent for f in self.folders.values()):
            raise ApiError(409, "a folder with the same name already exists")
        now = now_text()
        folder = Folder(self.new_id(), uid or self._free_uid(), title, parent, now, now)
        self.folders[folder.uid] = folder
        return Response(200, self.folder_json(folder))

    def delete_folder(self, uid: str) -> Response:
        folder = self.folders.get(uid)
        if folder is None:
            raise folder_not_found()
        doomed = {f.uid for f in self.descendants(uid)}
        for dash_uid in [d.uid for d in self.dashboards.values() if d.folder_uid in doomed]:
            del self.dashboards[dash_uid]
        for folder_uid in doomed:
            del self.folders[folder_uid]
        return Response(200, {"message": "Folder deleted", "id": folder.id})

    def _free_uid(self) -> str:
        while True:
            uid = new_uid()
            if uid not in self.folders and uid not in self.dashboards:
                return uid

    # -- dashboards ------------------------------------------------------------------------

    def save_dashboard(self, body: Json) -> Response:
        model = body.get("dashboard")
        if not isinstance(model, dict):
            raise bad_request()
        title = model.get("title")
        if title is not None and not isinstance(title, str):
            raise bad_request()
        if not title or not title.strip():
            raise ApiError(400, "Dashboard title cannot be empty", "empty-name")
        if len(title) > MAX_TITLE_LENGTH:
            message = "Dashboard title cannot contain more than 5 000 characters"
            raise ApiError(400, message, "title-too-long")
        message = body.get("message") or ""
        if not isinstance(message, str):
            raise bad_request()
        if len(message) > MAX_MESSAGE_LENGTH:
            raise ApiError(400, "message too long, max 500 characters")
        uid = model.get("uid") or ""
        if not isinstance(uid, str):
            raise bad_request()
        if uid:
            check_uid(uid)
        dash_id = model.get("id") or 0
        if isinstance(dash_id, bool) or not isinstance(dash_id, int):
            raise bad_request()
        folder_uid = self._target_folder(body)
        overwrite = body.get("overwrite") is True

        existing: Dashboard | None = None
        if dash_id:
            existing = next((d for d in self.dashboards.values() if d.id == dash_id), None)
            if existing is None:
                raise dashboard_not_found()
            if uid and uid != existing.uid and uid in self.dashboards:
                raise ApiError(400, "A dashboard with the same uid already exists")
            uid = uid or existing.uid
        elif uid:
            existing = self.dashboards.get(uid)
        if uid in self.folders:
            raise ApiError(400, "Dashboard cannot be changed to a folder")
        if existing is not None and model.get("version") != existing.version and not overwrite:
            raise ApiError(
                412, "The dashboard has been changed by someone else", "version-mismatch"
            )

        same_name = next(
            (
                d
                for d in self.dashboards.values()
                if d.title == title and d.folder_uid == folder_uid and d is not existing
            ),
            None,
        )
        if same_name is not None:
            if not overwrite:
                message_ = "A dashboard with the same name in the folder already exists"
                raise ApiError(412, message_, "name-exists")
            existing, uid = same_name, same_name.uid  # Grafana takes over that dashboard

        stored = copy.deepcopy(model)
        now = now_text()
        if existing is None:
            uid = uid or self._free_uid()
            stored.update(id=self.new_id(), uid=uid, version=1)
            dashboard = Dashboard(stored["id"], uid, stored, folder_uid, now, now)
        else:
            stored.update(id=existing.id, uid=uid, version=existing.version + 1)
            if existing.uid != uid:
                del self.dashboards[existing.uid]
            dashboard = Dashboard(existing.id, uid, stored, folder_uid, existing.created, now)
        dashboard.message = message
        raw_tags = stored.get("tags")
        dashboard.tags = (
            [t for t in raw_tags if isinstance(t, str)] if isinstance(raw_tags, list) else []
        )
        self.dashboards[uid] = dashboard
        return Response(
            200,
            {
                "id": dashboard.id,
                "uid": dashboard.uid,
                "url": dashboard.url,
                "status": "success",
                "version": dashboard.version,
                "slug": dashboard.slug,
                "folderUid": dashboard.folder_uid,
            },
        )

    def _target_folder(self, body: Json) -> str:
        folder_uid = body.get("folderUid")
        if folder_uid:
            if not isinstance(folder_uid, str):
                raise bad_request()
            if folder_uid not in self.folders:
                raise ApiError(400, "folder not found")
            return folder_uid
        folder_id = body.get("folderId") or 0
        if isinstance(folder_id, bool) or not isinstance(folder_id, int):
            raise bad_request()
        if not folder_id:
            return ""
        found = next((f for f in self.folders.values() if f.id == folder_id), None)
        if found is None:
            raise ApiError(400, "folder not found")
        return found.uid

    def get_dashboard(self, uid: str) -> Response:
        dashboard = self.dashboards.get(uid)
        if dashboard is None:
            raise dashboard_not_found()
        folder = self.folders.get(dashboard.folder_uid)
        meta: Json = {
            "type": "db",
            "canSave": True,
            "canEdit": True,
            "canAdmin": True,
            "canStar": True,
            "canDelete": True,
            "slug": dashboard.slug,
            "url": dashboard.url,
            "expires": ZERO_TIME,
            "created": dashboard.created,
            "updated": dashboard.updated,
            "updatedBy": "admin",
            "createdBy": "admin",
            "version": dashboard.version,
            "hasAcl": False,
            "isFolder": False,
            "folderId": folder.id if folder else 0,
            "folderUid": folder.uid if folder else "",
            "folderTitle": folder.title if folder else "General",
            "folderUrl": folder.url if folder else "",
            "provisioned": False,
            "provisionedExternalId": "",
            "isStarred": False,
        }
        return Response(200, {"dashboard": copy.deepcopy(dashboard.model), "meta": meta})

    def delete_dashboard(self, uid: str) -> Response:
        dashboard = self.dashboards.pop(uid, None)
        if dashboard is None:
            raise dashboard_not_found()
        title = dashboard.title
        return Response(
            200, {"title": title, "message": f"Dashboard {title} deleted", "id": dashboard.id}
        )

    # -- search ----------------------------------------------------------------------------

    def search(self, query: dict[str, list[str]]) -> Response:
        return search_hits(self.folders, self.dashboards, query)

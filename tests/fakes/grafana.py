"""A contract fake of Grafana's HTTP API (folders, dashboards, search), in memory. Tests only.

It follows Grafana's HTTP API documentation
(https://grafana.com/docs/grafana/latest/developers/http_api/: Folder API, Dashboard API,
Folder/Dashboard Search API) for the subset Portico uses, with the status codes, messages and
JSON shapes of Grafana 11 (messages as in Grafana's ``pkg/services/dashboards/errors.go`` and
``pkg/api/apierrors``):

* ``GET /api/health`` (no auth): ``{"commit", "database": "ok", "version": "11.0.0"}``
* folders: ``GET /api/folders[?parentUid=&limit=&page=]``, ``GET /api/folders/{uid}``,
  ``POST /api/folders`` (``{uid?, title, parentUid?}``), ``DELETE /api/folders/{uid}``
* dashboards: ``POST /api/dashboards/db``, ``GET|DELETE /api/dashboards/uid/{uid}``
* search: ``GET /api/search?query=&tag=&type=&folderUIDs=&dashboardUIDs=&limit=&page=``

Auth: every ``/api/...`` request except ``/api/health`` needs ``Authorization: Bearer <token>``
(a service-account token); otherwise 401 ``{"message": "Unauthorized", "messageId":
"auth.unauthorized", "statusCode": 401}`` (Grafana 11's shape). Error bodies are
``{"message": ...}``, plus ``"status"`` where Grafana sends one (``version-mismatch``,
``name-exists``, ``empty-name``, ``not-found``, ...). A body that is not a JSON object is
400 ``{"message": "bad request data"}``; an unknown ``/api`` route is 404 ``{"message":
"Not found"}``, a known route with another method 405.

Choices where the docs are terse (taken from Grafana's source where it is explicit):

* ``POST /api/folders``: a uid already used by a folder or dashboard is 409 ``"a folder/dashboard
  with the same uid already exists"`` (the docs: "409 - Folder already exists"; Grafana maps
  ``ErrFolderWithSameUIDExists`` to 409, not 400); a title already used by a folder with the
  same parent is 409 ``"a folder with the same name already exists"``; an empty title is 400
  ``"folder title cannot be empty"``; an unknown ``parentUid`` is 404 ``"folder not found"``.
  The uid is checked before the title, as Grafana does.
* uids (folders and dashboards): illegal characters (anything but letters, digits, ``-``, ``_``)
  are 400 ``"uid contains illegal characters"``, checked before length; more than 40 characters
  is 400 ``"uid too long, max 40 characters"``. A missing uid is generated (14 characters).
* ``DELETE /api/folders/{uid}``: as documented, it deletes the folder "along with all
  dashboards ... stored in the folder"; subfolders (nested folders) and their dashboards go too.
  ``forceDeleteRules`` is accepted and ignored (alert rules are not modelled). The reply is the
  documented ``{"message": "Folder deleted", "id": <id>}``.
* ``POST /api/dashboards/db`` (Grafana's order of checks): an empty ``dashboard.title`` is 400
  ``{"message": "Dashboard title cannot be empty", "status": "empty-name"}``; a ``message`` over
  500 characters is 400; uid rules as above; an unknown ``folderUid`` (or ``folderId``) is 400
  ``{"message": "folder not found"}`` (``ToDashboardErrorResponse`` maps ``ErrFolderNotFound``
  to 400). A ``dashboard.id`` that matches nothing is 404 ``"Dashboard not found"``; an ``id``
  and a ``uid`` naming two different dashboards is 400 ``"A dashboard with the same uid already
  exists"``; a uid used by a folder is 400 ``"Dashboard cannot be changed to a folder"``. An
  existing dashboard (by id or uid) is updated only when the posted ``version`` equals the
  stored one, else 412 ``version-mismatch``, unless ``overwrite``. Another dashboard with the
  same title in the same folder is 412 ``name-exists`` unless ``overwrite``, in which case, as
  in Grafana, the save takes over that dashboard (its id and uid). Every save stores the posted
  JSON as is plus ``id``, ``uid``, ``version`` (1 when created, +1 on each update); without
  ``folderUid``/``folderId`` the dashboard goes to the root ("General"), as documented. The
  reply is ``{"id", "uid", "url", "status": "success", "version", "slug", "folderUid"}``.
* ``GET /api/search``: ``query`` is a case-insensitive substring of the title; every ``tag``
  must match (tags exclude folders, which have none); ``folderUIDs`` and ``dashboardUIDs`` may
  repeat or be comma-separated, ``general`` meaning the root. Folders come first, then
  dashboards, each by title. As in Grafana, ``folderUid``/``folderTitle``/``folderUrl``/
  ``folderId`` are left out for hits at the root.

Faults: :meth:`FakeGrafana.fail_next` makes the next matching requests answer with a chosen
status and body (optionally after carrying the request out: "it happened, but the reply was
lost"). Inspection: :meth:`FakeGrafana.dashboards`, :meth:`FakeGrafana.dashboard`,
:meth:`FakeGrafana.folders`, ``calls`` and :meth:`FakeGrafana.write_calls`. The fake's own
exceptions are answered with 500 too, but recorded in ``internal_errors``:
:meth:`assert_no_internal_errors` tells a bug in the fake from an outage (``fakes.http``);
injected faults are never recorded.

Not modelled: folder update/move (``PUT /api/folders/{uid}``, ``.../move``), permissions and
RBAC, orgs, basic auth and API keys, dashboard versions history, provisioning and plugin
dashboards, the ``/apis/...`` (Kubernetes-style) APIs, starring, the nested-folder depth limit,
title clashes between a dashboard and a folder. Requests are handled one at a time (one lock).
"""

from __future__ import annotations

import copy
import json
import re
import secrets
import string
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, NamedTuple
from urllib.parse import parse_qs, unquote, urlsplit

from fakes.http import FakeServer, RecordsInternalErrors

Json = dict[str, Any]

GRAFANA_VERSION = "11.0.0"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_UID_LENGTH = 40
MAX_TITLE_LENGTH = 5000
MAX_MESSAGE_LENGTH = 500
DEFAULT_LIMIT = 1000
MAX_SEARCH_LIMIT = 5000
GENERAL_FOLDER_UID = "general"

_UID = re.compile(r"^[A-Za-z0-9_-]*$")
_UID_ALPHABET = string.ascii_lowercase + string.digits
_ZERO_TIME = "0001-01-01T00:00:00Z"
_DEFAULT_MESSAGES = {
    400: "bad request data",
    401: "Unauthorized",
    403: "Access denied",
    404: "Not found",
    409: "Conflict",
    412: "Precondition failed",
    429: "Too many requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class Call(NamedTuple):
    """One request the fake answered: method, path (without query) and response status."""

    method: str
    path: str
    status: int


class ApiError(Exception):
    """An error the fake answers with: ``{"message"}``, plus ``"status"`` when Grafana sends one."""

    def __init__(self, code: int, message: str, status: str | None = None) -> None:
        super().__init__(f"{code} {message}")
        self.code = code
        self.message = message
        self.status = status

    def body(self) -> Json:
        out: Json = {"message": self.message}
        if self.status is not None:
            out["status"] = self.status
        return out


class Response(NamedTuple):
    """A reply: status and JSON body."""

    status: int
    body: Any


def _unauthorized() -> Response:
    body = {"message": "Unauthorized", "messageId": "auth.unauthorized", "statusCode": 401}
    return Response(401, body)


def _bad_request() -> ApiError:
    return ApiError(400, "bad request data")


def _folder_not_found() -> ApiError:
    return ApiError(404, "folder not found", "not-found")


def _dashboard_not_found() -> ApiError:
    return ApiError(404, "Dashboard not found", "not-found")


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def slugify(title: str) -> str:
    """Grafana's slug of a title: lower case, runs of other characters become one ``-``."""
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return slug


def _check_uid(uid: str) -> None:
    if not _UID.match(uid):
        raise ApiError(400, "uid contains illegal characters")
    if len(uid) > MAX_UID_LENGTH:
        raise ApiError(400, "uid too long, max 40 characters")


def _new_uid() -> str:
    return "".join(secrets.choice(_UID_ALPHABET) for _ in range(14))


def _query_list(query: dict[str, list[str]], key: str) -> list[str]:
    """Values of a repeatable query parameter, also split on commas."""
    return [v for raw in query.get(key, []) for v in raw.split(",") if v]


def _query_int(query: dict[str, list[str]], key: str, default: int) -> int:
    values = query.get(key)
    if not values or not values[-1]:
        return default
    try:
        return int(values[-1])
    except ValueError as exc:
        raise _bad_request() from exc


def _page(items: list[Json], query: dict[str, list[str]], max_limit: int) -> list[Json]:
    limit = _query_int(query, "limit", DEFAULT_LIMIT)
    limit = DEFAULT_LIMIT if limit <= 0 else min(limit, max_limit)
    page = max(_query_int(query, "page", 1), 1)
    return items[(page - 1) * limit : page * limit]


# ---------------------------------------------------------------------------------------------
# state


@dataclass
class Folder:
    """A stored folder. ``parent_uid`` is ``""`` at the root."""

    id: int
    uid: str
    title: str
    parent_uid: str
    created: str
    updated: str
    version: int = 1

    @property
    def url(self) -> str:
        return f"/dashboards/f/{self.uid}/{slugify(self.title)}"


@dataclass
class Dashboard:
    """A stored dashboard: the JSON model as posted (plus id, uid, version) and where it lives."""

    id: int
    uid: str
    model: Json
    folder_uid: str  # "" at the root
    created: str
    updated: str
    message: str = ""
    tags: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        return str(self.model.get("title", ""))

    @property
    def version(self) -> int:
        return int(self.model["version"])

    @property
    def slug(self) -> str:
        return slugify(self.title)

    @property
    def url(self) -> str:
        return f"/d/{self.uid}/{self.slug}"


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
                "POST": lambda: self.create_folder(_parse_body(raw)),
            }
        elif len(parts) == 3 and parts[:2] == ["api", "folders"]:
            uid = parts[2]
            routes = {
                "GET": lambda: self.get_folder(uid),
                "DELETE": lambda: self.delete_folder(uid),
            }
        elif parts == ["api", "dashboards", "db"]:
            routes = {"POST": lambda: self.save_dashboard(_parse_body(raw))}
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
        return Response(200, _page(items, query, max_limit=DEFAULT_LIMIT))

    def get_folder(self, uid: str) -> Response:
        folder = self.folders.get(uid)
        if folder is None:
            raise _folder_not_found()
        return Response(200, self.folder_json(folder))

    def create_folder(self, body: Json) -> Response:
        title = body.get("title")
        if title is not None and not isinstance(title, str):
            raise _bad_request()
        if not title or not title.strip():
            raise ApiError(400, "folder title cannot be empty")
        uid = body.get("uid")
        if uid is not None and not isinstance(uid, str):
            raise _bad_request()
        parent = body.get("parentUid") or ""
        if not isinstance(parent, str):
            raise _bad_request()
        if uid:
            _check_uid(uid)
        if parent and parent not in self.folders:
            raise _folder_not_found()
        if uid and (uid in self.folders or uid in self.dashboards):
            raise ApiError(409, "a folder/dashboard with the same uid already exists")
        if any(f.title == title and f.parent_uid == parent for f in self.folders.values()):
            raise ApiError(409, "a folder with the same name already exists")
        now = _now()
        folder = Folder(self.new_id(), uid or self._free_uid(), title, parent, now, now)
        self.folders[folder.uid] = folder
        return Response(200, self.folder_json(folder))

    def delete_folder(self, uid: str) -> Response:
        folder = self.folders.get(uid)
        if folder is None:
            raise _folder_not_found()
        doomed = {f.uid for f in self.descendants(uid)}
        for dash_uid in [d.uid for d in self.dashboards.values() if d.folder_uid in doomed]:
            del self.dashboards[dash_uid]
        for folder_uid in doomed:
            del self.folders[folder_uid]
        return Response(200, {"message": "Folder deleted", "id": folder.id})

    def _free_uid(self) -> str:
        while True:
            uid = _new_uid()
            if uid not in self.folders and uid not in self.dashboards:
                return uid

    # -- dashboards ------------------------------------------------------------------------

    def save_dashboard(self, body: Json) -> Response:
        model = body.get("dashboard")
        if not isinstance(model, dict):
            raise _bad_request()
        title = model.get("title")
        if title is not None and not isinstance(title, str):
            raise _bad_request()
        if not title or not title.strip():
            raise ApiError(400, "Dashboard title cannot be empty", "empty-name")
        if len(title) > MAX_TITLE_LENGTH:
            message = "Dashboard title cannot contain more than 5 000 characters"
            raise ApiError(400, message, "title-too-long")
        message = body.get("message") or ""
        if not isinstance(message, str):
            raise _bad_request()
        if len(message) > MAX_MESSAGE_LENGTH:
            raise ApiError(400, "message too long, max 500 characters")
        uid = model.get("uid") or ""
        if not isinstance(uid, str):
            raise _bad_request()
        if uid:
            _check_uid(uid)
        dash_id = model.get("id") or 0
        if isinstance(dash_id, bool) or not isinstance(dash_id, int):
            raise _bad_request()
        folder_uid = self._target_folder(body)
        overwrite = body.get("overwrite") is True

        existing: Dashboard | None = None
        if dash_id:
            existing = next((d for d in self.dashboards.values() if d.id == dash_id), None)
            if existing is None:
                raise _dashboard_not_found()
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
        now = _now()
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
                raise _bad_request()
            if folder_uid not in self.folders:
                raise ApiError(400, "folder not found")
            return folder_uid
        folder_id = body.get("folderId") or 0
        if isinstance(folder_id, bool) or not isinstance(folder_id, int):
            raise _bad_request()
        if not folder_id:
            return ""
        found = next((f for f in self.folders.values() if f.id == folder_id), None)
        if found is None:
            raise ApiError(400, "folder not found")
        return found.uid

    def get_dashboard(self, uid: str) -> Response:
        dashboard = self.dashboards.get(uid)
        if dashboard is None:
            raise _dashboard_not_found()
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
            "expires": _ZERO_TIME,
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
            raise _dashboard_not_found()
        title = dashboard.title
        return Response(
            200, {"title": title, "message": f"Dashboard {title} deleted", "id": dashboard.id}
        )

    # -- search ----------------------------------------------------------------------------

    def search(self, query: dict[str, list[str]]) -> Response:
        kind = (query.get("type") or [""])[-1]
        text = (query.get("query") or [""])[-1].lower()
        tags = [t for t in query.get("tag", []) if t]
        in_folders = {
            "" if uid == GENERAL_FOLDER_UID else uid for uid in _query_list(query, "folderUIDs")
        }
        only_uids = set(_query_list(query, "dashboardUIDs") + _query_list(query, "dashboardUID"))

        hits: list[Json] = []
        if kind in ("", "dash-folder") and not tags:
            folders = sorted(self.folders.values(), key=lambda f: (f.title.lower(), f.id))
            for folder in folders:
                if text and text not in folder.title.lower():
                    continue
                if in_folders and folder.parent_uid not in in_folders:
                    continue
                if only_uids and folder.uid not in only_uids:
                    continue
                hits.append(
                    self._hit(
                        folder.id,
                        folder.uid,
                        folder.title,
                        folder.url,
                        "dash-folder",
                        [],
                        folder.parent_uid,
                    )
                )
        if kind in ("", "dash-db"):
            dashboards = sorted(self.dashboards.values(), key=lambda d: (d.title.lower(), d.id))
            for dash in dashboards:
                if text and text not in dash.title.lower():
                    continue
                if not all(tag in dash.tags for tag in tags):
                    continue
                if in_folders and dash.folder_uid not in in_folders:
                    continue
                if only_uids and dash.uid not in only_uids:
                    continue
                hits.append(
                    self._hit(
                        dash.id,
                        dash.uid,
                        dash.title,
                        dash.url,
                        "dash-db",
                        list(dash.tags),
                        dash.folder_uid,
                    )
                )
        return Response(200, _page(hits, query, max_limit=MAX_SEARCH_LIMIT))

    def _hit(
        self, id_: int, uid: str, title: str, url: str, kind: str, tags: list[str], parent: str
    ) -> Json:
        hit: Json = {
            "id": id_,
            "uid": uid,
            "title": title,
            "uri": f"db/{slugify(title)}",
            "url": url,
            "slug": "",
            "type": kind,
            "tags": tags,
            "isStarred": False,
            "sortMeta": 0,
        }
        folder = self.folders.get(parent) if parent else None
        if folder is not None:
            hit.update(
                folderId=folder.id,
                folderUid=folder.uid,
                folderTitle=folder.title,
                folderUrl=folder.url,
            )
        return hit


def _parse_body(raw: bytes) -> Json:
    try:
        body = json.loads(raw) if raw.strip() else None
    except ValueError as exc:
        raise _bad_request() from exc
    if not isinstance(body, dict):
        raise _bad_request()
    return body


# ---------------------------------------------------------------------------------------------
# HTTP server and the public test API


@dataclass
class _Fault:
    method: str
    pattern: re.Pattern[str]
    status: int
    times: int
    headers: dict[str, str]
    body: Any
    apply: bool

    def matches(self, method: str, path: str) -> bool:
        return self.times > 0 and self.method in ("*", method) and bool(self.pattern.search(path))

    def response(self) -> Response:
        body = self.body
        if body is None:
            body = {"message": _DEFAULT_MESSAGES.get(self.status, "Error")}
        return Response(self.status, body)


class FakeGrafana(RecordsInternalErrors):
    """Grafana's folder, dashboard and search HTTP API on ``127.0.0.1``, held in memory.

    Use as a context manager (or ``start()``/``stop()``) and point an HTTP client at
    ``base_url`` with ``Authorization: Bearer <token>``::

        with FakeGrafana() as fake:
            headers = {"Authorization": f"Bearer {fake.token}"}
            with httpx.Client(base_url=fake.base_url, headers=headers) as client:
                client.post("/api/folders", json={"uid": "team-a", "title": "Team A"})
                client.post(
                    "/api/dashboards/db",
                    json={"dashboard": {"uid": "svc", "title": "svc"}, "folderUid": "team-a"},
                )
            assert fake.dashboard("svc")["folderUid"] == "team-a"
    """

    def __init__(self, token: str = "grafana-test-token") -> None:
        super().__init__()
        self.token = token
        self.calls: list[Call] = []
        self._calls_lock = threading.Lock()
        self._faults: list[_Fault] = []
        self._faults_lock = threading.Lock()
        self._api = GrafanaApi()
        self._server: FakeServer | None = None
        self._base_url: str | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeGrafana:
        if self._server is not None:
            return self
        self._server = FakeServer(self, "Grafana")
        port = self._server.server_address[1]
        self._base_url = f"http://127.0.0.1:{port}"
        self._server.serve_in_background(f"fake-grafana-{port}")
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.stop()

    def __enter__(self) -> FakeGrafana:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (no trailing slash)."""
        if self._base_url is None:
            raise RuntimeError("FakeGrafana is not started")
        return self._base_url

    # -- fault injection -------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        path_regex: str,
        status: int,
        times: int = 1,
        body: Any = None,
        *,
        headers: dict[str, str] | None = None,
        apply: bool = False,
    ) -> None:
        """Answer the next ``times`` requests matching ``method`` ("*": any) and
        ``re.search(path_regex, path)`` with ``status`` instead.

        Requests refused for auth do not use up a fault. ``body`` defaults to
        ``{"message": <a message for status>}``; ``headers`` are added to the reply (e.g.
        ``Retry-After``). With ``apply=True`` the request is carried out first and only its
        reply is replaced. Faults are consumed in the order they were added.
        """
        fault = _Fault(
            method.upper(),
            re.compile(path_regex),
            status,
            times,
            {k: str(v) for k, v in (headers or {}).items()},
            body,
            apply,
        )
        with self._faults_lock:
            self._faults.append(fault)

    def clear_faults(self) -> None:
        """Drop every fault not yet used up."""
        with self._faults_lock:
            self._faults.clear()

    def _take_fault(self, method: str, path: str) -> _Fault | None:
        with self._faults_lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.times -= 1
                    return fault
        return None

    # -- helpers for tests -----------------------------------------------------------------

    def dashboards(self) -> list[Json]:
        """Every stored dashboard, by uid: ``{"dashboard": <JSON model as stored, with id, uid
        and version>, "folderUid": <"" at the root>, "tags": [...], "message": <last save's
        message>}``. Copies: changing them does not change the fake."""
        with self._api.lock:
            items = sorted(self._api.dashboards.values(), key=lambda d: d.uid)
            return [self._dashboard_entry(d) for d in items]

    def dashboard(self, uid: str) -> Json | None:
        """The stored dashboard ``uid`` in the shape of :meth:`dashboards`, or ``None``."""
        with self._api.lock:
            found = self._api.dashboards.get(uid)
            return self._dashboard_entry(found) if found is not None else None

    def folders(self) -> list[Json]:
        """Every folder, by uid, as ``GET /api/folders/{uid}`` returns it (``parentUid`` and
        ``parents`` for nested ones)."""
        with self._api.lock:
            items = sorted(self._api.folders.values(), key=lambda f: f.uid)
            return [self._api.folder_json(f) for f in items]

    def write_calls(self) -> list[tuple[str, str]]:
        """(method, path) of every POST/PUT/PATCH/DELETE received, failed ones included."""
        with self._calls_lock:
            return [(c.method, c.path) for c in self.calls if c.method in WRITE_METHODS]

    @staticmethod
    def _dashboard_entry(dashboard: Dashboard) -> Json:
        return {
            "dashboard": copy.deepcopy(dashboard.model),
            "folderUid": dashboard.folder_uid,
            "tags": list(dashboard.tags),
            "message": dashboard.message,
        }

    # -- serving ---------------------------------------------------------------------------

    def serve(
        self, method: str, raw_path: str, auth: str | None, raw_body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        """Answer one HTTP request: (status, headers, body bytes). Called by the handler."""
        split = urlsplit(raw_path)
        path = split.path.rstrip("/") or "/"
        query = parse_qs(split.query, keep_blank_values=True)
        extra: dict[str, str] = {}
        try:
            response, extra = self._respond(method, path, query, auth, raw_body)
        except Exception as exc:  # a bug in the fake: say so instead of hanging the client
            self.record_internal_error(method, raw_path, exc)
            response = Response(500, {"message": f"FakeGrafana internal error: {exc!r}"})
        with self._calls_lock:
            self.calls.append(Call(method, path, response.status))
        headers = {"Content-Type": "application/json", **extra}
        payload = b"" if response.body is None else json.dumps(response.body).encode()
        return response.status, headers, payload

    def _respond(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        auth: str | None,
        raw_body: bytes,
    ) -> tuple[Response, dict[str, str]]:
        if path.startswith("/api/") and path != "/api/health" and not self._authorized(auth):
            return _unauthorized(), {}
        fault = self._take_fault(method, path)
        if fault is not None and not fault.apply:
            return fault.response(), fault.headers
        try:
            response = self._api.dispatch(method, path, query, raw_body)
        except ApiError as exc:
            response = Response(exc.code, exc.body())
        if fault is not None:
            return fault.response(), fault.headers
        return response, {}

    def _authorized(self, header: str | None) -> bool:
        scheme, _, value = (header or "").partition(" ")
        return scheme.lower() == "bearer" and bool(value) and value.strip() == self.token
